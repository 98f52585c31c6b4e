import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { BATCH_ID, metaItem, NOW, storeHarness } from '#test/helpers/store-fakes.ts';

const cmp = (iteration: number, index: number, extra: Record<string, unknown> = {}) => ({
  iteration,
  a: index,
  b: index + 1,
  status: 'COMPLETED',
  winner: 'A',
  kind: 'coverage',
  attempt: 1,
  ...extra,
});

describe('loadSnapshot', () => {
  it('returns counters, config and the comparisons of committed waves only', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(GetCommand).resolves({
      Item: metaItem({
        current_iteration: 2,
        submitted_comparisons: 3,
        total_comparisons: 3,
        completed_comparisons: 2,
        failed_comparisons: 1,
        config: { MAX_ITERATIONS: 7 },
      }),
    });
    h.ddb
      .on(QueryCommand, {
        ExpressionAttributeValues: { ':pk': `BATCH#${BATCH_ID}`, ':prefix': 'CMP#' },
      })
      .resolves({
        Items: [
          cmp(1, 0),
          cmp(2, 1, { status: 'FAILED', winner: undefined, failure_kind: 'timeout' }),
          cmp(2, 2, { kind: 'resample', resample_pass: 1 }),
          cmp(3, 0, { status: 'PENDING', winner: undefined }),
        ],
      });
    h.ddb.on(QueryCommand, { ScanIndexForward: false }).resolves({ Items: [] });

    // Act
    const snapshot = await h.store.loadSnapshot(BATCH_ID);

    // Assess
    expect(snapshot?.counters).toEqual({
      submitted_comparisons: 3,
      completed_comparisons: 2,
      failed_comparisons: 1,
    });
    expect(snapshot?.currentIteration).toBe(2);
    expect(snapshot?.config.MAX_ITERATIONS).toBe(7);
    expect(snapshot?.comparisons).toHaveLength(3);
    expect(snapshot?.comparisons[1]).toEqual({
      a: 1,
      b: 2,
      status: 'FAILED',
      failureKind: 'timeout',
      kind: 'coverage',
      iteration: 2,
      attempt: 1,
    });
    expect(snapshot?.comparisons[2]).toMatchObject({ kind: 'resample', resamplePass: 1 });
    expect(snapshot?.previousScores).toBeNull();
    const query = h.ddb.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(query.ConsistentRead).toBe(true);
  });

  it('returns null for an unknown batch', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(GetCommand).resolves({});

    // Act
    const snapshot = await h.store.loadSnapshot(BATCH_ID);

    // Assess
    expect(snapshot).toBeNull();
    expect(h.ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });
});

describe('saveScores and previous scores', () => {
  it('round-trips scores as Float32 and reads the latest evaluation BEFORE the current iteration', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(PutCommand).resolves({});
    await h.store.saveScores(BATCH_ID, 2, [0.5, -0.25, 1 / 3], NOW);
    const saved = h.ddb.commandCalls(PutCommand)[0]!.args[0].input.Item!;
    // Stored at an odd offset, as a decoded binary may be, to prove alignment is handled.
    const unaligned = new Uint8Array(new ArrayBuffer(13), 1, 12);
    unaligned.set(saved.scores as Uint8Array);
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ current_iteration: 3 }) });
    h.ddb
      .on(QueryCommand, { ScanIndexForward: false })
      .resolves({ Items: [{ ...saved, scores: unaligned }] });
    h.ddb
      .on(QueryCommand, {
        ExpressionAttributeValues: { ':pk': `BATCH#${BATCH_ID}`, ':prefix': 'CMP#' },
      })
      .resolves({ Items: [] });

    // Act
    const snapshot = await h.store.loadSnapshot(BATCH_ID);

    // Assess
    expect(saved.sk).toBe('SCORES#000002');
    expect(Array.from(snapshot?.previousScores ?? [])).toEqual([0.5, -0.25, Math.fround(1 / 3)]);
    const scoresQuery = h.ddb
      .commandCalls(QueryCommand)
      .find((call) => call.args[0].input.ScanIndexForward === false);
    expect(scoresQuery?.args[0].input.ExpressionAttributeValues).toMatchObject({
      ':first': 'SCORES#000000',
      ':last': 'SCORES#000002',
    });
    expect(scoresQuery?.args[0].input.Limit).toBe(1);
  });
});

describe('sweeper queries', () => {
  it('lists expired pending comparisons over every shard, up to the limit', async () => {
    // Prepare
    const h = storeHarness({ shards: 3 });
    const deadline = Date.parse('2026-11-27T07:00:00.000Z');
    const row = (id: string) => ({
      pk: `BATCH#${BATCH_ID}`,
      sk: `CMP#${id}`,
      gsi1pk: 'PENDING#0',
      gsi1sk: `${String(deadline).padStart(15, '0')}#${BATCH_ID}#${id}`,
    });
    h.ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [row('000001-000000')] })
      .resolvesOnce({ Items: [row('000001-000001'), row('000001-000002')] })
      .resolves({ Items: [row('000001-000003')] });

    // Act
    const expired = await h.store.listExpiredPending(NOW, 3);

    // Assess
    expect(expired).toEqual([
      { batch_id: BATCH_ID, comparison_id: '000001-000000', deadline: '2026-11-27T07:00:00.000Z' },
      { batch_id: BATCH_ID, comparison_id: '000001-000001', deadline: '2026-11-27T07:00:00.000Z' },
      { batch_id: BATCH_ID, comparison_id: '000001-000002', deadline: '2026-11-27T07:00:00.000Z' },
    ]);
    const queries = h.ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(queries).toHaveLength(2);
    expect(queries[0]).toMatchObject({
      IndexName: 'pending-by-deadline',
      KeyConditionExpression: '#gpk = :shard AND #gsk < :before',
      ExpressionAttributeValues: {
        ':shard': 'PENDING#0',
        ':before': `${String(NOW.getTime()).padStart(15, '0')}#`,
      },
      Limit: 3,
    });
    expect(queries[1]).toMatchObject({
      ExpressionAttributeValues: { ':shard': 'PENDING#1' },
      Limit: 2,
    });
  });

  it('lists active batch ids from the sparse index', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(QueryCommand).resolves({
      Items: [
        { pk: 'BATCH#b1', sk: 'META' },
        { pk: 'BATCH#b2', sk: 'META' },
      ],
    });

    // Act
    const ids = await h.store.listActiveBatches();

    // Assess
    expect(ids).toEqual(['b1', 'b2']);
    expect(h.ddb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({
      IndexName: 'active-batches',
      ExpressionAttributeValues: { ':active': 'ACTIVE' },
    });
  });
});
