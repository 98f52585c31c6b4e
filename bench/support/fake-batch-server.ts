/**
 * Local fake servers on 127.0.0.1 (random port) speaking each provider's batch API shape, for unit
 * and integration tests of judge.mode provider_batch:
 *
 * - OpenAI Batch API: `POST /v1/files` (multipart, purpose=batch), `POST /v1/batches`,
 *   `GET /v1/batches[?limit&after]`, `GET /v1/batches/{id}`, `POST /v1/batches/{id}/cancel`,
 *   `GET /v1/files/{id}/content` (output and error files), `DELETE /v1/files/{id}`.
 * - Anthropic Message Batches: `POST /v1/messages/batches`, `GET /v1/messages/batches[?limit&after_id]`,
 *   `GET /v1/messages/batches/{id}`, `POST /v1/messages/batches/{id}/cancel`, the `results_url`
 *   (`GET /v1/messages/batches/{id}/results`), `DELETE /v1/messages/batches/{id}`.
 *
 * Each created batch follows a behaviour (per batch, by creation order): a completion delay,
 * per-request errors, missing results, expiry (some or all requests unfinished), a refused input,
 * and filler lines that make the results file as large as a test needs — results are written as
 * a stream, so the fake never holds a large file either. Answers come from `respond` (the same
 * replies as the synchronous fake, `#bench/support/fake-llm-server.ts`). Every call is recorded.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  anthropicBody,
  FAKE_INPUT_TOKENS,
  FAKE_OUTPUT_TOKENS,
  type FakeReply,
  openAiBody,
  promptTextOf,
} from '#bench/support/fake-llm-server.ts';

export type FakeBatchDialect = 'openai' | 'anthropic';

/** What happens to one request of a batch instead of an answer. */
export type FakeRequestFault =
  /** Anthropic `errored` / OpenAI error line with this error type/code. */
  | { kind: 'errored'; type: string }
  /** OpenAI: an error-file line whose response has this HTTP status. */
  | { kind: 'status'; status: number }
  /** No results line at all for this request. */
  | { kind: 'missing' };

export interface FakeBatchBehaviour {
  /** Milliseconds from creation until the batch ends. Default 0 (ended at the first poll). */
  completionDelayMs?: number;
  /** Polls (GET of the batch) answered as running before it ends, whatever the time. */
  runningPolls?: number;
  /** The batch expires instead of completing; the first `finished` requests still get answers. */
  expire?: { finished: number };
  /** OpenAI: the input is refused (status `failed`, no results). */
  refuse?: boolean;
  /** Per-request faults by custom_id and position in the batch. */
  fault?: (customId: string, index: number) => FakeRequestFault | undefined;
  /** Lines appended to the results for custom ids that are not in the batch, to make it large. */
  filler?: { lines: number; bytesPerLine: number };
  /** Batch-level polls answered `cancelling` after a cancel before it ends (default 1). */
  cancellingPolls?: number;
  /** The results download sends this many lines and then stalls (never ends). */
  stallAfterLines?: number;
  /**
   * After the results: a line that is not JSON, one without a custom_id, one for a custom_id of
   * another wave, and the first request's line once more.
   */
  oddLines?: boolean;
}

export interface FakeBatchRequest {
  customId: string;
  /** OpenAI: the line's `body`; Anthropic: the request's `params`. */
  body: Record<string, unknown>;
  promptText: string;
}

export interface FakeBatch {
  id: string;
  index: number;
  createdAtMs: number;
  requests: FakeBatchRequest[];
  metadata: Record<string, unknown>;
  behaviour: FakeBatchBehaviour;
  cancelRequestedAtPoll: number | null;
  polls: number;
  inputFileId?: string;
  deleted: boolean;
}

export interface RecordedCall {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** Size of the request body in bytes (uploads are not kept). */
  bytes: number;
}

export interface FakeBatchServerOptions {
  dialect: FakeBatchDialect;
  /** Answer of one request (default: essay A wins with confidence 4). */
  respond?: (request: FakeBatchRequest) => FakeReply;
  /** Behaviour of the n-th created batch (0-based). */
  behaviour?: (index: number) => FakeBatchBehaviour;
  inputTokens?: number;
  outputTokens?: number;
  /** Fail the create call (`POST /v1/batches` or `/v1/messages/batches`) with these statuses, in order. */
  createFailures?: number[];
  /** Creates (0-based, by order) that are accepted and then answered by a dropped connection. */
  dropCreateResponses?: readonly number[];
  /** OpenAI dialect: serve calls without a key, as a self-hosted server may (default: 401). */
  keyless?: boolean;
}

export interface FakeBatchServer {
  /** `http://127.0.0.1:PORT`; OpenAI base URL = origin + `/v1`, Anthropic = origin. */
  origin: string;
  calls: RecordedCall[];
  batches: FakeBatch[];
  /** Create calls (successful or not) per path. */
  creates(): number;
  close(): Promise<void>;
}

const DEFAULT_REPLY: FakeReply = { kind: 'answer', winner: 'A', confidence: 4 };

type Outcome =
  | { type: 'answer'; reply: FakeReply }
  | { type: 'fault'; fault: Exclude<FakeRequestFault, { kind: 'missing' }> }
  | { type: 'expired' }
  | { type: 'canceled' }
  | { type: 'missing' };

type BatchState =
  | { phase: 'running' }
  | { phase: 'cancelling' }
  | { phase: 'ended'; result: 'completed' | 'expired' | 'cancelled' | 'failed' };

async function readRaw(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function errorBody(type: string, message: string): unknown {
  return { error: { type, message, code: type } };
}

/**
 * Writes lines with backpressure, so a large results file is streamed, never built whole; with
 * `stallAfter`, stops writing after that many lines and never ends the response.
 */
async function writeLines(
  res: ServerResponse,
  lines: Iterable<string>,
  stallAfter?: number,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/jsonl' });
  let written = 0;
  for (const line of lines) {
    if (stallAfter !== undefined && written >= stallAfter) return;
    if (!res.write(`${line}\n`)) await once(res, 'drain');
    written += 1;
  }
  res.end();
}

/** The unreadable and foreign lines of `oddLines` (the repeated line is the dialect's own). */
function* oddLines(): Generator<string> {
  yield '{"custom_id": "000001-000000", "cut short';
  yield JSON.stringify({ id: 'no-custom-id' });
  yield JSON.stringify({ custom_id: '999999-000000' });
}

function fillerLines(filler: FakeBatchBehaviour['filler']): Iterable<string> {
  if (!filler) return [];
  return (function* () {
    const pad = 'x'.repeat(Math.max(0, filler.bytesPerLine - 80));
    for (let index = 0; index < filler.lines; index += 1) {
      yield JSON.stringify({ custom_id: `filler-${index}`, padding: pad });
    }
  })();
}

/** Parses a multipart/form-data body (small test uploads) into its named parts. */
function parseMultipart(raw: Buffer, contentType: string): Map<string, Buffer> {
  const boundary = /boundary=([^;]+)/.exec(contentType)?.[1];
  const parts = new Map<string, Buffer>();
  if (!boundary) return parts;
  const delimiter = Buffer.from(`--${boundary}`);
  let start = raw.indexOf(delimiter);
  while (start !== -1) {
    const next = raw.indexOf(delimiter, start + delimiter.length);
    if (next === -1) break;
    const part = raw.subarray(start + delimiter.length + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const name = /name="([^"]+)"/.exec(headers)?.[1];
      if (name) parts.set(name, part.subarray(headerEnd + 4));
    }
    start = next;
  }
  return parts;
}

export async function startFakeBatchServer(
  options: FakeBatchServerOptions,
): Promise<FakeBatchServer> {
  const calls: RecordedCall[] = [];
  const batches: FakeBatch[] = [];
  const files = new Map<string, { lines: string[]; purpose: string }>();
  const createFailures = [...(options.createFailures ?? [])];
  const dropCreates = new Set(options.dropCreateResponses ?? []);
  let fileCounter = 0;
  const tokens: [number, number] = [
    options.inputTokens ?? FAKE_INPUT_TOKENS,
    options.outputTokens ?? FAKE_OUTPUT_TOKENS,
  ];
  const respond = options.respond ?? (() => DEFAULT_REPLY);
  const anthropic = options.dialect === 'anthropic';

  const stateOf = (batch: FakeBatch, poll: boolean): BatchState => {
    if (poll) batch.polls += 1;
    if (batch.behaviour.refuse) return { phase: 'ended', result: 'failed' };
    if (batch.cancelRequestedAtPoll !== null) {
      const waited = batch.polls - batch.cancelRequestedAtPoll;
      return waited < (batch.behaviour.cancellingPolls ?? 1)
        ? { phase: 'cancelling' }
        : { phase: 'ended', result: 'cancelled' };
    }
    if (Date.now() - batch.createdAtMs < (batch.behaviour.completionDelayMs ?? 0)) {
      return { phase: 'running' };
    }
    if (batch.polls <= (batch.behaviour.runningPolls ?? 0)) return { phase: 'running' };
    return { phase: 'ended', result: batch.behaviour.expire ? 'expired' : 'completed' };
  };

  const outcomeOf = (batch: FakeBatch, request: FakeBatchRequest, index: number): Outcome => {
    const state = stateOf(batch, false);
    const fault = batch.behaviour.fault?.(request.customId, index);
    if (fault?.kind === 'missing') return { type: 'missing' };
    if (state.phase === 'ended' && state.result === 'cancelled') return { type: 'canceled' };
    if (batch.behaviour.expire && index >= batch.behaviour.expire.finished) {
      return { type: 'expired' };
    }
    if (fault) return { type: 'fault', fault };
    return { type: 'answer', reply: respond(request) };
  };

  const modelOf = (request: FakeBatchRequest): string =>
    typeof request.body.model === 'string' ? request.body.model : 'unknown';

  // --- OpenAI --------------------------------------------------------------------------------
  const openAiBatchObject = (batch: FakeBatch): Record<string, unknown> => {
    const state = stateOf(batch, false);
    const ended = state.phase === 'ended';
    const outcomes = batch.requests.map((request, index) => outcomeOf(batch, request, index));
    const completed = ended ? outcomes.filter((o) => o.type === 'answer').length : 0;
    const failed = ended ? outcomes.filter((o) => o.type !== 'answer').length : 0;
    const status =
      state.phase === 'ended'
        ? state.result
        : state.phase === 'cancelling'
          ? 'cancelling'
          : Date.now() - batch.createdAtMs < 5
            ? 'validating'
            : 'in_progress';
    const hasErrors = ended && state.result !== 'failed' && failed > 0;
    const hasOutput = ended && state.result !== 'failed';
    return {
      id: batch.id,
      object: 'batch',
      endpoint: '/v1/chat/completions',
      errors:
        state.phase === 'ended' && state.result === 'failed'
          ? { object: 'list', data: [{ code: 'invalid_request', message: 'refused by the fake' }] }
          : null,
      input_file_id: batch.inputFileId,
      completion_window: '24h',
      status,
      output_file_id: hasOutput ? `file-out-${batch.id}` : null,
      error_file_id: hasErrors ? `file-err-${batch.id}` : null,
      created_at: Math.floor(batch.createdAtMs / 1000),
      request_counts: {
        total: status === 'validating' ? 0 : batch.requests.length,
        completed,
        failed,
      },
      metadata: batch.metadata,
    };
  };

  const openAiLine = (batch: FakeBatch, request: FakeBatchRequest, outcome: Outcome): string => {
    const base = { id: `batch_req_${request.customId}`, custom_id: request.customId };
    switch (outcome.type) {
      case 'answer':
        return JSON.stringify({
          ...base,
          response: {
            status_code: 200,
            request_id: `req_${request.customId}`,
            body: openAiBody(outcome.reply, modelOf(request), tokens),
          },
          error: null,
        });
      case 'fault':
        if (outcome.fault.kind === 'status') {
          return JSON.stringify({
            ...base,
            response: {
              status_code: outcome.fault.status,
              request_id: `req_${request.customId}`,
              body: errorBody('invalid_request_error', 'fake'),
            },
            error: null,
          });
        }
        return JSON.stringify({
          ...base,
          response: null,
          error: { code: outcome.fault.type, message: 'fake error' },
        });
      case 'expired':
        return JSON.stringify({
          ...base,
          response: null,
          error: { code: 'batch_expired', message: 'not executed before the window ended' },
        });
      case 'canceled':
        return JSON.stringify({
          ...base,
          response: null,
          error: { code: 'batch_cancelled', message: 'cancelled before it ran' },
        });
      case 'missing':
        return '';
    }
    return batch.id;
  };

  /** Lines produced one at a time (a large file is never held by the fake either). */
  const openAiFileLines = function* (batch: FakeBatch, kind: 'out' | 'err'): Generator<string> {
    // Results in reverse order: the provider promises no order.
    for (let index = batch.requests.length - 1; index >= 0; index -= 1) {
      const request = batch.requests[index] as FakeBatchRequest;
      const outcome = outcomeOf(batch, request, index);
      if (outcome.type === 'missing') continue;
      if ((outcome.type === 'answer') !== (kind === 'out')) continue;
      yield openAiLine(batch, request, outcome);
    }
    if (kind === 'out') yield* fillerLines(batch.behaviour.filler);
    const first = batch.requests[0];
    if (kind === 'out' && batch.behaviour.oddLines && first) {
      yield* oddLines();
      const outcome = outcomeOf(batch, first, 0);
      if (outcome.type === 'answer') yield openAiLine(batch, first, outcome);
    }
  };

  const handleOpenAi = async (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
    raw: Buffer,
  ): Promise<void> => {
    if (!options.keyless && !req.headers.authorization?.startsWith('Bearer ')) {
      json(res, 401, errorBody('invalid_api_key', 'no key'));
      return;
    }
    if (req.method === 'POST' && path === '/v1/files') {
      const parts = parseMultipart(raw, req.headers['content-type'] ?? '');
      const purpose = parts.get('purpose')?.toString('utf8') ?? '';
      const file = parts.get('file');
      if (purpose !== 'batch' || !file) {
        json(res, 400, errorBody('invalid_request_error', 'purpose=batch and a file required'));
        return;
      }
      const id = `file-in-${++fileCounter}`;
      const lines = file
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== '');
      files.set(id, { lines, purpose });
      json(res, 200, { id, object: 'file', bytes: file.length, purpose: 'batch' });
      return;
    }
    if (req.method === 'POST' && path === '/v1/batches') {
      const body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
      const failure = createFailures.shift();
      if (failure !== undefined) {
        json(res, failure, errorBody('server_error', 'fake create failure'));
        return;
      }
      const file = files.get(String(body.input_file_id));
      if (!file || body.endpoint !== '/v1/chat/completions' || body.completion_window !== '24h') {
        json(res, 400, errorBody('invalid_request_error', 'bad batch request'));
        return;
      }
      const requests: FakeBatchRequest[] = [];
      const seen = new Set<string>();
      for (const line of file.lines) {
        const parsed = JSON.parse(line) as {
          custom_id: string;
          method: string;
          url: string;
          body: Record<string, unknown>;
        };
        if (parsed.method !== 'POST' || parsed.url !== '/v1/chat/completions') {
          json(res, 400, errorBody('invalid_request_error', 'bad line'));
          return;
        }
        if (seen.has(parsed.custom_id)) {
          json(res, 400, errorBody('invalid_request_error', 'duplicate custom_id'));
          return;
        }
        seen.add(parsed.custom_id);
        requests.push({
          customId: parsed.custom_id,
          body: parsed.body,
          promptText: promptTextOf(parsed.body),
        });
      }
      const index = batches.length;
      const batch: FakeBatch = {
        id: `batch_fake${String(index).padStart(4, '0')}`,
        index,
        createdAtMs: Date.now(),
        requests,
        metadata: (body.metadata as Record<string, unknown> | undefined) ?? {},
        behaviour: options.behaviour?.(index) ?? {},
        cancelRequestedAtPoll: null,
        polls: 0,
        inputFileId: String(body.input_file_id),
        deleted: false,
      };
      batches.push(batch);
      if (dropCreates.has(index)) {
        req.socket.destroy();
        return;
      }
      json(res, 200, openAiBatchObject(batch));
      return;
    }
    if (req.method === 'GET' && path === '/v1/batches') {
      const limit = Number(query.get('limit') ?? 20);
      const after = query.get('after');
      const newestFirst = [...batches].reverse();
      const start = after ? newestFirst.findIndex((batch) => batch.id === after) + 1 : 0;
      const page = newestFirst.slice(start, start + limit);
      json(res, 200, {
        object: 'list',
        data: page.map(openAiBatchObject),
        has_more: start + limit < newestFirst.length,
        first_id: page[0]?.id ?? null,
        last_id: page.at(-1)?.id ?? null,
      });
      return;
    }
    const batchMatch = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
    if (batchMatch) {
      const batch = batches.find((candidate) => candidate.id === batchMatch[1]);
      if (!batch) {
        json(res, 404, errorBody('not_found', 'no such batch'));
        return;
      }
      if (batchMatch[2] && req.method === 'POST') {
        const state = stateOf(batch, false);
        if (state.phase === 'running') batch.cancelRequestedAtPoll = batch.polls;
        json(res, 200, openAiBatchObject(batch));
        return;
      }
      if (req.method === 'GET' && !batchMatch[2]) {
        stateOf(batch, true);
        json(res, 200, openAiBatchObject(batch));
        return;
      }
    }
    const fileMatch = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(path);
    if (fileMatch) {
      const fileId = fileMatch[1] ?? '';
      const result = /^file-(out|err)-(.+)$/.exec(fileId);
      const batch = result ? batches.find((candidate) => candidate.id === result[2]) : undefined;
      if (req.method === 'DELETE') {
        files.delete(fileId);
        json(res, 200, { id: fileId, object: 'file', deleted: true });
        return;
      }
      if (req.method === 'GET' && fileMatch[2] && batch && result) {
        await writeLines(
          res,
          openAiFileLines(batch, result[1] as 'out' | 'err'),
          batch.behaviour.stallAfterLines,
        );
        return;
      }
    }
    json(res, 404, errorBody('not_found', 'unknown route'));
  };

  // --- Anthropic -----------------------------------------------------------------------------
  const anthropicBatchObject = (batch: FakeBatch, origin: string): Record<string, unknown> => {
    const state = stateOf(batch, false);
    const ended = state.phase === 'ended';
    const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    batch.requests.forEach((request, index) => {
      if (!ended) {
        counts.processing += 1;
        return;
      }
      const outcome = outcomeOf(batch, request, index);
      if (outcome.type === 'answer') counts.succeeded += 1;
      else if (outcome.type === 'expired') counts.expired += 1;
      else if (outcome.type === 'canceled') counts.canceled += 1;
      else counts.errored += 1;
    });
    return {
      id: batch.id,
      type: 'message_batch',
      processing_status:
        state.phase === 'ended'
          ? 'ended'
          : state.phase === 'cancelling'
            ? 'canceling'
            : 'in_progress',
      request_counts: counts,
      ended_at: ended ? new Date().toISOString() : null,
      created_at: new Date(batch.createdAtMs).toISOString(),
      expires_at: new Date(batch.createdAtMs + 24 * 3600 * 1000).toISOString(),
      cancel_initiated_at: batch.cancelRequestedAtPoll === null ? null : new Date().toISOString(),
      results_url: ended ? `${origin}/v1/messages/batches/${batch.id}/results` : null,
    };
  };

  const anthropicLine = (request: FakeBatchRequest, outcome: Outcome): string => {
    const base = { custom_id: request.customId };
    switch (outcome.type) {
      case 'answer':
        return JSON.stringify({
          ...base,
          result: {
            type: 'succeeded',
            message: anthropicBody(outcome.reply, modelOf(request), tokens),
          },
        });
      case 'fault':
        return JSON.stringify({
          ...base,
          result: {
            type: 'errored',
            error: {
              type: 'error',
              error: {
                type: outcome.fault.kind === 'errored' ? outcome.fault.type : 'api_error',
                message: 'fake',
              },
            },
          },
        });
      case 'expired':
        return JSON.stringify({ ...base, result: { type: 'expired' } });
      case 'canceled':
        return JSON.stringify({ ...base, result: { type: 'canceled' } });
      case 'missing':
        return '';
    }
    return '';
  };

  const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;

  const handleAnthropic = async (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
    raw: Buffer,
    origin: string,
  ): Promise<void> => {
    if (!req.headers['x-api-key'] || !req.headers['anthropic-version']) {
      json(res, 401, { type: 'error', error: { type: 'authentication_error', message: 'key' } });
      return;
    }
    if (req.method === 'POST' && path === '/v1/messages/batches') {
      const failure = createFailures.shift();
      if (failure !== undefined) {
        json(res, failure, { type: 'error', error: { type: 'api_error', message: 'fake' } });
        return;
      }
      const body = JSON.parse(raw.toString('utf8') || '{}') as {
        requests?: Array<{ custom_id: string; params: Record<string, unknown> }>;
      };
      const list = body.requests ?? [];
      const seen = new Set<string>();
      if (list.length === 0 || list.length > 100_000 || raw.length > 256 * 1024 * 1024) {
        json(res, 400, {
          type: 'error',
          error: { type: 'invalid_request_error', message: 'size' },
        });
        return;
      }
      for (const item of list) {
        if (!CUSTOM_ID.test(item.custom_id) || seen.has(item.custom_id)) {
          json(res, 400, {
            type: 'error',
            error: { type: 'invalid_request_error', message: 'custom_id' },
          });
          return;
        }
        seen.add(item.custom_id);
      }
      const index = batches.length;
      const batch: FakeBatch = {
        id: `msgbatch_fake${String(index).padStart(4, '0')}`,
        index,
        createdAtMs: Date.now(),
        requests: list.map((item) => ({
          customId: item.custom_id,
          body: item.params,
          promptText: promptTextOf(item.params),
        })),
        metadata: {},
        behaviour: options.behaviour?.(index) ?? {},
        cancelRequestedAtPoll: null,
        polls: 0,
        deleted: false,
      };
      batches.push(batch);
      if (dropCreates.has(index)) {
        req.socket.destroy();
        return;
      }
      json(res, 200, anthropicBatchObject(batch, origin));
      return;
    }
    if (req.method === 'GET' && path === '/v1/messages/batches') {
      const limit = Number(query.get('limit') ?? 20);
      const after = query.get('after_id');
      const newestFirst = batches.filter((batch) => !batch.deleted).reverse();
      const start = after ? newestFirst.findIndex((batch) => batch.id === after) + 1 : 0;
      const page = newestFirst.slice(start, start + limit);
      json(res, 200, {
        data: page.map((batch) => anthropicBatchObject(batch, origin)),
        has_more: start + limit < newestFirst.length,
        first_id: page[0]?.id ?? null,
        last_id: page.at(-1)?.id ?? null,
      });
      return;
    }
    const match = /^\/v1\/messages\/batches\/([^/]+)(\/cancel|\/results)?$/.exec(path);
    const batch = match ? batches.find((candidate) => candidate.id === match[1]) : undefined;
    if (match && (!batch || batch.deleted)) {
      json(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'no batch' } });
      return;
    }
    if (match && batch) {
      if (req.method === 'POST' && match[2] === '/cancel') {
        if (stateOf(batch, false).phase === 'running') batch.cancelRequestedAtPoll = batch.polls;
        json(res, 200, anthropicBatchObject(batch, origin));
        return;
      }
      if (req.method === 'GET' && match[2] === '/results') {
        if (stateOf(batch, false).phase !== 'ended') {
          json(res, 400, {
            type: 'error',
            error: { type: 'invalid_request_error', message: 'not ended' },
          });
          return;
        }
        const lines = function* (): Generator<string> {
          for (let index = batch.requests.length - 1; index >= 0; index -= 1) {
            const request = batch.requests[index] as FakeBatchRequest;
            const outcome = outcomeOf(batch, request, index);
            if (outcome.type !== 'missing') yield anthropicLine(request, outcome);
          }
          yield* fillerLines(batch.behaviour.filler);
          const first = batch.requests[0];
          if (batch.behaviour.oddLines && first) {
            yield* oddLines();
            const outcome = outcomeOf(batch, first, 0);
            if (outcome.type !== 'missing') yield anthropicLine(first, outcome);
          }
        };
        await writeLines(res, lines(), batch.behaviour.stallAfterLines);
        return;
      }
      if (req.method === 'DELETE' && !match[2]) {
        batch.deleted = true;
        json(res, 200, { id: batch.id, type: 'message_batch_deleted' });
        return;
      }
      if (req.method === 'GET' && !match[2]) {
        stateOf(batch, true);
        json(res, 200, anthropicBatchObject(batch, origin));
        return;
      }
    }
    json(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'route' } });
  };

  let origin = '';
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    readRaw(req)
      .then(async (raw) => {
        calls.push({
          method: req.method ?? '',
          path: url.pathname,
          headers: req.headers,
          bytes: raw.length,
        });
        if (anthropic) await handleAnthropic(req, res, url.pathname, url.searchParams, raw, origin);
        else await handleOpenAi(req, res, url.pathname, url.searchParams, raw);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  const createPath = anthropic ? '/v1/messages/batches' : '/v1/batches';
  return {
    origin,
    calls,
    batches,
    creates: () =>
      calls.filter((call) => call.method === 'POST' && call.path === createPath).length,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
