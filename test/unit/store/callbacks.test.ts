import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  BATCH_ID,
  conditionFailed,
  failure,
  marshalledStatus,
  metaItem,
  NOW,
  type StoreHarness,
  storeHarness,
  TABLE,
  throttled,
  transactionCanceled,
  verdict,
} from '#test/helpers/store-fakes.ts';

describe('recordCallback', () => {
  let h: StoreHarness;
  beforeEach(() => {
    h = storeHarness();
  });

  it('records a verdict in one transaction guarded by the PENDING and RUNNING conditions', async () => {
    // Prepare
    h.ddb.on(TransactWriteCommand).resolves({});
    h.ddb
      .on(GetCommand)
      .resolves({ Item: metaItem({ submitted_comparisons: 3, completed_comparisons: 1 }) });

    // Act
    const result = await h.store.recordCallback(verdict('000001-000002', 'B'), NOW);

    // Assess
    expect(result).toBe('recorded');
    expect((await h.store.getBatch(BATCH_ID))?.completed_comparisons).toBe(1);
    const calls = h.ddb.commandCalls(TransactWriteCommand);
    expect(calls).toHaveLength(1);
    const [comparison, meta] = calls[0]!.args[0].input.TransactItems ?? [];
    expect(comparison?.Update?.Key).toEqual({ pk: `BATCH#${BATCH_ID}`, sk: 'CMP#000001-000002' });
    expect(comparison?.Update?.ConditionExpression).toBe('#status = :pending');
    expect(comparison?.Update?.ExpressionAttributeNames?.['#status']).toBe('status');
    expect(comparison?.Update?.ExpressionAttributeValues).toMatchObject({
      ':pending': 'PENDING',
      ':terminal': 'COMPLETED',
      ':winner': 'B',
    });
    expect(comparison?.Update?.UpdateExpression).toContain('REMOVE #pending_pk, #pending_sk');
    expect(meta?.Update?.Key).toEqual({ pk: `BATCH#${BATCH_ID}`, sk: 'META' });
    expect(meta?.Update?.ConditionExpression).toBe(
      '#status = :running AND current_iteration >= :iteration',
    );
    expect(meta?.Update?.UpdateExpression).toContain('ADD completed_comparisons :one');
    expect(meta?.Update?.ExpressionAttributeValues).toMatchObject({
      ':running': 'RUNNING',
      ':iteration': 1,
    });
  });

  it('counts a failure callback on failed_comparisons, never on completed', async () => {
    // Prepare
    h.ddb.on(TransactWriteCommand).resolves({});
    h.ddb.on(GetCommand).resolves({ Item: metaItem() });

    // Act
    const result = await h.store.recordCallback(failure('000002-000000', 'rate_limited'), NOW);

    // Assess
    expect(result).toBe('recorded');
    const items = h.ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems ?? [];
    expect(items[0]?.Update?.ExpressionAttributeValues).toMatchObject({
      ':terminal': 'FAILED',
      ':kind': 'rate_limited',
    });
    expect(items[1]?.Update?.UpdateExpression).toContain('ADD failed_comparisons :one');
    expect(items[1]?.Update?.UpdateExpression).not.toContain('completed_comparisons');
    expect(items[1]?.Update?.ExpressionAttributeValues?.[':iteration']).toBe(2);
  });

  it('recognises a duplicate (comparison already terminal), changes nothing and still returns fresh META', async () => {
    // Prepare
    h.ddb
      .on(TransactWriteCommand)
      .rejects(
        transactionCanceled(
          { Code: 'ConditionalCheckFailed', Item: marshalledStatus('COMPLETED') },
          { Code: 'None' },
        ),
      );
    h.ddb
      .on(GetCommand)
      .resolves({ Item: metaItem({ submitted_comparisons: 2, completed_comparisons: 2 }) });

    // Act
    const result = await h.store.recordCallback(verdict(), NOW);

    // Assess
    expect(result).toBe('duplicate');
    expect((await h.store.getBatch(BATCH_ID))?.completed_comparisons).toBe(2);
    expect(h.ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect(h.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    const read = h.ddb.commandCalls(GetCommand)[0]!.args[0].input;
    expect(read).toMatchObject({ TableName: TABLE, ConsistentRead: true, Key: { sk: 'META' } });
    expect(h.sleeps).toEqual([]);
  });

  it('answers unknown_comparison when the comparison item does not exist', async () => {
    // Prepare
    h.ddb
      .on(TransactWriteCommand)
      .rejects(transactionCanceled({ Code: 'ConditionalCheckFailed' }, { Code: 'None' }));
    h.ddb.on(GetCommand).resolves({ Item: metaItem() });

    // Act
    const result = await h.store.recordCallback(verdict('000009-000000'), NOW);

    // Assess
    expect(result).toBe('unknown_comparison');
    expect(h.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('records a late callback on the comparison only, once the batch is final', async () => {
    // Prepare
    h.ddb
      .on(TransactWriteCommand)
      .rejects(
        transactionCanceled(
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Item: marshalledStatus('COMPLETE_STABLE') },
        ),
      );
    h.ddb.on(UpdateCommand).resolves({});
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ status: 'COMPLETE_STABLE' }) });

    // Act
    const result = await h.store.recordCallback(verdict('000001-000003'), NOW);

    // Assess
    expect(result).toBe('late');
    const updates = h.ddb.commandCalls(UpdateCommand);
    expect(updates).toHaveLength(1);
    const late = updates[0]!.args[0].input;
    expect(late.Key).toEqual({ pk: `BATCH#${BATCH_ID}`, sk: 'CMP#000001-000003' });
    expect(late.ConditionExpression).toBe('#status = :pending');
    expect(late.ExpressionAttributeValues).toMatchObject({ ':late': true });
    expect(late.UpdateExpression).not.toMatch(/comparisons/);
  });

  it('treats a cancelled batch like a finished one (late)', async () => {
    // Prepare
    h.ddb
      .on(TransactWriteCommand)
      .rejects(
        transactionCanceled(
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Item: marshalledStatus('CANCELLED') },
        ),
      );
    h.ddb.on(UpdateCommand).resolves({});
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ status: 'CANCELLED' }) });

    // Act
    const result = await h.store.recordCallback(failure(), NOW);

    // Assess
    expect(result).toBe('late');
  });

  it('answers duplicate when a late callback loses the race to another late copy', async () => {
    // Prepare
    h.ddb
      .on(TransactWriteCommand)
      .rejects(
        transactionCanceled(
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Item: marshalledStatus('FAILED') },
        ),
      );
    h.ddb.on(UpdateCommand).rejects(conditionFailed());
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ status: 'FAILED' }) });

    // Act
    const result = await h.store.recordCallback(verdict(), NOW);

    // Assess
    expect(result).toBe('duplicate');
  });

  it('answers unknown_comparison for a comparison of an uncommitted wave (batch RUNNING, iteration ahead)', async () => {
    // Prepare
    h.ddb
      .on(TransactWriteCommand)
      .rejects(
        transactionCanceled(
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Item: marshalledStatus('RUNNING') },
        ),
      );
    h.ddb.on(GetCommand).resolves({ Item: metaItem() });

    // Act
    const result = await h.store.recordCallback(verdict('000004-000000'), NOW);

    // Assess
    expect(result).toBe('unknown_comparison');
    expect(h.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('answers unknown_comparison when the batch does not exist', async () => {
    // Prepare
    h.ddb
      .on(TransactWriteCommand)
      .rejects(transactionCanceled({ Code: 'None' }, { Code: 'ConditionalCheckFailed' }));
    h.ddb.on(GetCommand).resolves({});

    // Act
    const result = await h.store.recordCallback(verdict(), NOW);
    const batch = await h.store.getBatch(BATCH_ID);

    // Assess
    expect(result).toBe('unknown_comparison');
    expect(batch).toBeNull();
  });

  it('retries a TransactionConflict with backoff, then records once', async () => {
    // Prepare
    h.ddb
      .on(TransactWriteCommand)
      .rejectsOnce(transactionCanceled({ Code: 'TransactionConflict' }, { Code: 'None' }))
      .rejectsOnce(transactionCanceled({ Code: 'None' }, { Code: 'TransactionConflict' }))
      .resolves({});
    h.ddb.on(GetCommand).resolves({ Item: metaItem() });

    // Act
    const result = await h.store.recordCallback(verdict(), NOW);

    // Assess
    expect(result).toBe('recorded');
    expect(h.ddb.commandCalls(TransactWriteCommand)).toHaveLength(3);
    expect(h.sleeps).toEqual([50, 100]);
  });

  it('surfaces throttling after the bounded number of attempts', async () => {
    // Prepare
    h.ddb.on(TransactWriteCommand).rejects(throttled());

    // Act
    const attempt = h.store.recordCallback(verdict(), NOW);

    // Assess
    await expect(attempt).rejects.toThrow(/exceeds the allowed throughput/);
    expect(h.ddb.commandCalls(TransactWriteCommand)).toHaveLength(4);
    expect(h.sleeps).toEqual([50, 100, 200]);
    expect(h.ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('rethrows a cancellation it cannot explain (e.g. a validation error)', async () => {
    // Prepare
    h.ddb
      .on(TransactWriteCommand)
      .rejects(transactionCanceled({ Code: 'ValidationError' }, { Code: 'None' }));

    // Act
    const attempt = h.store.recordCallback(verdict(), NOW);

    // Assess
    await expect(attempt).rejects.toThrow(/ValidationError/);
    expect(h.ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });
});
