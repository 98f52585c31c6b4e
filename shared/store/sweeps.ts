/**
 * What the sweeper reads, on DynamoDB: the sparse active-batches index (every RUNNING batch), their
 * META items together, and — only for a batch whose current wave is past its deadline with
 * callbacks still pending — that wave's PENDING comparisons. No index entry per comparison: the
 * gate plans a wave only once every comparison of the one before is terminal, so a RUNNING
 * batch's pending comparisons are all in its current wave (docs/data-model.md, "The sweeper").
 */
import type { SweepStore } from '#shared/workflow/ports.ts';
import type { BatchMeta, ExpiredComparison } from '#shared/workflow/store-records.ts';
import { ACTIVE_PARTITION, batchIdFromPk, batchPk, iterationPrefix, metaKey } from '#store/keys.ts';
import { stripKeys, type Table } from '#store/table.ts';
import { ACTIVE_INDEX, ACTIVE_PK, PK, SK } from '#store/table-schema.ts';

export function dynamoSweeps(table: Table): SweepStore {
  return {
    /** A query of the wave's items filtered to PENDING past their deadline (consistent). */
    async listExpiredInWave(batchId, iteration, now, limit): Promise<ExpiredComparison[]> {
      const items = await table.queryAll(
        {
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          FilterExpression: '#status = :pending AND deadline < :now',
          ProjectionExpression: 'comparison_id, deadline',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#status': 'status' },
          ExpressionAttributeValues: {
            ':pk': batchPk(batchId),
            ':prefix': iterationPrefix(iteration),
            ':pending': 'PENDING',
            ':now': now.toISOString(),
          },
          ConsistentRead: true,
        },
        limit,
      );
      return items.slice(0, limit).map((item) => ({
        batch_id: batchId,
        comparison_id: String(item.comparison_id),
        deadline: String(item.deadline),
      }));
    },

    /** META of each batch that exists, in BatchGets of 100 (strongly consistent). */
    async getBatches(batchIds): Promise<Map<string, BatchMeta>> {
      const items = await table.getKeys(
        [...new Set(batchIds)].map((batchId) => metaKey(batchId)),
        true,
      );
      return new Map(
        items.map((item) => [batchIdFromPk(String(item[PK])), stripKeys<BatchMeta>(item)]),
      );
    },

    /** Ids of RUNNING batches (sparse index; eventually consistent). */
    async listActiveBatches(): Promise<string[]> {
      const items = await table.queryAll({
        IndexName: ACTIVE_INDEX,
        KeyConditionExpression: '#apk = :active',
        ExpressionAttributeNames: { '#apk': ACTIVE_PK },
        ExpressionAttributeValues: { ':active': ACTIVE_PARTITION },
      });
      return items.map((item) => batchIdFromPk(String(item[PK])));
    },
  };
}
