import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MotoServer, startMotoServer } from '#localstack/local-cloud/moto-server.ts';

// Plain moto_server loses counter increments under concurrent transactions (200 concurrent
// transactions left a counter at 194); the local cloud's moto must not.
describe('the local cloud moto_server', () => {
  let moto: MotoServer;
  let client: DynamoDBClient;

  beforeAll(async () => {
    moto = await startMotoServer();
    client = new DynamoDBClient({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: moto.credentials,
    });
  });

  afterAll(async () => {
    client.destroy();
    await moto.stop();
  });

  it('applies concurrent transactions on one counter atomically', async () => {
    // Prepare
    const TableName = 'atomicity';
    await client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    await client.send(
      new PutItemCommand({ TableName, Item: { pk: { S: 'meta' }, n: { N: '0' } } }),
    );
    const transactions = 150;

    // Act
    await Promise.all(
      Array.from({ length: transactions }, (_, i) =>
        client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Put: {
                  TableName,
                  Item: { pk: { S: `comparison-${i}` } },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Update: {
                  TableName,
                  Key: { pk: { S: 'meta' } },
                  UpdateExpression: 'ADD n :one',
                  ExpressionAttributeValues: { ':one': { N: '1' } },
                },
              },
            ],
          }),
        ),
      ),
    );
    const meta = await client.send(
      new GetItemCommand({ TableName, Key: { pk: { S: 'meta' } }, ConsistentRead: true }),
    );

    // Assess
    expect(meta.Item?.n?.N).toBe(String(transactions));
  });
});
