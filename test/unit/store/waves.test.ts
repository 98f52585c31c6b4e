import { BatchWriteCommand, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  BATCH_ID,
  conditionFailed,
  metaItem,
  NOW,
  type StoreHarness,
  storeHarness,
  wavePairs,
} from '#test/helpers/store-fakes.ts';

const DEADLINE = new Date('2026-11-27T08:15:00.000Z');

function putKeys(h: StoreHarness): string[] {
  return h.ddb
    .commandCalls(BatchWriteCommand)
    .flatMap((call) => Object.values(call.args[0].input.RequestItems ?? {}).flat())
    .flatMap((request) => (request.PutRequest ? [String(request.PutRequest.Item?.sk)] : []));
}

function deleteKeys(h: StoreHarness): string[] {
  return h.ddb
    .commandCalls(BatchWriteCommand)
    .flatMap((call) => Object.values(call.args[0].input.RequestItems ?? {}).flat())
    .flatMap((request) => (request.DeleteRequest ? [String(request.DeleteRequest.Key?.sk)] : []));
}

describe('planWave', () => {
  let h: StoreHarness;
  beforeEach(() => {
    h = storeHarness();
  });

  it('answers stale for a batch that does not exist, writing nothing', async () => {
    // Prepare
    h.ddb.on(GetCommand).resolves({});

    // Act
    const result = await h.store.planWave(BATCH_ID, {
      expectedIteration: 0,
      pairs: wavePairs(2),
      resamplingPassCount: 0,
      deadline: DEADLINE,
      now: NOW,
    });

    // Assess
    expect(result).toEqual({ outcome: 'stale', batch: null });
    expect(h.ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
    expect(h.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('writes deterministic comparison items, then raises the counters in ONE conditional update', async () => {
    // Prepare
    h.ddb.on(GetCommand).resolves({
      Item: metaItem({ current_iteration: 2, submitted_comparisons: 10, total_comparisons: 10 }),
    });
    h.ddb.on(QueryCommand).resolves({ Items: [] });
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb.on(UpdateCommand).resolves({});

    // Act
    const result = await h.store.planWave(BATCH_ID, {
      expectedIteration: 2,
      pairs: wavePairs(3),
      resamplingPassCount: 0,
      deadline: DEADLINE,
      now: NOW,
    });

    // Assess
    expect(result.outcome).toBe('planned');
    if (result.outcome !== 'planned') return;
    expect(result.pending.map((p) => p.comparison_id)).toEqual([
      '000003-000000',
      '000003-000001',
      '000003-000002',
    ]);
    expect(result.pending[1]).toMatchObject({
      a: 1,
      b: 2,
      attempt: 1,
      deadline: DEADLINE.toISOString(),
    });
    expect(putKeys(h)).toEqual(['CMP#000003-000000', 'CMP#000003-000001', 'CMP#000003-000002']);
    const item =
      h.ddb.commandCalls(BatchWriteCommand)[0]!.args[0].input.RequestItems?.['cj-test-table']?.[0]
        ?.PutRequest?.Item;
    expect(item).toMatchObject({ status: 'PENDING', iteration: 3, index: 0, kind: 'coverage' });
    expect(item).toMatchObject({ deadline: DEADLINE.toISOString() });
    expect(item?.gsi1pk).toBeUndefined();
    const updates = h.ddb.commandCalls(UpdateCommand);
    expect(updates).toHaveLength(1);
    const update = updates[0]!.args[0].input;
    expect(update.ConditionExpression).toBe(
      '#status = :running AND current_iteration = :expected AND submitted_comparisons <= :max_submitted',
    );
    expect(update.UpdateExpression).toContain(
      'ADD submitted_comparisons :size, total_comparisons :size',
    );
    expect(update.ExpressionAttributeValues).toMatchObject({
      ':expected': 2,
      ':next': 3,
      ':size': 3,
      ':max_submitted': 37,
      ':deadline': DEADLINE.toISOString(),
    });
    // The sweeper's cue: the committed wave's deadline on META.
    expect(update.UpdateExpression).toContain('wave_deadline = :deadline');
  });

  it('writes more than 25 comparisons in BatchWrite calls of at most 25 and re-sends unprocessed items', async () => {
    // Prepare
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ total_budget: 100 }) });
    h.ddb.on(QueryCommand).resolves({ Items: [] });
    h.ddb
      .on(BatchWriteCommand)
      .resolvesOnce({
        UnprocessedItems: {
          'cj-test-table': [
            { PutRequest: { Item: { pk: `BATCH#${BATCH_ID}`, sk: 'CMP#000001-000000' } } },
          ],
        },
      })
      .resolves({});
    h.ddb.on(UpdateCommand).resolves({});

    // Act
    const result = await h.store.planWave(BATCH_ID, {
      expectedIteration: 0,
      pairs: wavePairs(30),
      resamplingPassCount: 0,
      deadline: DEADLINE,
      now: NOW,
    });

    // Assess
    expect(result.outcome).toBe('planned');
    const sizes = h.ddb
      .commandCalls(BatchWriteCommand)
      .map((call) => call.args[0].input.RequestItems?.['cj-test-table']?.length);
    expect(sizes).toEqual([25, 1, 5]);
    expect(h.sleeps).toEqual([50]);
  });

  it('resumes after a crash between the item writes and the META update: same ids, one increment', async () => {
    // Prepare: the first delivery wrote the items, then its META update never happened.
    const crashed = storeHarness();
    crashed.ddb.on(GetCommand).resolves({ Item: metaItem({ current_iteration: 0 }) });
    crashed.ddb.on(QueryCommand).resolves({ Items: [] });
    crashed.ddb.on(BatchWriteCommand).resolves({});
    crashed.ddb.on(UpdateCommand).rejects(new Error('Lambda timed out'));
    const input = {
      expectedIteration: 0,
      pairs: wavePairs(4),
      resamplingPassCount: 0,
      deadline: DEADLINE,
      now: NOW,
    };
    await expect(crashed.store.planWave(BATCH_ID, input)).rejects.toThrow('Lambda timed out');
    const firstIds = putKeys(crashed);
    // The redelivery sees the uncommitted items of iteration 1 and META still at iteration 0.
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ current_iteration: 0 }) });
    h.ddb.on(QueryCommand).resolves({
      Items: firstIds.map((sk, index) => ({ pk: `BATCH#${BATCH_ID}`, sk, index })),
    });
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb.on(UpdateCommand).resolves({});

    // Act
    const result = await h.store.planWave(BATCH_ID, input);

    // Assess
    expect(result.outcome).toBe('planned');
    expect(putKeys(h)).toEqual(firstIds);
    expect(deleteKeys(h)).toEqual([]);
    const updates = h.ddb.commandCalls(UpdateCommand);
    expect(updates).toHaveLength(1);
    expect(updates[0]!.args[0].input.ExpressionAttributeValues?.[':size']).toBe(4);
  });

  it('deletes leftovers of a larger interrupted plan so they can never be counted', async () => {
    // Prepare: an earlier attempt wrote 5 items of iteration 1; this plan has 3.
    h.ddb.on(GetCommand).resolves({ Item: metaItem() });
    h.ddb.on(QueryCommand).resolves({
      Items: [0, 1, 2, 3, 4].map((index) => ({
        pk: `BATCH#${BATCH_ID}`,
        sk: `CMP#000001-00000${index}`,
        index,
      })),
    });
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb.on(UpdateCommand).resolves({});

    // Act
    await h.store.planWave(BATCH_ID, {
      expectedIteration: 0,
      pairs: wavePairs(3),
      resamplingPassCount: 0,
      deadline: DEADLINE,
      now: NOW,
    });

    // Assess
    expect(deleteKeys(h)).toEqual(['CMP#000001-000003', 'CMP#000001-000004']);
  });

  it('on redelivery after the wave was committed, writes nothing and returns what is still PENDING', async () => {
    // Prepare
    h.ddb.on(GetCommand).resolves({
      Item: metaItem({ current_iteration: 1, submitted_comparisons: 3, total_comparisons: 3 }),
    });
    h.ddb.on(QueryCommand).resolves({
      Items: [
        {
          comparison_id: '000001-000002',
          iteration: 1,
          a: 2,
          b: 3,
          attempt: 1,
          deadline: DEADLINE.toISOString(),
        },
      ],
    });

    // Act
    const result = await h.store.planWave(BATCH_ID, {
      expectedIteration: 0,
      pairs: wavePairs(3),
      resamplingPassCount: 0,
      deadline: DEADLINE,
      now: NOW,
    });

    // Assess
    expect(result).toEqual({
      outcome: 'already_planned',
      iteration: 1,
      pending: [
        {
          comparison_id: '000001-000002',
          iteration: 1,
          a: 2,
          b: 3,
          attempt: 1,
          deadline: DEADLINE.toISOString(),
        },
      ],
    });
    expect(h.ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
    expect(h.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    const query = h.ddb.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(query.FilterExpression).toBe('#status = :pending');
    expect(query.ExpressionAttributeValues).toMatchObject({
      ':prefix': 'CMP#000001-',
      ':pending': 'PENDING',
    });
  });

  it('answers already_planned when the META condition fails because a concurrent attempt committed', async () => {
    // Prepare
    h.ddb
      .on(GetCommand)
      .resolvesOnce({ Item: metaItem() })
      .resolves({
        Item: metaItem({ current_iteration: 1, submitted_comparisons: 2, total_comparisons: 2 }),
      });
    h.ddb.on(QueryCommand).resolves({ Items: [] });
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const result = await h.store.planWave(BATCH_ID, {
      expectedIteration: 0,
      pairs: wavePairs(2),
      resamplingPassCount: 0,
      deadline: DEADLINE,
      now: NOW,
    });

    // Assess
    expect(result.outcome).toBe('already_planned');
    expect(h.sleeps).toEqual([]);
  });

  it('is stale (writes nothing) when the batch is no longer RUNNING', async () => {
    // Prepare
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ status: 'CANCELLED' }) });

    // Act
    const result = await h.store.planWave(BATCH_ID, {
      expectedIteration: 0,
      pairs: wavePairs(2),
      resamplingPassCount: 0,
      deadline: DEADLINE,
      now: NOW,
    });

    // Assess
    expect(result.outcome).toBe('stale');
    expect(h.ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });

  it('refuses a wave that would exceed the budget, writing nothing', async () => {
    // Prepare
    h.ddb.on(GetCommand).resolves({
      Item: metaItem({ total_budget: 4, submitted_comparisons: 3, total_comparisons: 3 }),
    });

    // Act
    const result = await h.store.planWave(BATCH_ID, {
      expectedIteration: 0,
      pairs: wavePairs(2),
      resamplingPassCount: 0,
      deadline: DEADLINE,
      now: NOW,
    });

    // Assess
    expect(result.outcome).toBe('over_budget');
    expect(h.ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
    expect(h.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('rejects an empty wave (the engine never plans one)', async () => {
    // Prepare
    const input = {
      expectedIteration: 0,
      pairs: [],
      resamplingPassCount: 0,
      deadline: DEADLINE,
      now: NOW,
    };

    // Act
    const attempt = h.store.planWave(BATCH_ID, input);

    // Assess
    await expect(attempt).rejects.toThrow(/at least one pair/);
    expect(h.ddb.calls()).toHaveLength(0);
  });

  it('stores resample pass and pass count for a resampling wave', async () => {
    // Prepare
    h.ddb.on(GetCommand).resolves({
      Item: metaItem({ current_iteration: 1, submitted_comparisons: 10, total_comparisons: 10 }),
    });
    h.ddb.on(QueryCommand).resolves({ Items: [] });
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb.on(UpdateCommand).resolves({});

    // Act
    await h.store.planWave(BATCH_ID, {
      expectedIteration: 1,
      pairs: [{ a: 1, b: 0, kind: 'resample', attempt: 1, resamplePass: 2 }],
      resamplingPassCount: 2,
      deadline: DEADLINE,
      now: NOW,
    });

    // Assess
    const item =
      h.ddb.commandCalls(BatchWriteCommand)[0]!.args[0].input.RequestItems?.['cj-test-table']?.[0]
        ?.PutRequest?.Item;
    expect(item).toMatchObject({ kind: 'resample', resample_pass: 2, a: 1, b: 0 });
    expect(
      h.ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues?.[':passes'],
    ).toBe(2);
  });
});
