import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  actionOf,
  dynamodbUnits,
  itemBytes,
  serviceOf,
  startCountingProxy,
} from '#bench/request-counter.ts';

const AUTH = (service: string) =>
  `AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=x`;

describe('request classification', () => {
  it('reads the service from the SigV4 scope and the action from the target or form body', () => {
    // Prepare
    const auth = AUTH('dynamodb');

    // Act
    const service = serviceOf(auth);
    const jsonAction = actionOf('DynamoDB_20120810.TransactWriteItems', '');
    const queryAction = actionOf(undefined, 'Version=2010-08-01&Action=PutMetricData&x=1');

    // Assess
    expect(service).toBe('dynamodb');
    expect(serviceOf(undefined)).toBe('unknown');
    expect(jsonAction).toBe('TransactWriteItems');
    expect(queryAction).toBe('PutMetricData');
  });
});

describe('DynamoDB request units', () => {
  it('sizes an item by attribute names and values', () => {
    // Prepare
    const item = { pk: { S: 'abc' }, n: { N: '12345' }, ok: { BOOL: true } };

    // Act
    const bytes = itemBytes(item);

    // Assess: pk+abc = 5, n+ceil(5/2)+1 = 1+4, ok+1 = 3
    expect(bytes).toBe(13);
  });

  it('charges transactions double per item and rounds writes up per KB', () => {
    // Prepare
    const big = { pk: { S: 'x'.repeat(1500) } };
    const request = { TransactItems: [{ Put: { Item: big } }, { Update: { Key: {} } }] };

    // Act
    const units = dynamodbUnits('TransactWriteItems', request, {});

    // Assess: put 2 KB → 2 units ×2, update 1 unit ×2
    expect(units).toEqual({ read: 0, write: 6 });
  });

  it('charges one write unit per index entry a write adds, moves or removes', () => {
    // Prepare: a META put into the active index, a finalizing transaction taking it out again
    // beside another update, a counter-only update, and a put outside every index
    const indexed = { pk: { S: 'BATCH#b' }, gsi2pk: { S: 'ACTIVE' }, gsi2sk: { S: 'b' } };
    const callback = {
      TransactItems: [
        {
          Update: {
            UpdateExpression: 'SET #status = :done REMOVE #apk, #ask',
            ExpressionAttributeNames: { '#status': 'status', '#apk': 'gsi2pk', '#ask': 'gsi2sk' },
          },
        },
        { Update: { UpdateExpression: 'ADD completed :one' } },
      ],
    };

    // Act
    const put = dynamodbUnits('PutItem', { Item: indexed }, {});
    const batch = dynamodbUnits(
      'BatchWriteItem',
      { RequestItems: { t: [{ PutRequest: { Item: indexed } }, { PutRequest: { Item: {} } }] } },
      {},
    );
    const transaction = dynamodbUnits('TransactWriteItems', callback, {});
    const counters = dynamodbUnits('UpdateItem', { UpdateExpression: 'ADD completed :one' }, {});
    const plain = dynamodbUnits('PutItem', { Item: { pk: { S: 'x' } } }, {});

    // Assess: item units plus one per index entry; a transaction doubles items, not index entries
    expect(put.write).toBe(2);
    expect(batch.write).toBe(3);
    expect(transaction.write).toBe(2 * 1 + 1 + 2 * 1);
    expect(counters.write).toBe(1);
    expect(plain.write).toBe(1);
  });

  it('charges an eventually consistent query half a unit per started 4 KB of results', () => {
    // Prepare
    const items = Array.from({ length: 3 }, () => ({ pk: { S: 'y'.repeat(2000) } }));

    // Act
    const eventual = dynamodbUnits('Query', {}, { Items: items });
    const strong = dynamodbUnits('Query', { ConsistentRead: true }, { Items: items });

    // Assess: ~6 KB → 2 units strongly consistent, 1 eventually
    expect(eventual).toEqual({ read: 1, write: 0 });
    expect(strong).toEqual({ read: 2, write: 0 });
  });
});

describe('counting proxy', () => {
  it('forwards requests unchanged and tallies them by service, action and queue type', async () => {
    // Prepare
    const upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ echoed: req.headers['x-amz-target'] }));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    const proxy = await startCountingProxy(`http://127.0.0.1:${port}`);
    const call = (service: string, target: string, body: unknown) =>
      fetch(proxy.endpoint, {
        method: 'POST',
        headers: { authorization: AUTH(service), 'x-amz-target': target },
        body: JSON.stringify(body),
      }).then((r) => r.json());

    try {
      // Act
      const answer = await call('sqs', 'AmazonSQS.SendMessage', { QueueUrl: 'http://q/a.fifo' });
      await call('sqs', 'AmazonSQS.ReceiveMessage', { QueueUrl: 'http://q/b' });
      await call('dynamodb', 'DynamoDB_20120810.PutItem', { Item: { pk: { S: 'a' } } });
      await call('events', 'AWSEvents.PutEvents', { Entries: [{}, {}] });

      // Assess
      expect(answer).toEqual({ echoed: 'AmazonSQS.SendMessage' });
      expect(proxy.tally.byAction).toEqual({
        'sqs.SendMessage': 1,
        'sqs.ReceiveMessage': 1,
        'dynamodb.PutItem': 1,
        'events.PutEvents': 1,
      });
      expect(proxy.tally.sqsFifoBilledRequests).toBe(1);
      // The upstream's answer has no Messages: an empty receive, counted apart and not billed here.
      expect(proxy.tally.sqsStandardBilledRequests).toBe(0);
      expect(proxy.tally.sqsEmptyReceives).toBe(1);
      expect(proxy.tally.dynamodbWriteUnits).toBe(1);
      expect(proxy.tally.eventBridgeEvents).toBe(2);
      expect(Object.keys(proxy.tally.upstreamMsByAction).sort()).toEqual([
        'dynamodb.PutItem',
        'events.PutEvents',
        'sqs.ReceiveMessage(empty)',
        'sqs.SendMessage',
      ]);
      proxy.reset();
      expect(proxy.tally.requestsByService).toEqual({});
    } finally {
      await proxy.close();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });

  it('forwards DynamoDB requests as they come (moto serializes them), timing each answer', async () => {
    // Prepare: an upstream that answers after a pause and records how many requests overlap.
    let inFlight = 0;
    let maxInFlight = 0;
    const upstream = createServer((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      req.resume();
      setTimeout(() => {
        inFlight--;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      }, 20);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    const proxy = await startCountingProxy(`http://127.0.0.1:${port}`);

    try {
      // Act
      await Promise.all(
        Array.from({ length: 5 }, () =>
          fetch(proxy.endpoint, {
            method: 'POST',
            headers: {
              authorization: AUTH('dynamodb'),
              'x-amz-target': 'DynamoDB_20120810.PutItem',
            },
            body: '{}',
          }).then((r) => r.text()),
        ),
      );

      // Assess
      expect(maxInFlight).toBeGreaterThan(1);
      expect(proxy.tally.byAction['dynamodb.PutItem']).toBe(5);
      // Five answers of >= 20 ms each.
      expect(proxy.tally.upstreamMsByAction['dynamodb.PutItem']).toBeGreaterThanOrEqual(95);
    } finally {
      await proxy.close();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });
});
