/**
 * Fault injection of the local cloud (chaos.ts), each fault against real servers: a crash kills
 * the instance and fails the invocation (only where a crash is allowed), a duplicate is delivered
 * once more and then deleted, a drop is deleted unread, and moto answers a function's DynamoDB
 * request with a throttle or a transaction conflict only after its IAM check.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  assertChaosTargets,
  CHAOS_LOG,
  Chaos,
  chaosEnabled,
  countFaults,
  formatChaos,
  NO_CHAOS,
  parseChaos,
} from '#localstack/local-cloud/chaos.ts';
import { localClientConfig } from '#localstack/local-cloud/iam.ts';
import { type LocalCloud, runLocalCloud } from '#localstack/local-cloud/local-cloud.ts';
import { type BatchRecord, EventSourcePoller } from '#localstack/local-cloud/sqs-poller.ts';
import { sqsEvent, sqsRecord } from '#test/helpers/events.ts';
import {
  FIXTURE_TEMPLATE,
  fixtureBody,
  localSqs,
  recordBatches,
  removeTemporaryDirs,
  temporaryDir,
  waitFor,
} from '#test/helpers/local-cloud-fixtures.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 90_000 });

let cloud: LocalCloud;
let sqs: SQSClient;
let logDir: string;
const pollers: EventSourcePoller[] = [];

// Each test draws its faults from its own Chaos (the cloud itself injects none).
beforeAll(async () => {
  logDir = temporaryDir('cj-chaos');
  cloud = await runLocalCloud({
    templatePath: FIXTURE_TEMPLATE,
    logDir,
    pollWaitSeconds: 1,
    scheduleIntervalSeconds: 3_600,
  });
  sqs = localSqs(cloud.endpoint, cloud.region, cloud.credentials);
}, 90_000);

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
});

afterAll(async () => {
  await cloud?.stop();
  removeTemporaryDirs();
});

const chaosLog = () => readFileSync(join(logDir, CHAOS_LOG), 'utf8');

function chaosWith(spec: string): Chaos {
  return new Chaos(parseChaos(spec), join(logDir, CHAOS_LOG), 1);
}

let queueSequence = 0;

/** A queue (visibility 30 s) holding `count` messages, polled for the worker with `chaos`. */
async function pollWith(
  chaos: Chaos,
  options: { count: number; drops?: boolean; functionName?: string },
) {
  queueSequence += 1;
  const name = `chaos-queue-${queueSequence}`;
  const { QueueUrl = '' } = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '30' } }),
  );
  for (let index = 0; index < options.count; index += 1) {
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: fixtureBody('ok') }));
  }
  const fn = cloud.host.find('LocalFixture-worker');
  if (!fn) throw new Error('fixture worker missing');
  const poller = new EventSourcePoller(
    {
      logicalId: `ChaosMapping${queueSequence}`,
      functionId: fn.logicalId,
      queue: {
        logicalId: `ChaosQueue${queueSequence}`,
        name,
        url: QueueUrl,
        arn: `arn:aws:sqs:${cloud.region}:${cloud.accountId}:${name}`,
        fifo: false,
        visibilityTimeoutSeconds: 30,
      },
      batchSize: 10,
      batchingWindowSeconds: 0,
      reportBatchItemFailures: true,
      concurrency: 1,
      enabled: true,
    },
    cloud.host,
    localClientConfig(cloud.endpoint, cloud.region, cloud.credentials),
    {
      pollWaitSeconds: 1,
      chaos,
      drops: options.drops ?? false,
      ...(options.functionName !== undefined ? { functionName: options.functionName } : {}),
    },
  );
  pollers.push(poller);
  const batches = recordBatches(poller);
  poller.start();
  return { queueUrl: QueueUrl, batches };
}

async function messagesLeft(queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}

const ids = (batches: BatchRecord[]) =>
  batches.flatMap((batch) => batch.event.Records.map((record) => record.messageId));

describe('chaos spec', () => {
  it('reads every fault and option, and names what it cannot read', () => {
    // Prepare
    const spec =
      'crash=0.05,throttle=0.05,conflict=0.02,duplicate=0.3,drop=0.02,seed=7,redelivery_s=2';

    // Act
    const settings = parseChaos(spec);

    // Assess
    expect(settings).toEqual({
      rates: { crash: 0.05, throttle: 0.05, conflict: 0.02, duplicate: 0.3, drop: 0.02 },
      seed: 7,
      redeliverySeconds: 2,
      duplicateByFunction: {},
    });
    expect(parseChaos('')).toEqual(NO_CHAOS);
    expect(() => parseChaos('crash=2')).toThrow(/crash must be within 0\.\.1/);
    expect(() => parseChaos('lightning=0.1')).toThrow(/unknown name "lightning"/);
    expect(() => parseChaos('drop')).toThrow(/"drop" must be NAME=NUMBER/);
    expect(() => parseChaos('seed=1.5')).toThrow(/seed must be a non-negative integer/);
  });

  it('reads a duplicate rate for one function, writes it back, and names a bad one', () => {
    // Prepare
    const spec = 'duplicate=0.3,duplicate@continuation=1,seed=4';

    // Act
    const settings = parseChaos(spec);
    const again = parseChaos(formatChaos(settings));

    // Assess
    expect(settings.rates.duplicate).toBe(0.3);
    expect(settings.duplicateByFunction).toEqual({ continuation: 1 });
    expect(again).toEqual(settings);
    expect(chaosEnabled(parseChaos('duplicate@judge=0.5'))).toBe(true);
    expect(chaosEnabled(parseChaos('duplicate@judge=0'))).toBe(false);
    expect(() => parseChaos('crash@judge=0.1')).toThrow(/"crash@judge" must be duplicate@FUNCTION/);
    expect(() => parseChaos('duplicate@Judge=0.1')).toThrow(/must be duplicate@FUNCTION/);
    expect(() => parseChaos('duplicate@judge@x=0.1')).toThrow(/must be duplicate@FUNCTION/);
    expect(() => parseChaos('duplicate@judge=1.5')).toThrow(
      /duplicate@judge must be within 0\.\.1/,
    );
    expect(() => assertChaosTargets(settings, ['judge', 'continuation'])).not.toThrow();
    expect(() => assertChaosTargets(settings, ['judge', 'callback'])).toThrow(
      /duplicate@continuation names no function of the stack \(judge, callback\)/,
    );
  });
});

describe('crash', () => {
  it('kills the instance of an invocation that may crash, and never an HTTP request', async () => {
    // Prepare
    const event = sqsEvent([sqsRecord(JSON.parse(fixtureBody('ok')))]);
    const chaos = chaosWith('crash=1');

    // Act
    const crashed = await cloud.host.invoke('LocalFixture-worker', event, 'RequestResponse', {
      chaos,
    });
    const spared = await cloud.host.invoke('LocalFixture-worker', event);
    const again = await cloud.host.invoke('LocalFixture-worker', event, 'RequestResponse', {
      chaos: chaosWith('crash=0'),
    });

    // Assess
    expect(crashed.ok).toBe(false);
    expect(crashed.ok ? '' : crashed.error.errorType).toBe('Runtime.ExitError');
    expect(spared.ok).toBe(true); // the HTTP API passes no chaos
    expect(again.ok).toBe(true); // a fresh instance took the dead one's place
    const crash = chaosLog()
      .split('\n')
      .filter((line) => line.includes('"fault":"crash"'))
      .map((line) => JSON.parse(line));
    expect(crash).toEqual([
      expect.objectContaining({ fault: 'crash', function: 'worker', records: 1 }),
    ]);
  });
});

describe('duplicate and drop', () => {
  it('delivers each processed message once more, then deletes it', async () => {
    // Prepare
    const chaos = chaosWith('duplicate=1,redelivery_s=1');

    // Act
    const { queueUrl, batches } = await pollWith(chaos, { count: 3 });
    await waitFor(() => (ids(batches).length >= 6 ? true : undefined), 'six deliveries');
    await waitFor(async () => ((await messagesLeft(queueUrl)) === 0 ? true : undefined), 'empty');

    // Assess
    const delivered = ids(batches);
    expect(delivered).toHaveLength(6);
    expect(new Set(delivered).size).toBe(3);
    expect(chaos.counts.duplicate).toBe(3);
  });

  it("gives one function's queue its own duplicate rate", async () => {
    // Prepare: no duplicates but for the continuation function's messages
    const chaos = chaosWith('duplicate=0,duplicate@continuation=1,redelivery_s=1');

    // Act
    const continuation = await pollWith(chaos, { count: 2, functionName: 'continuation' });
    const other = await pollWith(chaos, { count: 2, functionName: 'judge' });
    await waitFor(() => (ids(continuation.batches).length >= 4 ? true : undefined), 'four');
    await waitFor(
      async () => ((await messagesLeft(continuation.queueUrl)) === 0 ? true : undefined),
      'continuation queue empty',
    );
    await waitFor(
      async () => ((await messagesLeft(other.queueUrl)) === 0 ? true : undefined),
      'other queue empty',
    );

    // Assess
    expect(ids(continuation.batches)).toHaveLength(4);
    expect(new Set(ids(continuation.batches)).size).toBe(2);
    expect(ids(other.batches)).toHaveLength(2);
    expect(chaos.counts.duplicate).toBe(2);
  });

  it('deletes a dropped message unread', async () => {
    // Prepare
    const chaos = chaosWith('drop=1');

    // Act
    const { queueUrl, batches } = await pollWith(chaos, { count: 2, drops: true });
    await waitFor(async () => ((await messagesLeft(queueUrl)) === 0 ? true : undefined), 'empty');

    // Assess
    expect(batches).toHaveLength(0);
    expect(chaos.counts.drop).toBe(2);
  });
});

describe('DynamoDB throttle and conflict', () => {
  const table = 'chaos-table';
  let dynamodb: DynamoDBClient;

  beforeAll(async () => {
    dynamodb = new DynamoDBClient({
      ...localClientConfig(cloud.endpoint, cloud.region, cloud.credentials),
      maxAttempts: 1,
    });
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });

  afterAll(async () => {
    await configure({ throttle: 0, conflict: 0 });
    dynamodb?.destroy();
  });

  /** Sets moto's faults; nobody is exempt, so the admin's requests meet them too. */
  async function configure(body: Record<string, unknown>): Promise<void> {
    const response = await fetch(`${cloud.endpoint}/_chaos/config`, {
      method: 'POST',
      body: JSON.stringify({
        seed: 3,
        exempt_access_keys: [],
        log_file: join(logDir, CHAOS_LOG),
        ...body,
      }),
    });
    expect(response.ok).toBe(true);
  }

  const key = { pk: { S: 'item' } };
  const errorOf = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: Error & { CancellationReasons?: Array<{ Code?: string }> }) => error,
    );

  it('throttles a request with ProvisionedThroughputExceededException', async () => {
    // Prepare
    await configure({ throttle: 1, conflict: 0 });

    // Act
    const error = await errorOf(dynamodb.send(new GetItemCommand({ TableName: table, Key: key })));

    // Assess
    expect(error?.name).toBe('ProvisionedThroughputExceededException');
  });

  it('answers a transaction with TransactionConflict and a single write with TransactionConflictException', async () => {
    // Prepare
    await configure({ throttle: 0, conflict: 1 });
    const update = {
      TableName: table,
      Key: key,
      UpdateExpression: 'ADD n :one',
      ExpressionAttributeValues: { ':one': { N: '1' } },
    };

    // Act
    const transaction = await errorOf(
      dynamodb.send(new TransactWriteItemsCommand({ TransactItems: [{ Update: update }] })),
    );
    const single = await errorOf(dynamodb.send(new UpdateItemCommand(update)));
    const read = await errorOf(dynamodb.send(new GetItemCommand({ TableName: table, Key: key })));

    // Assess
    expect(transaction?.name).toBe('TransactionCanceledException');
    expect(transaction?.CancellationReasons?.[0]?.Code).toBe('TransactionConflict');
    expect(single?.name).toBe('TransactionConflictException');
    expect(read).toBeUndefined(); // reads never conflict
  });

  it('checks IAM first: an unknown identity is refused, not throttled', async () => {
    // Prepare
    await configure({ throttle: 1, conflict: 0 });
    const stranger = new DynamoDBClient({
      ...localClientConfig(cloud.endpoint, cloud.region, {
        accessKeyId: 'AKIANOBODYKNOWS00000',
        secretAccessKey: 'nobody',
      }),
      maxAttempts: 1,
    });

    // Act
    const error = await errorOf(stranger.send(new GetItemCommand({ TableName: table, Key: key })));
    stranger.destroy();

    // Assess
    expect(error?.name).not.toBe('ProvisionedThroughputExceededException');
    expect(error?.name).toMatch(/UnrecognizedClient|InvalidClientTokenId|AccessDenied/);
    expect(countFaults(chaosLog()).throttle).toBeGreaterThanOrEqual(1);
  });

  it('spares the admin when it is exempt', async () => {
    // Prepare
    await configure({
      throttle: 1,
      conflict: 1,
      exempt_access_keys: [cloud.credentials.accessKeyId],
    });

    // Act
    const error = await errorOf(dynamodb.send(new GetItemCommand({ TableName: table, Key: key })));

    // Assess
    expect(error).toBeUndefined();
  });
});
