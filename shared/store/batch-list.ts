/**
 * The list of an owner's batches (`GET /batches`) on DynamoDB: the owner index, newest first, and
 * the META of each batch it names (docs/data-model.md, "Indexes").
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import type { BatchListPage, BatchMeta, ListBatchesInput } from '#shared/workflow/store-records.ts';
import { ALL_BATCHES_PARTITION } from '#store/keys.ts';
import { stripKeys, type Table } from '#store/table.ts';
import {
  CREATED_INDEX,
  CREATED_PK,
  OWNER_INDEX,
  OWNER_PK,
  OWNER_SK,
  PK,
  SK,
} from '#store/table-schema.ts';

/**
 * One page of an owner's batches (or, without an owner, of every batch), newest first: the owner
 * index (the all-batches index; keys only) read backwards from
 * `after`, then the META of each key in one BatchGetItem. One key more than needed is read, so
 * `next` is set only when a batch follows. With a status filter the index is read on, page by
 * page, until the page is full or BATCH_LIST_MAX_INDEX_PAGES queries were made.
 */
export async function listOwnerBatches(
  table: Table,
  input: ListBatchesInput,
): Promise<BatchListPage> {
  const batches: BatchMeta[] = [];
  let position = input.after;
  // Without an owner, every batch (an admin's list): same sort key, one partition.
  const [index, partitionKey] =
    input.owner === undefined ? [CREATED_INDEX, CREATED_PK] : [OWNER_INDEX, OWNER_PK];
  for (let query = 0; query < DEFAULT_CONFIG.BATCH_LIST_MAX_INDEX_PAGES; query++) {
    const output = await table.call(() =>
      table.client.send(
        new QueryCommand({
          TableName: table.name,
          IndexName: index,
          KeyConditionExpression:
            position === undefined ? '#owner = :owner' : '#owner = :owner AND #created < :after',
          ExpressionAttributeNames: {
            '#owner': partitionKey,
            ...(position === undefined ? {} : { '#created': OWNER_SK }),
          },
          ExpressionAttributeValues: {
            ':owner': input.owner ?? ALL_BATCHES_PARTITION,
            ...(position === undefined ? {} : { ':after': position }),
          },
          ScanIndexForward: false,
          Limit: input.limit + 1,
        }),
      ),
    );
    const keys = output.Items ?? [];
    const metas = new Map(
      (await table.getKeys(keys.map((key) => ({ [PK]: key[PK], [SK]: key[SK] })))).map((item) => [
        String(item[PK]),
        item,
      ]),
    );
    for (const key of keys) {
      if (batches.length === input.limit)
        return { batches, ...(position ? { next: position } : {}) };
      position = String(key[OWNER_SK]);
      const item = metas.get(String(key[PK]));
      // A key whose META is gone (expired since the index was read) is skipped.
      if (!item) continue;
      const meta = stripKeys<BatchMeta>(item);
      if (input.status === undefined || meta.status === input.status) batches.push(meta);
    }
    if (!output.LastEvaluatedKey) return { batches };
  }
  return { batches, ...(position ? { next: position } : {}) };
}
