import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { batchPk, comparisonSk, essaySk, META_SK, SETTINGS_SK } from '#store/keys.ts';
import { PK, SK } from '#store/table-schema.ts';
import {
  BATCH_ID,
  metaItem,
  type StoreHarness,
  settingsItem,
  storeHarness,
  TABLE,
} from '#test/helpers/store-fakes.ts';

const COMPARISON_ID = '000001-000000';

const essayItem = (index: number) => ({
  [PK]: batchPk(BATCH_ID),
  [SK]: essaySk(index),
  index,
  id: `e${index}`,
  text: `essay body ${index}`,
});

const comparisonItem = (status: string) => ({
  [PK]: batchPk(BATCH_ID),
  [SK]: comparisonSk(COMPARISON_ID),
  status,
});

/** The sort keys each BatchGetItem asked for, one list per request. */
function requestedSortKeys(h: StoreHarness): string[][] {
  return h.ddb
    .commandCalls(BatchGetCommand)
    .map((call) => (call.args[0].input.RequestItems?.[TABLE]?.Keys ?? []).map((key) => key[SK]));
}

describe('loadJudgeContext', () => {
  it('reads META, the comparison, each essay once and the settings in one consistent request', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(BatchGetCommand).resolves({
      Responses: {
        [TABLE]: [
          metaItem(),
          comparisonItem('PENDING'),
          essayItem(0),
          essayItem(1),
          settingsItem(),
        ],
      },
    });

    // Act
    const context = await h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [1, 0, 1]);

    // Assess
    const calls = h.ddb.commandCalls(BatchGetCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.RequestItems?.[TABLE]?.ConsistentRead).toBe(true);
    expect(requestedSortKeys(h)[0]).toEqual([
      META_SK,
      comparisonSk(COMPARISON_ID),
      essaySk(1),
      essaySk(0),
      SETTINGS_SK,
    ]);
    expect(context.batch?.status).toBe('RUNNING');
    expect(context.comparisonStatus).toBe('PENDING');
    expect([...context.essays.keys()].sort()).toEqual([0, 1]);
    expect(context.essays.get(1)?.text).toBe('essay body 1');
    expect(context.settings?.judge.provider).toBe('mock');
  });

  it('asks for the settings only once per batch: later reads use the ones it kept', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { [TABLE]: [metaItem(), settingsItem()] } })
      .resolves({ Responses: { [TABLE]: [metaItem()] } });

    // Act
    await h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [0, 1]);
    const second = await h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [0, 1]);

    // Assess
    const [first, later] = requestedSortKeys(h);
    expect(first).toContain(SETTINGS_SK);
    expect(later).not.toContain(SETTINGS_SK);
    expect(second.settings?.judge.provider).toBe('mock');
  });

  it('answers null and absent for what the table does not hold, and keeps no settings then', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { [TABLE]: [essayItem(0)] } })
      .resolves({ Responses: { [TABLE]: [] } });

    // Act
    const context = await h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [0, 1]);
    await h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [0, 1]);

    // Assess
    expect(context.batch).toBeNull();
    expect(context.comparisonStatus).toBeNull();
    expect([...context.essays.keys()]).toEqual([0]);
    expect(context.settings).toBeNull();
    // A missing SETTINGS item is not remembered: the next read asks again.
    expect(requestedSortKeys(h)[1]).toContain(SETTINGS_SK);
  });
});
