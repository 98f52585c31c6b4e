/**
 * The Idempotency-Key items (docs/data-model.md): one per caller and key, naming the batch the
 * key's first create made. Written by createBatch's transaction; read here.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { idempotencyItemKey } from '#store/keys.ts';
import type { Table } from '#store/table.ts';

/** One consistent read of the key's item (a retried create must find its first batch). */
export async function findIdempotentBatch(table: Table, scope: string): Promise<string | null> {
  const output = await table.call(() =>
    table.client.send(
      new GetCommand({
        TableName: table.name,
        Key: idempotencyItemKey(scope),
        ConsistentRead: true,
      }),
    ),
  );
  const batchId = output.Item?.batch_id;
  return typeof batchId === 'string' ? batchId : null;
}
