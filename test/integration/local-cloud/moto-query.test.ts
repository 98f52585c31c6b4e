/**
 * The local cloud's moto answers a query from the queried partition only (moto_speed.py), where
 * moto itself sorts the whole table first. The answers must be exactly moto's own: the same
 * queries, on the same items, against a moto_server running moto's own query code
 * (CJ_LOCAL_MOTO_FULL_INDEX_QUERY=1), give the same items, counts and page keys.
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MotoServer, startMotoServer } from '#localstack/local-cloud/moto-server.ts';
import { PK, SK, TABLE_INDEXES } from '#store/table-schema.ts';

const TABLE = 'query-parity';
/** A sharded, deadline-sorted index (the shape of a busy sparse index) and the store's active index. */
const INDEXES = {
  'by-deadline': { partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  'active-batches': TABLE_INDEXES['active-batches'],
};
const [pendingIndex, activeIndex] = Object.keys(INDEXES) as [string, string];
const pending = INDEXES['by-deadline'];
const active = INDEXES['active-batches'];

/** 40 partitions of 30 items; every 7th item is in the deadline index, every 50th in the active. */
function items(): Record<string, AttributeValue>[] {
  return Array.from({ length: 1200 }, (_, i) => ({
    [PK]: { S: `BATCH#${String(i % 40).padStart(3, '0')}` },
    [SK]: { S: `CMP#${String(i).padStart(5, '0')}` },
    n: { N: String(i % 13) },
    ...(i % 7 === 0
      ? {
          [pending.partitionKey]: { S: `PENDING#${i % 3}` },
          [pending.sortKey]: { S: `${String((i * 37) % 1000).padStart(4, '0')}#${i}` },
        }
      : {}),
    ...(i % 50 === 0
      ? { [active.partitionKey]: { S: 'ACTIVE' }, [active.sortKey]: { S: `B#${i}` } }
      : {}),
  }));
}

/** The queries the store makes, and their edges: key conditions, pages, order, filters, misses. */
const QUERIES: Omit<QueryCommandInput, 'TableName'>[] = [
  { KeyConditionExpression: '#pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'BATCH#007' } } },
  {
    KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
    ExpressionAttributeValues: { ':pk': { S: 'BATCH#012' }, ':prefix': { S: 'CMP#001' } },
    ScanIndexForward: false,
  },
  {
    KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
    ExpressionAttributeValues: {
      ':pk': { S: 'BATCH#003' },
      ':from': { S: 'CMP#00100' },
      ':to': { S: 'CMP#00900' },
    },
    Limit: 4,
  },
  {
    KeyConditionExpression: '#pk = :pk',
    FilterExpression: 'n > :n',
    ExpressionAttributeValues: { ':pk': { S: 'BATCH#020' }, ':n': { N: '6' } },
    Limit: 9,
  },
  {
    // The sweeper's: one wave's items, filtered, a page limit below the wave's size.
    KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
    FilterExpression: 'n < :n',
    ExpressionAttributeValues: {
      ':pk': { S: 'BATCH#021' },
      ':prefix': { S: 'CMP#00' },
      ':n': { N: '4' },
    },
    Limit: 5,
  },
  { KeyConditionExpression: '#pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'NOPE' } } },
  {
    IndexName: pendingIndex,
    KeyConditionExpression: '#gpk = :p AND #gsk < :until',
    ExpressionAttributeValues: { ':p': { S: 'PENDING#1' }, ':until': { S: '0500' } },
    Limit: 6,
  },
  {
    IndexName: pendingIndex,
    KeyConditionExpression: '#gpk = :p',
    ExpressionAttributeValues: { ':p': { S: 'PENDING#2' } },
    ScanIndexForward: false,
    Limit: 11,
  },
  {
    IndexName: activeIndex,
    KeyConditionExpression: '#apk = :a',
    ExpressionAttributeValues: { ':a': { S: 'ACTIVE' } },
  },
  {
    IndexName: activeIndex,
    KeyConditionExpression: '#apk = :a',
    ExpressionAttributeValues: { ':a': { S: 'NONE' } },
  },
];

const NAMES: Record<string, string> = {
  '#pk': PK,
  '#sk': SK,
  '#gpk': pending.partitionKey,
  '#gsk': pending.sortKey,
  '#apk': active.partitionKey,
};

/** Every page of a query, with the counts and page keys of each. */
async function allPages(client: DynamoDBClient, input: Omit<QueryCommandInput, 'TableName'>) {
  const expression = `${input.KeyConditionExpression} ${input.FilterExpression ?? ''}`;
  const names = Object.fromEntries(Object.entries(NAMES).filter(([n]) => expression.includes(n)));
  const pages = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const answer = await client.send(
      new QueryCommand({
        ...input,
        TableName: TABLE,
        ExpressionAttributeNames: names,
        ExclusiveStartKey: start,
      }),
    );
    pages.push({
      items: answer.Items,
      count: answer.Count,
      scanned: answer.ScannedCount,
      next: answer.LastEvaluatedKey,
    });
    start = answer.LastEvaluatedKey;
  } while (start && pages.length < 200);
  return pages;
}

describe('queries on the local cloud moto_server', () => {
  const servers: MotoServer[] = [];
  const clients: DynamoDBClient[] = [];

  beforeAll(async () => {
    // Prepare: the local cloud's moto and moto's own query code, holding the same items
    const envs: Record<string, string>[] = [{}, { CJ_LOCAL_MOTO_FULL_INDEX_QUERY: '1' }];
    for (const env of envs) {
      const moto = await startMotoServer({ env });
      servers.push(moto);
      const client = new DynamoDBClient({
        endpoint: moto.endpoint,
        region: 'us-east-1',
        credentials: moto.credentials,
      });
      clients.push(client);
      const keys = [PK, SK, pending.partitionKey, pending.sortKey, active.partitionKey];
      await client.send(
        new CreateTableCommand({
          TableName: TABLE,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [...new Set([...keys, active.sortKey])].map((name) => ({
            AttributeName: name,
            AttributeType: 'S',
          })),
          KeySchema: [
            { AttributeName: PK, KeyType: 'HASH' },
            { AttributeName: SK, KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: Object.entries(INDEXES).map(([name, index]) => ({
            IndexName: name,
            KeySchema: [
              { AttributeName: index.partitionKey, KeyType: 'HASH' },
              { AttributeName: index.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          })),
        }),
      );
      const all = items();
      for (let start = 0; start < all.length; start += 25) {
        await client.send(
          new BatchWriteItemCommand({
            RequestItems: {
              [TABLE]: all.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } })),
            },
          }),
        );
      }
    }
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await Promise.all(servers.map((server) => server.stop()));
  });

  it.each(QUERIES.map((query, i) => [i, query] as const))(
    'query %i answers exactly as moto does',
    async (_i, query) => {
      // Act
      const [fast, own] = await Promise.all(clients.map((client) => allPages(client, query)));

      // Assess
      expect(fast).toEqual(own);
    },
  );

  it('finds what the queries are about (the comparison is not of empty answers)', async () => {
    // Act
    const answers = await Promise.all(QUERIES.map((query) => allPages(clients[0]!, query)));

    // Assess: every query but the two misses finds items, and some run to several pages
    const found = answers.map((pages) => pages.reduce((n, page) => n + (page.count ?? 0), 0));
    expect(found.filter((n) => n === 0)).toHaveLength(2);
    expect(answers.some((pages) => pages.length > 2)).toBe(true);
  });
});
