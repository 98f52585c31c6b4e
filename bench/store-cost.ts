/**
 * Item sizes and DynamoDB capacity units of the store's operations, measured by running the real
 * store against the in-memory table (no AWS): one callback, planning one wave, a snapshot, and the
 * big items at n = 10,000. Prints JSON. Run: `npm run bench:store-cost`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { itemSize, readUnits, writeUnits } from '#bench/support/ddb-cost.ts';
import { FakeTable } from '#bench/support/fake-table.ts';
import { DEFAULT_IN_FLIGHT_CAPS } from '#domain/in-flight.ts';
import { seededRandom } from '#domain/random.ts';
import { buildResultRows } from '#messages/state.ts';
import { dynamoStore } from '#store/dynamo-store.ts';
import {
  batchPk,
  comparisonSk,
  essayIdsSk,
  essaySk,
  itemKey,
  META_SK,
  resultsSk,
  scoresSk,
} from '#store/keys.ts';
import { TTL_ATTRIBUTE } from '#store/table-schema.ts';

const now = new Date('2026-11-27T08:00:00.000Z');
const batchId = '2f1c7a58-6a55-4c1e-9f3a-0d0c4f4f8e21';
const n = 10_000;
const wave = 5_000;
const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  }),
);
const h = { ddb: mockClient(client) };
const table = new FakeTable().attach(h.ddb);
const store = dynamoStore({ client, tableName: 'cj-bench-table' });

await store.createBatch({
  batchId,
  owner: 'arn:aws:iam::123456789012:user/cj-test',
  essayCount: n,
  totalBudget: 75_000,
  config: { MIN_RESAMPLING_NET_SIZE: 5, MAX_RESAMPLING_PASSES_FOR_SMALL_NET: 3 },
  judge: { provider: 'mock', profile: 'eng5_lower5_gpt51_low', failure_rate: 0.1, seed: 42 },
  now,
});
const essayText = 'word '.repeat(600); // ~3,000 characters: an ordinary essay
for (let offset = 0; offset < n; offset += 1000) {
  const page = Array.from({ length: 1000 }, (_, i) => ({
    id: `student-${String(offset + i).padStart(5, '0')}`,
    text: essayText,
  }));
  await store.putEssayPage(batchId, offset, page, now);
}
await store.startBatch(batchId, now, DEFAULT_IN_FLIGHT_CAPS);
const pairs = Array.from({ length: wave }, (_, i) => ({
  a: 2 * i,
  b: 2 * i + 1,
  kind: 'coverage' as const,
  attempt: 1,
}));
h.ddb.resetHistory();
await store.planWave(batchId, {
  expectedIteration: 0,
  pairs,
  resamplingPassCount: 0,
  deadline: new Date(now.getTime() + 900_000),
  now,
});
const planCalls = h.ddb.calls().map((call) => call.args[0].constructor.name);

const pk = batchPk(batchId);
const firstComparison = comparisonSk('000001-000000');
const metaBefore = itemSize(table.get(pk, META_SK)!);
const comparison = table.get(pk, firstComparison)!;
const comparisonBefore = itemSize(comparison);
h.ddb.resetHistory();
await store.recordCallback(
  { v: 1, batch_id: batchId, comparison_id: '000001-000000', outcome: 'verdict', winner: 'A' },
  now,
);
const callbackCalls = h.ddb.calls().map((call) => call.args[0].constructor.name);
const comparisonAfter = itemSize(table.get(pk, firstComparison)!);
const metaAfter = itemSize(table.get(pk, META_SK)!);

await store.saveScores(
  batchId,
  1,
  Float64Array.from({ length: n }, (_, i) => i / n),
  now,
);
const scores = table.get(pk, scoresSk(1))!;
// Seeded, so the result-chunk size is the same on every run.
const random = seededRandom(7);
const rows = buildResultRows({
  ids: Array.from({ length: n }, (_, i) => `student-${String(i).padStart(5, '0')}`),
  scores: Float64Array.from({ length: n }, () => random() * 6 - 3),
  se: Float64Array.from({ length: n }, () => 0.3 + random()),
  comparisons: Array.from({ length: n }, () => 15),
  wins: Array.from({ length: n }, () => 7),
});
const resultChunk = {
  ...itemKey(batchId, resultsSk(0)),
  rows: rows.slice(0, 1000),
  [TTL_ATTRIBUTE]: 1,
};
const idsChunk = table.get(pk, essayIdsSk(0))!;
const essay = table.get(pk, essaySk(0))!;

/**
 * Write units of one recorded callback (the transaction's comparison and META updates)
 * for a small batch created with `judge` and `config`: the rubric, the
 * assignment and the config overrides live beside META, so they must not change this figure.
 */
async function callbackWriteUnits(
  judge: Parameters<typeof store.createBatch>[0]['judge'],
  config: Record<string, unknown>,
): Promise<number> {
  const id = `callback-cost-${judge.provider}-${Object.keys(config).length}`;
  const small = 6;
  await store.createBatch({
    batchId: id,
    owner: 'arn:aws:iam::123456789012:user/cj-test',
    essays: Array.from({ length: small }, (_, i) => ({ id: `e${i}`, text: essayText })),
    essayCount: small,
    totalBudget: 15,
    config,
    judge,
    now,
    // Counted in flight as every deployed create is: META carries what it counted.
    inFlight: { principal: 'arn:aws:iam::123456789012:user/cj-test', caps: DEFAULT_IN_FLIGHT_CAPS },
  });
  await store.planWave(id, {
    expectedIteration: 0,
    pairs: pairs.slice(0, small / 2),
    resamplingPassCount: 0,
    deadline: new Date(now.getTime() + 900_000),
    now,
  });
  const key = batchPk(id);
  const cmp = comparisonSk('000001-000000');
  const before = { cmp: itemSize(table.get(key, cmp)!), meta: itemSize(table.get(key, META_SK)!) };
  await store.recordCallback(
    { v: 1, batch_id: id, comparison_id: '000001-000000', outcome: 'verdict', winner: 'A' },
    now,
  );
  const after = { cmp: itemSize(table.get(key, cmp)!), meta: itemSize(table.get(key, META_SK)!) };
  return (
    writeUnits(Math.max(before.cmp, after.cmp), true) +
    writeUnits(Math.max(before.meta, after.meta), true)
  );
}

const rubric = 'Reward a clear thesis, evidence and structure. '.repeat(500).slice(0, 20_000);
const bigPriceMap = Object.fromEntries(
  Array.from({ length: 200 }, (_, i) => [`model-${i}`, { input: i / 10, output: i / 5 }]),
);
const callbackWithoutRubric = await callbackWriteUnits(
  { provider: 'mock', profile: 'default' },
  {},
);
const callbackWithRubric = await callbackWriteUnits(
  {
    provider: 'openai',
    model: 'gpt-4o-mini',
    rubric,
    assignment: 'Write an argumentative essay. '.repeat(300).slice(0, 9_000),
  },
  { JUDGE_MODEL_PRICES_USD_PER_MTOK: bigPriceMap },
);

const comparisonWrite = writeUnits(Math.max(comparisonBefore, comparisonAfter), true);
const metaWrite = writeUnits(Math.max(metaBefore, metaAfter), true);
const snapshotComparisonBytes = comparisonBefore * 75_000;

console.log(
  JSON.stringify(
    {
      item_bytes: {
        meta_running: metaBefore,
        comparison_pending: comparisonBefore,
        comparison_completed: comparisonAfter,
        essay_3000_chars: itemSize(essay),
        essay_ids_chunk_1000: itemSize(idsChunk),
        scores_n10000: itemSize(scores),
        results_chunk_1000: itemSize(resultChunk),
      },
      callback_write_units: {
        no_rubric: callbackWithoutRubric,
        rubric_20000_chars_assignment_9000_chars_200_prices: callbackWithRubric,
      },
      one_callback: {
        requests: callbackCalls,
        transactional_wcu: comparisonWrite + metaWrite,
        consistent_meta_read_rcu: readUnits(metaAfter),
      },
      plan_wave: {
        wave_size: wave,
        requests: Object.fromEntries(
          [...new Set(planCalls)].map((name) => [name, planCalls.filter((c) => c === name).length]),
        ),
        // The item only: no index entry per comparison (docs/data-model.md, "The sweeper").
        wcu_per_comparison: writeUnits(comparisonBefore),
        fixed_rcu: readUnits(metaBefore) + 1,
        fixed_wcu: writeUnits(metaBefore),
      },
      // What a snapshot read before the per-wave ledger (every comparison item); what it reads now
      // is measured by bench:continuation.
      read_every_comparison_at_75000: {
        rcu_consistent:
          readUnits(snapshotComparisonBytes) + readUnits(metaAfter) + readUnits(itemSize(scores)),
      },
    },
    null,
    2,
  ),
);
