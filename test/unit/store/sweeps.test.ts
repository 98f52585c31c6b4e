import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { BATCH_ID, NOW, storeHarness } from '#test/helpers/store-fakes.ts';

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
