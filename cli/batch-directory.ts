/**
 * Which batches exist, for `cj dashboard`. Until the API lists batches (`GET /batches`), the
 * dashboard reads the ids from the local cloud's own table: one Scan of the META items, keys
 * only, with the admin keys the local cloud writes to `.local-cloud/state.json`. Local only: a
 * deployed stack grants no such read to anyone, and the dashboard is the local cloud's twin of
 * the CloudWatch dashboard.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { batchIdFromPk, META_SK } from '#store/keys.ts';
import { PK, SK } from '#store/table-schema.ts';
import type { BatchDirectory } from './dashboard.ts';
import { CliError, EXIT, UnreachableError } from './errors.ts';

export interface LocalTableAccess {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  tableName: string;
}

/** The table of the running local cloud, from its state file. */
export function localTableAccess(stateDir: string): LocalTableAccess {
  const file = join(stateDir, 'state.json');
  let state: {
    ready?: boolean;
    endpoint?: string;
    region?: string;
    credentials?: LocalTableAccess['credentials'];
    outputs?: Record<string, string>;
  };
  try {
    state = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new CliError(
      `cj dashboard lists the batches of the local cloud: none is running (no ${file}); start one with \`cj local start\``,
      EXIT.UNREACHABLE,
    );
  }
  const tableName = state.outputs?.TableName;
  if (!state.ready || !state.endpoint || !state.region || !state.credentials || !tableName) {
    throw new CliError(`the local cloud in ${stateDir} is not ready`, EXIT.UNREACHABLE);
  }
  return {
    endpoint: state.endpoint,
    region: state.region,
    credentials: state.credentials,
    tableName,
  };
}

/**
 * A failed Scan as the poller's retry policy reads failures: a dropped connection, a timeout or a
 * 5xx of the local DynamoDB is transient (UnreachableError with the socket's code, or ECONNRESET
 * for a 5xx); anything else (a refused key, a missing table) is not.
 */
function asReadFailure(endpoint: string, error: unknown): unknown {
  const failure = error as {
    code?: unknown;
    name?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (typeof failure.code === 'string') return new UnreachableError(endpoint, failure.code);
  if ((failure.$metadata?.httpStatusCode ?? 0) >= 500)
    return new UnreachableError(endpoint, 'ECONNRESET');
  if (failure.name === 'TimeoutError') return new UnreachableError(endpoint, 'TimeoutError');
  return error;
}

/** Every batch in the table (one META item each), scanned keys-only page by page. */
export function localTableDirectory(access: LocalTableAccess): BatchDirectory {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: access.endpoint,
      region: access.region,
      credentials: access.credentials,
      maxAttempts: 1, // the dashboard's poller retries (cli/retry.ts)
    }),
  );
  return {
    source: `the local cloud's table ${access.tableName}`,
    async batchIds() {
      const ids: string[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client
          .send(
            new ScanCommand({
              TableName: access.tableName,
              ProjectionExpression: '#pk',
              FilterExpression: '#sk = :meta',
              ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
              ExpressionAttributeValues: { ':meta': META_SK },
              ExclusiveStartKey: start,
            }),
          )
          .catch((error: unknown) => {
            throw asReadFailure(access.endpoint, error);
          });
        for (const item of page.Items ?? []) ids.push(batchIdFromPk(String(item[PK])));
        start = page.LastEvaluatedKey;
      } while (start);
      return ids;
    },
  };
}
