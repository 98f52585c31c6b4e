import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { shardOrder } from '#store/sweeps.ts';
import { BATCH_ID, NOW, storeHarness } from '#test/helpers/store-fakes.ts';

describe('sweeper queries', () => {
  const deadline = Date.parse('2026-11-27T07:00:00.000Z');
  const entry = (id: string) => `${String(deadline).padStart(15, '0')}#${BATCH_ID}#${id}`;
  const row = (id: string) => ({
    pk: `BATCH#${BATCH_ID}`,
    sk: `CMP#${id}`,
    gsi1pk: 'PENDING#0',
    gsi1sk: entry(id),
  });
  const expiredRow = (id: string) => ({
    batch_id: BATCH_ID,
    comparison_id: id,
    deadline: '2026-11-27T07:00:00.000Z',
    index_entry: entry(id),
  });

  it('takes the shards in turn, a different one first each minute', () => {
    // Prepare
    const minute = 60_000;

    // Act
    const orders = [0, 1, 2, 3].map((k) => shardOrder(new Date(k * minute + 59_999), 3));

    // Assess
    expect(orders).toEqual([
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
      [0, 1, 2],
    ]);
  });

  it('lists expired pending comparisons with an equal quota per shard, then the leftover quota', async () => {
    // Prepare: limit 6 over 3 shards (quota 2); the second shard read has one, the others more
    const h = storeHarness({ shards: 3 });
    const order = shardOrder(NOW, 3);
    const byShard = new Map<string, string[]>([
      [`PENDING#${order[0]}`, ['000001-000000', '000001-000001', '000001-000002', '000001-000003']],
      [`PENDING#${order[1]}`, ['000001-000010']],
      [`PENDING#${order[2]}`, ['000001-000020', '000001-000021', '000001-000022']],
    ]);
    h.ddb.on(QueryCommand).callsFake((input) => {
      const ids = byShard.get(input.ExpressionAttributeValues[':shard']) ?? [];
      return { Items: ids.slice(0, input.Limit).map(row) };
    });

    // Act
    const expired = await h.store.listExpiredPending(NOW, 6);

    // Assess: 2 + 1 + 2 in turn, then the one left over from the first shard that had more
    expect(expired).toEqual(
      [
        '000001-000000',
        '000001-000001',
        '000001-000010',
        '000001-000020',
        '000001-000021',
        '000001-000002',
      ].map(expiredRow),
    );
    const queries = h.ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(queries[0]).toMatchObject({
      IndexName: 'pending-by-deadline',
      KeyConditionExpression: '#gpk = :shard AND #gsk < :before',
      ExpressionAttributeValues: {
        ':shard': `PENDING#${order[0]}`,
        ':before': `${String(NOW.getTime()).padStart(15, '0')}#`,
      },
      Limit: 2,
    });
    expect(queries.map((q) => [q.ExpressionAttributeValues?.[':shard'], q.Limit])).toEqual([
      [`PENDING#${order[0]}`, 2],
      [`PENDING#${order[1]}`, 2],
      [`PENDING#${order[2]}`, 2],
      [`PENDING#${order[0]}`, 3],
    ]);
  });

  it('stops at the limit when every shard is crowded', async () => {
    // Prepare
    const h = storeHarness({ shards: 2 });
    let next = 0;
    h.ddb.on(QueryCommand).callsFake((input) => ({
      Items: Array.from({ length: input.Limit }, () =>
        row(`000001-${String(next++).padStart(6, '0')}`),
      ),
    }));

    // Act
    const expired = await h.store.listExpiredPending(NOW, 3);

    // Assess: quota 2 from the first shard, the last one from the second
    expect(expired).toHaveLength(3);
    expect(h.ddb.commandCalls(QueryCommand).map((call) => call.args[0].input.Limit)).toEqual([
      2, 1,
    ]);
  });

  it('takes an expired entry out of the pending index only while it is the one listed', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb
      .on(UpdateCommand)
      .resolvesOnce({})
      .rejects(new ConditionalCheckFailedException({ message: 'changed', $metadata: {} }));

    // Act
    const removed = await h.store.leavePendingIndex(expiredRow('000002-000004'));
    const changed = await h.store.leavePendingIndex(expiredRow('000002-000005'));

    // Assess
    expect([removed, changed]).toEqual([true, false]);
    expect(h.ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toEqual({
      TableName: expect.any(String),
      Key: { pk: `BATCH#${BATCH_ID}`, sk: 'CMP#000002-000004' },
      UpdateExpression: 'REMOVE #gpk, #gsk',
      ConditionExpression: '#gsk = :entry',
      ExpressionAttributeNames: { '#gpk': 'gsi1pk', '#gsk': 'gsi1sk' },
      ExpressionAttributeValues: { ':entry': entry('000002-000004') },
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
