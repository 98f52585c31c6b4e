import { BatchWriteCommand, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import {
  BATCH_ID,
  conditionFailed,
  metaItem,
  NOW,
  type StoreHarness,
  storeHarness,
  throttled,
} from '#test/helpers/store-fakes.ts';

const rows = (count: number) =>
  Array.from({ length: count }, (_, index) => ({
    id: `essay-${index}`,
    score: count - index,
    se: 0.3,
    rank: index + 1,
    comparisons: 4,
    wins: 2,
  }));

const finalizeInput = (count = 3) => ({
  expectedIteration: 4,
  status: 'COMPLETE_STABLE' as const,
  processingMetadata: { max_possible_pairs: 10 },
  resamplingPassCount: 0,
  results: rows(count),
  now: NOW,
});

describe('finalizeBatch', () => {
  let h: StoreHarness;
  beforeEach(() => {
    h = storeHarness({ maxAttempts: 3 });
  });

  it('writes result chunks, then moves META from RUNNING at the expected iteration, once', async () => {
    // Prepare
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ current_iteration: 4 }) });
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb
      .on(UpdateCommand)
      .resolves({ Attributes: metaItem({ status: 'COMPLETE_STABLE', current_iteration: 4 }) });

    // Act
    const result = await h.store.finalizeBatch(BATCH_ID, finalizeInput());

    // Assess
    expect(result.outcome).toBe('finalized');
    const update = h.ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update.ConditionExpression).toBe(
      '#status = :running AND current_iteration = :expected AND attribute_not_exists(in_flight_principal)',
    );
    expect(update.UpdateExpression).toContain('event_published = :false');
    expect(update.UpdateExpression).toContain('REMOVE #active_pk, #active_sk');
    expect(update.ExpressionAttributeValues).toMatchObject({
      ':final': 'COMPLETE_STABLE',
      ':reason': null,
      ':expected': 4,
      ':chunks': 1,
    });
    const chunk =
      h.ddb.commandCalls(BatchWriteCommand)[0]!.args[0].input.RequestItems?.['cj-test-table']?.[0]
        ?.PutRequest?.Item;
    expect(chunk).toMatchObject({ sk: 'RESULT#000000' });
    expect(chunk?.rows).toHaveLength(3);
  });

  it('splits large results into chunks of RESULTS_PER_ITEM rows', async () => {
    // Prepare
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ current_iteration: 4 }) });
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb.on(UpdateCommand).resolves({ Attributes: metaItem({ status: 'COMPLETE_STABLE' }) });

    // Act
    await h.store.finalizeBatch(BATCH_ID, finalizeInput(2500));

    // Assess
    const chunks = h.ddb
      .commandCalls(BatchWriteCommand)
      .flatMap((call) => call.args[0].input.RequestItems?.['cj-test-table'] ?? [])
      .map((request) => request.PutRequest?.Item);
    expect(chunks.map((item) => item?.sk)).toEqual([
      'RESULT#000000',
      'RESULT#000001',
      'RESULT#000002',
    ]);
    expect(chunks.map((item) => (item?.rows as unknown[] | undefined)?.length)).toEqual([
      1000, 1000, 500,
    ]);
    expect(
      h.ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues?.[':chunks'],
    ).toBe(3);
  });

  it('spreads rows with many grade probabilities over more items, each within RESULTS_ITEM_MAX_BYTES', async () => {
    // Prepare: the widest grade scale (MAX_GRADES labels of MAX_GRADE_LABEL_CHARS) on 1,000 rows
    const scale = Array.from({ length: DEFAULT_CONFIG.MAX_GRADES }, (_, k) =>
      `${k}-`.padEnd(DEFAULT_CONFIG.MAX_GRADE_LABEL_CHARS, 'g'),
    );
    const graded = rows(1000).map((row, index) => ({
      ...row,
      id: `${index}-`.padEnd(DEFAULT_CONFIG.MAX_ESSAY_ID_CHARS, 'x'),
      grade: scale[0] as string,
      anchor_grade: scale[1] as string,
      grade_probabilities: Object.fromEntries(scale.map((label) => [label, 0.123456789012345])),
    }));
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ current_iteration: 4 }) });
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb.on(UpdateCommand).resolves({ Attributes: metaItem({ status: 'COMPLETE_STABLE' }) });

    // Act
    await h.store.finalizeBatch(BATCH_ID, { ...finalizeInput(), results: graded });

    // Assess
    const chunks = h.ddb
      .commandCalls(BatchWriteCommand)
      .flatMap((call) => call.args[0].input.RequestItems?.['cj-test-table'] ?? [])
      .map((request) => request.PutRequest?.Item?.rows as unknown[]);
    expect(chunks.length).toBeGreaterThan(1);
    for (const stored of chunks) {
      expect(Buffer.byteLength(JSON.stringify(stored))).toBeLessThanOrEqual(
        DEFAULT_CONFIG.RESULTS_ITEM_MAX_BYTES,
      );
    }
    expect(chunks.flat()).toEqual(graded);
    expect(
      h.ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues?.[':chunks'],
    ).toBe(chunks.length);
  });

  it('answers already_final without writing anything when the batch is already final', async () => {
    // Prepare
    h.ddb
      .on(GetCommand)
      .resolves({ Item: metaItem({ status: 'COMPLETE_STABLE', current_iteration: 4 }) });

    // Act
    const result = await h.store.finalizeBatch(BATCH_ID, finalizeInput());

    // Assess
    expect(result.outcome).toBe('already_final');
    expect(h.ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
    expect(h.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('answers already_final when the conditional update fails (ConditionalCheckFailed)', async () => {
    // Prepare: another finalization (or a cancel) won between the read and the write.
    h.ddb
      .on(GetCommand)
      .resolvesOnce({ Item: metaItem({ current_iteration: 4 }) })
      .resolves({ Item: metaItem({ status: 'CANCELLED', current_iteration: 4 }) });
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const result = await h.store.finalizeBatch(BATCH_ID, finalizeInput());

    // Assess
    expect(result.outcome).toBe('already_final');
    expect(h.ddb.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(h.sleeps).toEqual([]);
  });

  it('is stale when the batch is RUNNING at another iteration', async () => {
    // Prepare
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ current_iteration: 5 }) });

    // Act
    const result = await h.store.finalizeBatch(BATCH_ID, finalizeInput());

    // Assess
    expect(result.outcome).toBe('stale');
    expect(h.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('answers not_found for an unknown batch', async () => {
    // Prepare
    h.ddb.on(GetCommand).resolves({});

    // Act
    const result = await h.store.finalizeBatch(BATCH_ID, finalizeInput());

    // Assess
    expect(result).toEqual({ outcome: 'not_found' });
  });

  it('stores the failure reason of a FAILED batch', async () => {
    // Prepare
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ current_iteration: 4 }) });
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb.on(UpdateCommand).resolves({ Attributes: metaItem({ status: 'FAILED' }) });

    // Act
    await h.store.finalizeBatch(BATCH_ID, {
      ...finalizeInput(0),
      status: 'FAILED',
      failureReason: 'no_successful_comparisons',
    });

    // Assess
    expect(
      h.ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues,
    ).toMatchObject({
      ':final': 'FAILED',
      ':reason': 'no_successful_comparisons',
      ':chunks': 0,
    });
    expect(h.ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });

  it('surfaces throttling on the final update after the bounded attempts', async () => {
    // Prepare
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ current_iteration: 4 }) });
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb.on(UpdateCommand).rejects(throttled());

    // Act
    const attempt = h.store.finalizeBatch(BATCH_ID, finalizeInput());

    // Assess
    await expect(attempt).rejects.toThrow(/throughput/);
    expect(h.ddb.commandCalls(UpdateCommand)).toHaveLength(3);
    expect(h.sleeps).toEqual([50, 100]);
  });
});

describe('markEventPublished', () => {
  it('marks once; a second call reports already_published', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(UpdateCommand).resolvesOnce({}).rejects(conditionFailed());

    // Act
    const first = await h.store.markEventPublished(BATCH_ID, NOW);
    const second = await h.store.markEventPublished(BATCH_ID, NOW);

    // Assess
    expect([first, second]).toEqual(['marked', 'already_published']);
    expect(h.ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ConditionExpression).toBe(
      'attribute_exists(finalized_at) AND event_published = :false',
    );
  });
});

describe('getResults', () => {
  it('returns the rows of every chunk, following pagination', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ sk: 'RESULT#000000', rows: rows(2) }],
        LastEvaluatedKey: { pk: 'x', sk: 'RESULT#000000' },
      })
      .resolves({ Items: [{ sk: 'RESULT#000001', rows: rows(1) }] });

    // Act
    const result = await h.store.getResults(BATCH_ID);

    // Assess
    expect(result).toHaveLength(3);
    expect(h.ddb.commandCalls(QueryCommand)[1]!.args[0].input.ExclusiveStartKey).toEqual({
      pk: 'x',
      sk: 'RESULT#000000',
    });
  });
});
