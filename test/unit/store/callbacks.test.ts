import {
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { COMPARISONS_PER_TRANSACTION } from '#store/callbacks.ts';
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
    expect(comparison?.Update?.UpdateExpression).not.toContain('REMOVE');
    expect(meta?.Update?.Key).toEqual({ pk: `BATCH#${BATCH_ID}`, sk: 'META' });
    expect(meta?.Update?.ConditionExpression).toBe(
      '#status = :running AND current_iteration >= :iteration',
    );
    expect(meta?.Update?.UpdateExpression).toContain('completed_comparisons :completed');
    expect(meta?.Update?.UpdateExpression).not.toContain('failed_comparisons');
    expect(meta?.Update?.ExpressionAttributeValues).toMatchObject({
      ':running': 'RUNNING',
      ':iteration': 1,
      ':completed': 1,
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
    expect(items[1]?.Update?.UpdateExpression).toContain('failed_comparisons :failed');
    expect(items[1]?.Update?.UpdateExpression).not.toContain('completed_comparisons');
    expect(items[1]?.Update?.ExpressionAttributeValues?.[':failed']).toBe(1);
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

/** The items of the `n`-th transaction sent, as (sort key, META counter values) for reading. */
function transactionOf(h: StoreHarness, n: number) {
  const input = h.ddb.commandCalls(TransactWriteCommand)[n]?.args[0]
    .input as TransactWriteCommandInput;
  const items = input.TransactItems ?? [];
  const meta = items.at(-1)?.Update;
  return {
    comparisons: items.slice(0, -1).map((item) => item.Update?.Key?.sk),
    metaKey: meta?.Key,
    metaValues: meta?.ExpressionAttributeValues ?? {},
    metaUpdate: meta?.UpdateExpression ?? '',
  };
}

describe('recordCallbacks (the callbacks of one invocation)', () => {
  let h: StoreHarness;
  beforeEach(() => {
    h = storeHarness();
  });

  it('records every callback of a batch in ONE transaction that raises each counter by its count', async () => {
    // Prepare
    h.ddb.on(TransactWriteCommand).resolves({});

    // Act
    const outcomes = await h.store.recordCallbacks(
      [verdict('000001-000000'), failure('000002-000001'), verdict('000002-000002', 'B')],
      NOW,
    );

    // Assess
    expect(outcomes).toEqual(['recorded', 'recorded', 'recorded']);
    expect(h.ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
    const sent = transactionOf(h, 0);
    expect(sent.comparisons).toEqual([
      'CMP#000001-000000',
      'CMP#000002-000001',
      'CMP#000002-000002',
    ]);
    expect(sent.metaKey).toEqual({ pk: `BATCH#${BATCH_ID}`, sk: 'META' });
    expect(sent.metaValues).toMatchObject({ ':completed': 2, ':failed': 1, ':iteration': 2 });
    expect(sent.metaUpdate).toMatch(/ADD .*completed_comparisons :completed/);
    expect(sent.metaUpdate).toMatch(/failed_comparisons :failed/);
  });

  it('sends one transaction per batch and answers in the callbacks order', async () => {
    // Prepare
    h.ddb.on(TransactWriteCommand).resolves({});
    const other = { ...verdict('000001-000004'), batch_id: 'another-batch' };

    // Act
    const outcomes = await h.store.recordCallbacks(
      [verdict('000001-000000'), other, verdict('000001-000001')],
      NOW,
    );

    // Assess
    expect(outcomes).toEqual(['recorded', 'recorded', 'recorded']);
    expect(h.ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    expect(transactionOf(h, 0).comparisons).toEqual(['CMP#000001-000000', 'CMP#000001-000001']);
    expect(transactionOf(h, 0).metaValues).toMatchObject({ ':completed': 2 });
    expect(transactionOf(h, 1).metaKey).toEqual({ pk: 'BATCH#another-batch', sk: 'META' });
    expect(transactionOf(h, 1).metaValues).toMatchObject({ ':completed': 1 });
  });

  it('takes a duplicate out and records the rest again, counting only them', async () => {
    // Prepare: the middle comparison is already terminal
    h.ddb
      .on(TransactWriteCommand)
      .rejectsOnce(
        transactionCanceled(
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Item: marshalledStatus('COMPLETED') },
          { Code: 'None' },
          { Code: 'None' },
        ),
      )
      .resolves({});

    // Act
    const outcomes = await h.store.recordCallbacks(
      [verdict('000001-000000'), verdict('000001-000001'), failure('000001-000002')],
      NOW,
    );

    // Assess
    expect(outcomes).toEqual(['recorded', 'duplicate', 'recorded']);
    expect(h.ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    const retried = transactionOf(h, 1);
    expect(retried.comparisons).toEqual(['CMP#000001-000000', 'CMP#000001-000002']);
    expect(retried.metaValues).toMatchObject({ ':completed': 1, ':failed': 1 });
    expect(h.sleeps).toEqual([]);
  });

  it('puts a second copy of one comparison in no transaction and answers it duplicate', async () => {
    // Prepare
    h.ddb.on(TransactWriteCommand).resolves({});

    // Act
    const outcomes = await h.store.recordCallbacks(
      [verdict('000001-000000'), verdict('000001-000000'), verdict('000001-000001')],
      NOW,
    );

    // Assess
    expect(outcomes).toEqual(['recorded', 'duplicate', 'recorded']);
    expect(transactionOf(h, 0).comparisons).toEqual(['CMP#000001-000000', 'CMP#000001-000001']);
    expect(transactionOf(h, 0).metaValues).toMatchObject({ ':completed': 2 });
  });

  it('answers unknown for the callbacks of a wave META has not committed, and records the others', async () => {
    // Prepare: META is RUNNING at wave 1; one callback names wave 2
    const runningAtWave1 = { ...marshalledStatus('RUNNING'), current_iteration: { N: '1' } };
    h.ddb
      .on(TransactWriteCommand)
      .rejectsOnce(
        transactionCanceled(
          { Code: 'None' },
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Item: runningAtWave1 },
        ),
      )
      .resolves({});

    // Act
    const outcomes = await h.store.recordCallbacks(
      [verdict('000002-000000'), verdict('000001-000003')],
      NOW,
    );

    // Assess
    expect(outcomes).toEqual(['unknown_comparison', 'recorded']);
    expect(transactionOf(h, 0).metaValues).toMatchObject({ ':iteration': 2 });
    expect(transactionOf(h, 1).comparisons).toEqual(['CMP#000001-000003']);
    expect(transactionOf(h, 1).metaValues).toMatchObject({ ':iteration': 1, ':completed': 1 });
  });

  it('marks every callback late, each on its comparison alone, once the batch is final', async () => {
    // Prepare: the second comparison was marked late already by another copy
    h.ddb
      .on(TransactWriteCommand)
      .rejects(
        transactionCanceled(
          { Code: 'None' },
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Item: marshalledStatus('COMPLETE_STABLE') },
        ),
      );
    h.ddb.on(UpdateCommand).resolvesOnce({}).rejects(conditionFailed());

    // Act
    const outcomes = await h.store.recordCallbacks(
      [verdict('000001-000000'), failure('000001-000001')],
      NOW,
    );

    // Assess
    expect(outcomes).toEqual(['late', 'duplicate']);
    expect(h.ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
    const late = h.ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(late.map((update) => update.Key?.sk)).toEqual([
      'CMP#000001-000000',
      'CMP#000001-000001',
    ]);
    expect(late.every((update) => !/comparisons/.test(update.UpdateExpression ?? ''))).toBe(true);
  });

  it('answers unknown for a malformed comparison id without sending it', async () => {
    // Prepare
    h.ddb.on(TransactWriteCommand).resolves({});

    // Act
    const outcomes = await h.store.recordCallbacks(
      [verdict('not-an-id'), verdict('000001-000000')],
      NOW,
    );

    // Assess
    expect(outcomes).toEqual(['unknown_comparison', 'recorded']);
    expect(transactionOf(h, 0).comparisons).toEqual(['CMP#000001-000000']);
  });

  it(`splits a batch's callbacks into transactions of ${COMPARISONS_PER_TRANSACTION} comparisons and META`, async () => {
    // Prepare
    h.ddb.on(TransactWriteCommand).resolves({});
    const callbacks = Array.from({ length: 150 }, (_, index) =>
      verdict(`000001-${String(index).padStart(6, '0')}`),
    );

    // Act
    const outcomes = await h.store.recordCallbacks(callbacks, NOW);

    // Assess
    expect(outcomes.every((outcome) => outcome === 'recorded')).toBe(true);
    expect(h.ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    expect(transactionOf(h, 0).comparisons).toHaveLength(99);
    expect(transactionOf(h, 0).metaValues).toMatchObject({ ':completed': 99 });
    expect(transactionOf(h, 1).metaValues).toMatchObject({ ':completed': 51 });
  });

  it('surfaces a failure that is not an answer, recording nothing (the records are redelivered)', async () => {
    // Prepare
    h.ddb
      .on(TransactWriteCommand)
      .rejects(
        transactionCanceled({ Code: 'None' }, { Code: 'ValidationError' }, { Code: 'None' }),
      );

    // Act
    const attempt = h.store.recordCallbacks(
      [verdict('000001-000000'), verdict('000001-000001')],
      NOW,
    );

    // Assess
    await expect(attempt).rejects.toThrow(/ValidationError/);
    expect(h.ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });
});
