/**
 * What the sweeper scans, on DynamoDB: the sparse pending-by-deadline index (sharded, sort key =
 * deadline first, so "expired" is one range condition per shard) and the sparse active-batches
 * index. Index reads are eventually consistent; every write they lead to is conditional.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SweepStore } from '#shared/workflow/ports.ts';
import type { BatchMeta, ExpiredComparison } from '#shared/workflow/store-records.ts';
import {
  ACTIVE_PARTITION,
  batchIdFromPk,
  comparisonIdFromSk,
  comparisonSk,
  itemKey,
  metaKey,
  pendingShardKey,
  pendingSortKeyBefore,
} from '#store/keys.ts';
import { type Item, stripKeys, type Table } from '#store/table.ts';
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

function expiredOf(item: Item): ExpiredComparison {
  const entry = String(item[PENDING_SK]);
  return {
    batch_id: batchIdFromPk(String(item[PK])),
    comparison_id: comparisonIdFromSk(String(item[SK])),
    deadline: deadlineOf(entry),
    index_entry: entry,
  };
}

/**
 * The shards in the order one run reads them: a different first shard each minute, so no shard is
 * always read last when the quota runs out.
 */
export function shardOrder(now: Date, shards: number): number[] {
  const first = Math.floor(now.getTime() / 60_000) % shards;
  return Array.from({ length: shards }, (_, offset) => (first + offset) % shards);
}

export function dynamoSweeps(table: Table): SweepStore {
  /** The `limit` oldest expired entries of one shard (eventually consistent). */
  const expiredInShard = (shard: number, now: Date, limit: number): Promise<Item[]> =>
    table.queryAll(
      {
        IndexName: PENDING_INDEX,
        KeyConditionExpression: '#gpk = :shard AND #gsk < :before',
        ExpressionAttributeNames: { '#gpk': PENDING_PK, '#gsk': PENDING_SK },
        ExpressionAttributeValues: {
          ':shard': pendingShardKey(shard),
          ':before': pendingSortKeyBefore(now.getTime()),
        },
      },
      limit,
    );

  return {
    /**
     * Up to `limit` PENDING comparisons whose deadline is before `now`: first up to an equal quota
     * per shard, taken in turn (shardOrder), then what the shards that had fewer left over, to the
     * shards that had more, in the same order. So a shard crowded with overdue items (a large
     * batch's lost callbacks, entries no callback can record) never starves the others.
     */
    async listExpiredPending(now, limit): Promise<ExpiredComparison[]> {
      const order = shardOrder(now, table.pendingShards);
      const quota = Math.max(1, Math.ceil(limit / order.length));
      const expired: ExpiredComparison[] = [];
      const full: number[] = [];
      for (const shard of order) {
        const take = Math.min(quota, limit - expired.length);
        if (take <= 0) break;
        const items = await expiredInShard(shard, now, take);
        expired.push(...items.map(expiredOf));
        if (items.length === take) full.push(shard);
      }
      for (const shard of full) {
        const left = limit - expired.length;
        if (left <= 0) break;
        // Read past the quota: the first `quota` entries are listed already.
        const items = await expiredInShard(shard, now, quota + left);
        const seen = new Set(expired.map((item) => item.index_entry));
        expired.push(...items.map(expiredOf).filter((item) => !seen.has(item.index_entry)));
      }
      return expired.slice(0, limit);
    },

    /** Removes the index attributes only while the entry is the one listed (conditional). */
    async leavePendingIndex(expired): Promise<boolean> {
      return table.conditional(
        async () => {
          await table.call(() =>
            table.client.send(
              new UpdateCommand({
                TableName: table.name,
                Key: itemKey(expired.batch_id, comparisonSk(expired.comparison_id)),
                UpdateExpression: 'REMOVE #gpk, #gsk',
                ConditionExpression: '#gsk = :entry',
                ExpressionAttributeNames: { '#gpk': PENDING_PK, '#gsk': PENDING_SK },
                ExpressionAttributeValues: { ':entry': expired.index_entry },
              }),
            ),
          );
          return true;
        },
        () => false,
      );
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
