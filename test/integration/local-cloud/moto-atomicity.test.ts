import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MotoServer, startMotoServer } from '#localstack/local-cloud/moto-server.ts';
import { localSqs } from '#test/helpers/local-cloud-fixtures.ts';

// Plain moto_server loses counter increments under concurrent transactions (200 concurrent
// transactions left a counter at 194); the local cloud's moto must not. Its transactions copy only
// the items they name (moto_transactions.py), so a cancelled one must put exactly those back.
describe('the local cloud moto_server', () => {
  let moto: MotoServer;
  let client: DynamoDBClient;
  let sqs: SQSClient;

  beforeAll(async () => {
    moto = await startMotoServer();
    client = new DynamoDBClient({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: moto.credentials,
    });
    sqs = localSqs(moto.endpoint, 'us-east-1', moto.credentials);
  });

  afterAll(async () => {
    client.destroy();
    sqs.destroy();
    await moto.stop();
  });

  /** Sends `bodies` to the queue, ten per request, with the FIFO group `groupOf(i)` if given. */
  async function fill(
    queueUrl: string,
    count: number,
    groupOf?: (i: number) => string,
  ): Promise<void> {
    for (let start = 0; start < count; start += 10) {
      const ids = Array.from({ length: Math.min(10, count - start) }, (_, k) => start + k);
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: ids.map((i) => ({
            Id: `m${i}`,
            MessageBody: `${i}`,
            ...(groupOf ? { MessageGroupId: groupOf(i), MessageDeduplicationId: `d${i}` } : {}),
          })),
        }),
      );
    }
  }

  /** `pollers` concurrent consumers each receiving until the queue answers empty; what each got. */
  async function drain(queueUrl: string, pollers: number): Promise<Message[][]> {
    return Promise.all(
      Array.from({ length: pollers }, async () => {
        const got: Message[] = [];
        for (;;) {
          const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl,
              MaxNumberOfMessages: 10,
              VisibilityTimeout: 300,
              WaitTimeSeconds: 0,
            }),
          );
          if (Messages.length === 0) return got;
          got.push(...Messages);
        }
      }),
    );
  }

  // moto's own receive marks messages in flight and copies them with no lock: concurrent pollers
  // took one message twice or got a 500 after their messages were hidden (moto_sqs.py).
  it('hands each message of a standard queue to one of many concurrent pollers, once', async () => {
    // Prepare
    const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'receives' }));
    const messages = 400;
    await fill(QueueUrl, messages);

    // Act
    const received = (await drain(QueueUrl, 24)).flat();

    // Assess: every receive answered, and no message went out twice while hidden
    const bodies = received.map((message) => message.Body);
    expect(new Set(bodies).size).toBe(bodies.length);
    expect(bodies.length).toBe(messages);
  });

  it('hands a FIFO group in flight to no second poller', async () => {
    // Prepare
    const { QueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'groups.fifo',
        Attributes: { FifoQueue: 'true' },
      }),
    );
    const groups = 8;
    await fill(QueueUrl, 160, (i) => `g${i % groups}`);

    // Act
    const perPoller = await drain(QueueUrl, 24);

    // Assess: while a group has messages in flight (300 s here), only its first taker gets more
    const takers = new Map<string, Set<number>>();
    perPoller.forEach((got, poller) => {
      for (const message of got) {
        const group = `g${Number(message.Body) % groups}`;
        takers.set(group, (takers.get(group) ?? new Set()).add(poller));
      }
    });
    expect(takers.size).toBe(groups);
    for (const pollers of takers.values()) expect(pollers.size).toBe(1);
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

  describe('a cancelled transaction on a table with a sort key', () => {
    const TableName = 'rollback';
    const key = (sk: string) => ({ pk: { S: 'BATCH#1' }, sk: { S: sk } });
    const read = async (sk: string) =>
      (await client.send(new GetItemCommand({ TableName, Key: key(sk), ConsistentRead: true })))
        .Item;

    beforeAll(async () => {
      await client.send(
        new CreateTableCommand({
          TableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        }),
      );
    });

    it('puts back every item its earlier actions wrote, changed or deleted, and names the failed check', async () => {
      // Prepare
      await client.send(
        new PutItemCommand({ TableName, Item: { ...key('META'), n: { N: '5' }, s: { S: 'x' } } }),
      );
      await client.send(
        new PutItemCommand({ TableName, Item: { ...key('OLD'), v: { S: 'kept' } } }),
      );
      await client.send(
        new PutItemCommand({ TableName, Item: { ...key('GATE'), open: { BOOL: false } } }),
      );

      // Act
      const cancelled = await client
        .send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName, Item: { ...key('NEW'), v: { S: 'new' } } } },
              {
                Update: {
                  TableName,
                  Key: key('META'),
                  UpdateExpression: 'ADD n :one REMOVE s',
                  ExpressionAttributeValues: { ':one': { N: '1' } },
                },
              },
              { Delete: { TableName, Key: key('OLD') } },
              {
                ConditionCheck: {
                  TableName,
                  Key: key('GATE'),
                  ConditionExpression: '#open = :yes',
                  ExpressionAttributeNames: { '#open': 'open' },
                  ExpressionAttributeValues: { ':yes': { BOOL: true } },
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
            ],
          }),
        )
        .then(
          () => undefined,
          (error: unknown) => error,
        );

      // Assess
      expect(cancelled).toBeInstanceOf(TransactionCanceledException);
      const reasons = (cancelled as TransactionCanceledException).CancellationReasons ?? [];
      expect(reasons.map((reason) => reason.Code)).toEqual([
        'None',
        'None',
        'None',
        'ConditionalCheckFailed',
      ]);
      expect(reasons[3]?.Item?.open).toEqual({ BOOL: false });
      expect(await read('NEW')).toBeUndefined();
      expect(await read('META')).toEqual({ ...key('META'), n: { N: '5' }, s: { S: 'x' } });
      expect(await read('OLD')).toEqual({ ...key('OLD'), v: { S: 'kept' } });
    });

    it('applies every action when all checks pass', async () => {
      // Prepare
      await client.send(
        new PutItemCommand({ TableName, Item: { ...key('COUNT'), n: { N: '1' } } }),
      );

      // Act
      await client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName,
                Item: { ...key('ITEM#1'), v: { S: 'one' } },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName,
                Key: key('COUNT'),
                UpdateExpression: 'ADD n :one',
                ExpressionAttributeValues: { ':one': { N: '1' } },
              },
            },
          ],
        }),
      );

      // Assess
      expect(await read('ITEM#1')).toEqual({ ...key('ITEM#1'), v: { S: 'one' } });
      expect((await read('COUNT'))?.n).toEqual({ N: '2' });
    });

    it('refuses two actions on one item without applying either', async () => {
      // Prepare
      await client.send(
        new PutItemCommand({ TableName, Item: { ...key('TWICE'), n: { N: '1' } } }),
      );
      const add = {
        Update: {
          TableName,
          Key: key('TWICE'),
          UpdateExpression: 'ADD n :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
        },
      };

      // Act
      const refused = await client
        .send(new TransactWriteItemsCommand({ TransactItems: [add, add] }))
        .then(
          () => undefined,
          (error: { name?: string }) => error.name,
        );

      // Assess
      expect(refused).toBe('ValidationException');
      expect((await read('TWICE'))?.n).toEqual({ N: '1' });
    });
  });
});
