/**
 * The engine's table for this function: the DynamoDB document client singleton and TABLE_NAME, read
 * on first use. Composition roots build the store roles they need on it (`#store/batches.ts`, …).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Table } from '#store/table.ts';
import { readEnv } from './env.ts';
import { lazy } from './lazy.ts';

export const table = lazy(
  () =>
    new Table({
      client: DynamoDBDocumentClient.from(new DynamoDBClient({}), {
        marshallOptions: { removeUndefinedValues: true },
      }),
      tableName: readEnv(['TABLE_NAME']).TABLE_NAME,
    }),
);
