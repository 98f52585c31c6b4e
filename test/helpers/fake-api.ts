/**
 * A tiny in-memory stand-in for the engine's HTTP API, served over a real loopback connection, so
 * the CLI is tested through real HTTP without the local cloud. Each GET of a running batch
 * advances its counters by one step; `finalStatus` decides how it ends.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface FakeBatch {
  id: string;
  body: Record<string, unknown>;
  essays: Array<{ id: string; text: string; metadata?: Record<string, unknown> }>;
  status: string;
  completed: number;
  submitted: number;
  denominator: number;
  createdAt: string;
}

export interface FakeApiOptions {
  /** Status a batch ends in once all its comparisons are done; `null` keeps it running forever. */
  finalStatus?: string | null;
  /** Comparisons completed per state read. */
  step?: number;
  /**
   * Every Nth read of a batch (state or results) fails instead of answering, cycling through
   * `failures` (default: a 500, a 429 with Retry-After, a reset connection, a 503).
   */
  failEvery?: number;
  failures?: readonly FakeFailure[];
}

/** How a failing read fails: an HTTP status (429 with `Retry-After: 0`) or a dropped connection. */
export type FakeFailure = 500 | 502 | 503 | 429 | 'reset';

const DEFAULT_FAILURES: readonly FakeFailure[] = [500, 429, 'reset', 503];

export interface FakeApi {
  url: string;
  requests: RecordedRequest[];
  batches: Map<string, FakeBatch>;
  /** Reads answered with a failure (see `failEvery`). */
  failedReads: number;
  close(): Promise<void>;
}

function send(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function stateOf(batch: FakeBatch) {
  const pending = batch.submitted - batch.completed;
  return {
    batch_id: batch.id,
    status: batch.status,
    failure_reason: batch.status === 'FAILED' ? 'no_successful_comparisons' : null,
    essay_count: batch.essays.length,
    submitted_comparisons: batch.submitted,
    completed_comparisons: batch.completed,
    failed_comparisons: 0,
    pending_callbacks: pending,
    total_comparisons: batch.submitted,
    total_budget: batch.denominator,
    current_iteration: 1,
    completion_denominator: batch.denominator,
    created_at: batch.createdAt,
    updated_at: batch.createdAt,
    processing_metadata: {
      max_possible_pairs: (batch.essays.length * (batch.essays.length - 1)) / 2,
      successful_pairs_count: batch.completed,
      unique_coverage_complete: false,
      resampling_pass_count: 0,
    },
  };
}

export async function startFakeApi(options: FakeApiOptions = {}): Promise<FakeApi> {
  const finalStatus = options.finalStatus === undefined ? 'COMPLETE_STABLE' : options.finalStatus;
  const step = options.step ?? 5;
  const requests: RecordedRequest[] = [];
  const batches = new Map<string, FakeBatch>();
  const failures = options.failures ?? DEFAULT_FAILURES;
  let reads = 0;
  const fake = { failedReads: 0 };

  /** Fails this read when it is an Nth one; true when it answered (or dropped) already. */
  const failedThisRead = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    if (!options.failEvery || req.method !== 'GET') return false;
    reads += 1;
    if (reads % options.failEvery !== 0) return false;
    const failure = failures[(reads / options.failEvery - 1) % failures.length] ?? 500;
    fake.failedReads += 1;
    if (failure === 'reset') {
      req.socket.destroy();
    } else {
      res.writeHead(failure, {
        'content-type': 'application/json',
        ...(failure === 429 ? { 'retry-after': '0' } : {}),
      });
      res.end(JSON.stringify({ error: 'internal_error', message: `injected ${failure}` }));
    }
    return true;
  };

  /** One step of a running batch's progress (taken on each read of it). */
  const advance = (batch: FakeBatch) => {
    if (batch.status !== 'RUNNING') return;
    batch.submitted = Math.min(batch.denominator, batch.submitted + step);
    batch.completed = Math.min(batch.submitted, batch.completed + step);
    if (batch.completed >= batch.denominator && finalStatus !== null) {
      batch.status = finalStatus;
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = raw === '' ? undefined : (JSON.parse(raw) as Record<string, unknown>);
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      const parts = path.split('/').filter(Boolean);
      const batch = parts[0] === 'batches' && parts[1] ? batches.get(parts[1]) : undefined;

      if (req.method === 'POST' && path === '/batches') {
        const essays = (body?.essays as FakeBatch['essays'] | undefined) ?? [];
        if (body?.essay_count === undefined && essays.length < 2) {
          send(res, 400, {
            error: 'validation_error',
            field: 'essays',
            message: 'need at least 2 essays',
          });
          return;
        }
        const id = `batch-${batches.size + 1}`;
        const created: FakeBatch = {
          id,
          body: body ?? {},
          essays: [...essays],
          status: essays.length > 0 ? 'RUNNING' : 'PENDING_ESSAYS',
          completed: 0,
          submitted: 0,
          denominator: typeof body?.budget === 'number' ? body.budget : 20,
          // A second apart, in creation order.
          createdAt: new Date(Date.UTC(2026, 10, 27, 8, 0, batches.size)).toISOString(),
        };
        batches.set(id, created);
        send(res, 201, stateOf(created));
        return;
      }
      if (req.method === 'GET' && path === '/batches') {
        // Every batch newest first, in one page; each list read advances running batches as a
        // state read does.
        if (failedThisRead(req, res)) return;
        const listed = [...batches.values()].reverse();
        for (const each of listed) advance(each);
        const status = new URL(req.url ?? '/', 'http://fake').searchParams.get('status');
        send(res, 200, {
          v: 1,
          batches: listed
            .filter((each) => status === null || each.status === status)
            .map((each) => {
              const { processing_metadata: _metadata, ...summary } = stateOf(each);
              return summary;
            }),
        });
        return;
      }
      if (batch && failedThisRead(req, res)) return;
      if (!batch) {
        send(res, 404, { error: 'not_found', field: 'batch_id', message: 'no such batch' });
        return;
      }
      const action = parts[2];
      if (req.method === 'POST' && action === 'essays') {
        if (body?.offset !== batch.essays.length) {
          send(res, 400, {
            error: 'validation_error',
            field: 'offset',
            message: 'pages must arrive in order',
          });
          return;
        }
        batch.essays.push(...((body?.essays as FakeBatch['essays'] | undefined) ?? []));
        send(res, 200, stateOf(batch));
      } else if (req.method === 'POST' && action === 'start') {
        batch.status = 'RUNNING';
        send(res, 200, stateOf(batch));
      } else if (req.method === 'POST' && action === 'cancel') {
        if (batch.status !== 'RUNNING' && batch.status !== 'CANCELLED') {
          send(res, 409, {
            error: 'conflict',
            field: 'status',
            message: `batch is already ${batch.status}`,
          });
          return;
        }
        batch.status = 'CANCELLED';
        send(res, 200, stateOf(batch));
      } else if (req.method === 'GET' && action === undefined) {
        advance(batch);
        send(res, 200, stateOf(batch));
      } else if (req.method === 'GET' && action === 'results') {
        const results = batch.essays.map((essay, index) => ({
          id: essay.id,
          score: batch.essays.length - index - (batch.essays.length + 1) / 2,
          se: 0.5,
          rank: index + 1,
          comparisons: 4,
          wins: batch.essays.length - index,
        }));
        send(res, 200, { v: 1, batch_id: batch.id, status: batch.status, essays: results });
      } else {
        send(res, 404, { error: 'not_found', field: 'path', message: 'no such route' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    batches,
    get failedReads() {
      return fake.failedReads;
    },
    close: () =>
      new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
