/**
 * What the sweeper scans, on DynamoDB: the sparse pending-by-deadline index (sharded, sort key =
 * deadline first, so "expired" is one range condition per shard) and the sparse active-batches
 * index. Index reads are eventually consistent; every write they lead to is conditional.
 */
import type { SweepStore } from '#shared/workflow/ports.ts';
import type { ExpiredComparison } from '#shared/workflow/store-records.ts';
import {
  ACTIVE_PARTITION,
  batchIdFromPk,
  comparisonIdFromSk,
  pendingShardKey,
  pendingSortKeyBefore,
} from '#store/keys.ts';
import type { Table } from '#store/table.ts';
import {
  ACTIVE_INDEX,
  ACTIVE_PK,
  PENDING_INDEX,
  PENDING_PK,
  PENDING_SK,
  PK,
  SK,
} from '#store/table-schema.ts';

/** The deadline an index sort key starts with (`<ms>#<batch>#<comparison>`). */
function deadlineOf(sortKey: string): string {
  return new Date(Number(sortKey.slice(0, sortKey.indexOf('#')))).toISOString();
}

export function dynamoSweeps(table: Table): SweepStore {
  return {
    /** Up to `limit` PENDING comparisons whose deadline is before `now`, over every shard. */
    async listExpiredPending(now, limit): Promise<ExpiredComparison[]> {
      const expired: ExpiredComparison[] = [];
      for (let shard = 0; shard < table.pendingShards && expired.length < limit; shard++) {
        const items = await table.queryAll(
          {
            IndexName: PENDING_INDEX,
            KeyConditionExpression: '#gpk = :shard AND #gsk < :before',
            ExpressionAttributeNames: { '#gpk': PENDING_PK, '#gsk': PENDING_SK },
            ExpressionAttributeValues: {
              ':shard': pendingShardKey(shard),
              ':before': pendingSortKeyBefore(now.getTime()),
            },
          },
          limit - expired.length,
        );
        for (const item of items) {
          expired.push({
            batch_id: batchIdFromPk(String(item[PK])),
            comparison_id: comparisonIdFromSk(String(item[SK])),
            deadline: deadlineOf(String(item[PENDING_SK])),
          });
        }
      }
      return expired;
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
