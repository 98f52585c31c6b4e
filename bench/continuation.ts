/**
 * bench:continuation — one continuation step of a large batch, with what it reads.
 *
 *   npm run -s bench:continuation -- [--n 10000] [--earlier 75000] [--wave 5000] [--json]
 *
 * Builds, on the in-memory table, a batch of n essays whose closed waves hold `earlier`
 * comparisons (written and closed by the real store, as the continuation leaves them: comparison
 * items, packed verdicts, ledger records) and whose latest wave of `wave` comparisons has every
 * callback in; then runs ONE step of the real continuation (real store, real engine: fit, decide,
 * close the wave, plan and send the next) and counts every DynamoDB request it makes, the bytes
 * those requests read and their read units (DynamoDB's rules: 4 KB units, halved when eventually
 * consistent), its wall time and the process's peak memory. The step runs twice on the same
 * state: in a cold function (nothing cached) and in the warm one that closed the earlier waves.
 * For reference it prints what reading every comparison item (the snapshot before the per-wave
 * ledger) reads, and the same step with a tenth of the history, to show that the read units follow
 * the latest wave, not the history.
 */

import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { itemSize, readUnits } from '#bench/support/ddb-cost.ts';
import { FakeTable } from '#bench/support/fake-table.ts';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { seededRandom } from '#domain/random.ts';
import type { ComparisonRecord } from '#domain/types.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import { domainEngine } from '#shared/workflow/engine.ts';
import type { WorkflowStore } from '#shared/workflow/ports.ts';
import type { Telemetry } from '#shared/workflow/telemetry.ts';
import { dynamoStore } from '#store/dynamo-store.ts';
import { batchPk, COMPARISON_PREFIX, iterationPrefix, META_SK } from '#store/keys.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    earlier: { type: 'string', default: '75000' },
    wave: { type: 'string', default: '5000' },
    json: { type: 'boolean', default: false },
  },
});

function count(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    process.stderr.write(
      `bench:continuation: --${name} must be a positive integer, got "${raw}"\n`,
    );
    process.exit(2);
  }
  return value;
}

const n = count('n', values.n);
const earlier = count('earlier', values.earlier);
const waveSize = Math.min(count('wave', values.wave), Math.floor(n / 2));
const now = new Date('2026-11-27T08:00:00.000Z');
const TABLE_NAME = 'cj-bench-table';
const silent: Telemetry = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  count: () => undefined,
  gauge: () => undefined,
  countWithDimension: () => undefined,
};

interface Reads {
  requests: Record<string, number>;
  bytes: number;
  readUnits: number;
}

/** A document client on the in-memory table whose every call is counted with what it read. */
function countedClient(table: FakeTable) {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    }),
  );
  table.attach(mockClient(client));
  const reads: Reads = { requests: {}, bytes: 0, readUnits: 0 };
  const send = client.send.bind(client) as (command: unknown) => Promise<Record<string, unknown>>;
  (client as unknown as { send: unknown }).send = async (command: {
    constructor: { name: string };
    input: Record<string, unknown>;
  }) => {
    const name = command.constructor.name.replace(/Command$/, '');
    reads.requests[name] = (reads.requests[name] ?? 0) + 1;
    const output = await send(command);
    const consistent = command.input.ConsistentRead === true;
    const sized = (items: Record<string, unknown>[]) => items.reduce((s, i) => s + itemSize(i), 0);
    if (name === 'Get' && output.Item) {
      const bytes = itemSize(output.Item as Record<string, unknown>);
      reads.bytes += bytes;
      reads.readUnits += readUnits(bytes, consistent);
    } else if (name === 'Query') {
      const bytes = sized((output.Items as Record<string, unknown>[]) ?? []);
      reads.bytes += bytes;
      reads.readUnits += readUnits(bytes, consistent);
    } else if (name === 'BatchGet') {
      for (const items of Object.values(
        (output.Responses as Record<string, Record<string, unknown>[]>) ?? {},
      )) {
        for (const item of items) {
          reads.bytes += itemSize(item);
          reads.readUnits += readUnits(itemSize(item));
        }
      }
    }
    return output;
  };
  return { client, reads };
}

/** Terminal verdicts for wave `iteration` as the callbacks would leave them (5 % failures). */
function settleWave(
  table: FakeTable,
  batchId: string,
  iteration: number,
  quality: Float64Array,
  random: () => number,
) {
  const records: ComparisonRecord[] = [];
  let completed = 0;
  let failed = 0;
  const prefix = iterationPrefix(iteration);
  for (const item of table.items.values()) {
    if (item.pk !== batchPk(batchId) || !String(item.sk).startsWith(prefix)) continue;
    item.recorded_at = now.toISOString();
    const a = Number(item.a);
    const b = Number(item.b);
    if (random() < 0.05) {
      item.status = 'FAILED';
      item.failure_kind = 'provider_error';
      failed += 1;
    } else {
      const pA = 1 / (1 + Math.exp((quality[b] ?? 0) - (quality[a] ?? 0)));
      item.status = 'COMPLETED';
      item.winner = random() < pA ? 'A' : 'B';
      completed += 1;
    }
  }
  const items = [...table.items.values()]
    .filter((item) => item.pk === batchPk(batchId) && String(item.sk).startsWith(prefix))
    .sort((x, y) => String(x.sk).localeCompare(String(y.sk)));
  for (const item of items) {
    records.push({
      a: Number(item.a),
      b: Number(item.b),
      status: item.status as 'COMPLETED' | 'FAILED',
      kind: 'coverage',
      iteration,
      attempt: 1,
      ...(item.winner ? { winner: item.winner as 'A' | 'B' } : {}),
      ...(item.failure_kind ? { failureKind: 'provider_error' as const } : {}),
    });
  }
  const meta = table.get(batchPk(batchId), META_SK)!;
  meta.completed_comparisons = Number(meta.completed_comparisons) + completed;
  meta.failed_comparisons = Number(meta.failed_comparisons) + failed;
  return records;
}

/** A batch with `history` comparisons in closed waves and a latest wave with every callback in. */
async function buildBatch(
  table: FakeTable,
  store: WorkflowStore,
  batchId: string,
  history: number,
) {
  const random = seededRandom(history);
  const quality = Float64Array.from({ length: n }, () => 1.5 * (random() * 2 - 1) * Math.sqrt(3));
  await store.createBatch({
    batchId,
    owner: 'arn:aws:iam::123456789012:user/cj-test',
    essayCount: n,
    totalBudget: history + 3 * waveSize,
    config: {},
    judge: { provider: 'mock', profile: 'default' },
    now,
  });
  for (let offset = 0; offset < n; offset += 1000) {
    const page = Array.from({ length: Math.min(1000, n - offset) }, (_, i) => ({
      id: `e${offset + i}`,
      text: `essay ${offset + i}`,
    }));
    await store.putEssayPage(batchId, offset, page, now);
  }
  await store.startBatch(batchId, now);
  const waves = Math.ceil(history / waveSize) + 1;
  for (let iteration = 1; iteration <= waves; iteration++) {
    const size =
      iteration < waves ? Math.min(waveSize, history - (iteration - 1) * waveSize) : waveSize;
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    const pairs = Array.from({ length: size }, (_, i) => ({
      a: order[2 * i] as number,
      b: order[2 * i + 1] as number,
      kind: 'coverage' as const,
      attempt: 1,
    }));
    await store.planWave(batchId, {
      expectedIteration: iteration - 1,
      pairs,
      resamplingPassCount: 0,
      deadline: new Date(now.getTime() + 900_000),
      now,
    });
    const records = settleWave(table, batchId, iteration, quality, random);
    if (iteration < waves) {
      await store.closeWave(batchId, {
        iteration,
        createdAt: now.toISOString(),
        records,
        lastCallbackAt: now.toISOString(),
        timedOut: 0,
        nextDecision: 'REQUEST_MORE_COMPARISONS',
        nextReason: 'coverage_incomplete',
        keepVerdicts: true,
        now,
      });
    }
  }
  return waves;
}

function resetReads(reads: Reads): void {
  reads.requests = {};
  reads.bytes = 0;
  reads.readUnits = 0;
}

/** One continuation step, in a function whose store is `store` (its caches warm or cold). */
async function step(store: WorkflowStore, reads: Reads, batchId: string, iteration: number) {
  resetReads(reads);
  const sent: number[] = [];
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const started = performance.now();
  const outcome = await runContinuation(
    {
      store,
      messaging: {
        sendComparisonRequests: async (requests) => {
          sent.push(requests.length);
        },
        publishBatchEvent: async () => undefined,
      },
      telemetry: silent,
      engine: domainEngine,
      config: DEFAULT_CONFIG,
      now: () => now,
    },
    { v: 1, batch_id: batchId, iteration, cause: 'callbacks_drained' },
  );
  const ms = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return {
    outcome,
    ms,
    peakMb: peak / 2 ** 20,
    reads: structuredClone(reads),
    sent: sent.reduce((sum, k) => sum + k, 0),
  };
}

/** What reading every comparison item of the batch reads (the snapshot before the ledger). */
async function fullHistoryRead(client: DynamoDBDocumentClient, reads: Reads, batchId: string) {
  resetReads(reads);
  let startKey: Record<string, unknown> | undefined;
  do {
    const output = await client.send(
      new QueryCommand({
        TableName: TABLE_NAME,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': batchPk(batchId), ':prefix': COMPARISON_PREFIX },
        ConsistentRead: true,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    startKey = output.LastEvaluatedKey;
  } while (startKey);
  return structuredClone(reads);
}

async function scenario(history: number) {
  const table = new FakeTable();
  const { client, reads } = countedClient(table);
  const store = () => dynamoStore({ client, tableName: TABLE_NAME });
  const builder = store();
  const batchId = `bench-${history}`;
  const latest = await buildBatch(table, builder, batchId, history);
  const before = structuredClone(table.items);
  const cold = await step(store(), reads, batchId, latest);
  // The same state again, now in the warm function that closed the earlier waves.
  table.items.clear();
  for (const [key, item] of before) table.items.set(key, item);
  const warm = await step(builder, reads, batchId, latest);
  const full = await fullHistoryRead(client, reads, batchId);
  const summary = (s: Awaited<ReturnType<typeof step>>) => ({
    outcome: s.outcome,
    read_units: s.reads.readUnits,
    bytes_read: s.reads.bytes,
    requests: s.reads.requests,
    ms: Math.round(s.ms),
    peak_rss_mb: Math.round(s.peakMb),
    next_wave_sent: s.sent,
  });
  return {
    earlier_comparisons: history,
    latest_wave: waveSize,
    cold_function: summary(cold),
    warm_function: summary(warm),
    reference_read_every_comparison: {
      read_units: full.readUnits,
      bytes_read: full.bytes,
      requests: full.requests,
    },
  };
}

const runs = [
  await scenario(earlier),
  await scenario(Math.max(waveSize, Math.round(earlier / 10))),
];
const [main, small] = runs;
const result = {
  n,
  step: main,
  same_step_with_a_tenth_of_the_history: small,
  read_units_ratio_history_x10:
    main && small ? main.cold_function.read_units / small.cold_function.read_units : null,
};
if (values.json) console.log(JSON.stringify(result, null, 2));
else console.log(JSON.stringify(result));
