/**
 * The DynamoDB cost of one callback and of planning comparisons (docs/data-model.md), checked
 * against the requests the store makes and the items it actually writes.
 */
import {
  BatchWriteCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { itemSize, readUnits, writeUnits } from '#bench/support/ddb-cost.ts';
import { FakeTable } from '#bench/support/fake-table.ts';
import { BATCH_ID, NOW, storeHarness, wavePairs } from '#test/helpers/store-fakes.ts';

const PK = `BATCH#${BATCH_ID}`;

async function runningBatch() {
  const h = storeHarness();
  const table = new FakeTable().attach(h.ddb);
  await h.store.createBatch({
    batchId: BATCH_ID,
    owner: 'arn:aws:iam::123456789012:user/cj-test',
    essays: Array.from({ length: 60 }, (_, i) => ({
      id: `student-${i}`,
      text: 'word '.repeat(600),
    })),
    essayCount: 60,
    totalBudget: 450,
    config: { MIN_RESAMPLING_NET_SIZE: 5 },
    judge: { provider: 'mock', profile: 'eng5_lower5_gpt51_low', failure_rate: 0.1, seed: 1 },
    now: NOW,
  });
  return { h, table };
}

/** The batch's first wave: 30 comparisons. */
function planFirstWave(h: Awaited<ReturnType<typeof runningBatch>>['h']) {
  return h.store.planWave(BATCH_ID, {
    expectedIteration: 0,
    pairs: wavePairs(30),
    resamplingPassCount: 0,
    deadline: NOW,
    now: NOW,
  });
}

describe('request cost', () => {
  it('one recorded callback = 1 transaction of 2 items: 4 WCU (the 1-RCU META read of the gate is one per batch per invocation)', async () => {
    // Prepare
    const { h, table } = await runningBatch();
    await planFirstWave(h);
    const comparisonBefore = itemSize(table.get(PK, 'CMP#000001-000000')!);
    const metaBefore = itemSize(table.get(PK, 'META')!);
    h.ddb.resetHistory();

    // Act
    const result = await h.store.recordCallback(
      { v: 1, batch_id: BATCH_ID, comparison_id: '000001-000000', outcome: 'verdict', winner: 'A' },
      NOW,
    );

    // Assess
    expect(result).toBe('recorded');
    expect(h.ddb.calls()).toHaveLength(1);
    expect(h.ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems).toHaveLength(
      2,
    );
    expect(h.ddb.commandCalls(GetCommand)).toHaveLength(0);
    const comparisonAfter = itemSize(table.get(PK, 'CMP#000001-000000')!);
    const metaAfter = itemSize(table.get(PK, 'META')!);
    // No index entry to delete: the comparison is in no index.
    expect(table.get(PK, 'CMP#000001-000000')?.gsi1pk).toBeUndefined();
    const wcu =
      writeUnits(Math.max(comparisonBefore, comparisonAfter), true) +
      writeUnits(Math.max(metaBefore, metaAfter), true);
    expect(wcu).toBe(4);
    expect(readUnits(metaAfter)).toBe(1);
  });

  it('ten callbacks of a batch in one invocation = 1 transaction of 11 items: 22 WCU, 2.2 per callback', async () => {
    // Prepare
    const { h, table } = await runningBatch();
    await planFirstWave(h);
    const ids = Array.from({ length: 10 }, (_, i) => `000001-${String(i).padStart(6, '0')}`);
    const sizesBefore = ids.map((id) => itemSize(table.get(PK, `CMP#${id}`)!));
    const metaBefore = itemSize(table.get(PK, 'META')!);
    h.ddb.resetHistory();

    // Act
    const outcomes = await h.store.recordCallbacks(
      ids.map((id) => ({
        v: 1,
        batch_id: BATCH_ID,
        comparison_id: id,
        outcome: 'verdict',
        winner: 'A',
      })),
      NOW,
    );

    // Assess
    expect(outcomes).toEqual(ids.map(() => 'recorded'));
    expect(h.ddb.calls()).toHaveLength(1);
    expect(h.ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems).toHaveLength(
      11,
    );
    const comparisonUnits = ids.map((id, i) =>
      writeUnits(Math.max(sizesBefore[i]!, itemSize(table.get(PK, `CMP#${id}`)!)), true),
    );
    const metaUnits = writeUnits(Math.max(metaBefore, itemSize(table.get(PK, 'META')!)), true);
    expect(comparisonUnits.reduce((sum, units) => sum + units, 0) + metaUnits).toBe(22);
  });

  it('planning = 1 WCU per comparison (the item, in no index) plus a fixed 2 RCU + 1 WCU per wave', async () => {
    // Prepare
    const { h, table } = await runningBatch();
    h.ddb.resetHistory();

    // Act
    await planFirstWave(h);

    // Assess
    expect(h.ddb.commandCalls(GetCommand)).toHaveLength(1);
    expect(h.ddb.commandCalls(QueryCommand)).toHaveLength(1);
    expect(h.ddb.commandCalls(BatchWriteCommand)).toHaveLength(2);
    expect(h.ddb.commandCalls(UpdateCommand)).toHaveLength(1);
    const comparisons = [...table.items.values()].filter((item) =>
      String(item.sk).startsWith('CMP#'),
    );
    expect(comparisons).toHaveLength(30);
    expect(comparisons.every((item) => item.gsi1pk === undefined)).toBe(true);
    const perComparison = comparisons.map((item) => writeUnits(itemSize(item)));
    expect(new Set(perComparison)).toEqual(new Set([1]));
    expect(writeUnits(itemSize(table.get(PK, 'META')!))).toBe(1);
  });
});
