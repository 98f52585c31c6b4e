import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { BATCH_ID, NOW, storeHarness } from '#test/helpers/store-fakes.ts';

describe('sweeper queries', () => {
  const row = (id: string) => ({ comparison_id: id, deadline: '2026-11-27T07:00:00.000Z' });

  it("lists a wave's PENDING comparisons past their deadline from the wave's own items (consistent)", async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(QueryCommand).resolves({ Items: [row('000003-000001'), row('000003-000004')] });

    // Act
    const expired = await h.store.listExpiredInWave(BATCH_ID, 3, NOW, 10);

    // Assess
    expect(expired).toEqual([
      { batch_id: BATCH_ID, comparison_id: '000003-000001', deadline: '2026-11-27T07:00:00.000Z' },
      { batch_id: BATCH_ID, comparison_id: '000003-000004', deadline: '2026-11-27T07:00:00.000Z' },
    ]);
    const query = h.ddb.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(query).toMatchObject({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      FilterExpression: '#status = :pending AND deadline < :now',
      ConsistentRead: true,
      Limit: 10,
      ExpressionAttributeValues: {
        ':pk': `BATCH#${BATCH_ID}`,
        ':prefix': 'CMP#000003-',
        ':pending': 'PENDING',
        ':now': NOW.toISOString(),
      },
    });
    expect(query.IndexName).toBeUndefined();
  });

  it('follows the pages of a filtered query up to the limit and no further', async () => {
    // Prepare: the first page matched one item of its 4, the second page matches 3
    const h = storeHarness();
    h.ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [row('000001-000000')], LastEvaluatedKey: { pk: 'x', sk: 'y' } })
      .resolvesOnce({
        Items: [row('000001-000005'), row('000001-000006'), row('000001-000007')],
        LastEvaluatedKey: { pk: 'x', sk: 'z' },
      });

    // Act
    const expired = await h.store.listExpiredInWave(BATCH_ID, 1, NOW, 4);

    // Assess
    expect(expired.map((item) => item.comparison_id)).toEqual([
      '000001-000000',
      '000001-000005',
      '000001-000006',
      '000001-000007',
    ]);
    expect(h.ddb.commandCalls(QueryCommand).map((call) => call.args[0].input.Limit)).toEqual([
      4, 3,
    ]);
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
