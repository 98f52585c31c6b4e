import { createHash } from 'node:crypto';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { localClientConfig } from '#localstack/local-cloud/iam.ts';
import { type LocalCloud, runLocalCloud } from '#localstack/local-cloud/local-cloud.ts';
import { type BatchRecord, EventSourcePoller } from '#localstack/local-cloud/sqs-poller.ts';
import {
  FIXTURE_TEMPLATE,
  type FixtureOutcome,
  fixtureBody,
  localSqs,
  recordBatches,
  waitFor,
} from '#test/helpers/local-cloud-fixtures.ts';

// Real servers and redelivery after visibility timeouts: slower than pure unit tests on a busy machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 90_000 });

let cloud: LocalCloud;
let sqs: SQSClient;
const pollers: EventSourcePoller[] = [];

// Its own moto_server (own port) and function host: isolated from every other test file.
beforeAll(async () => {
  cloud = await runLocalCloud({
    templatePath: FIXTURE_TEMPLATE,
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
});

let queueSequence = 0;

/** A fresh queue (visibility 1 s, DLQ after `maxReceiveCount`) polled by one poller for `fn`. */
async function queueWithPoller(options: {
  fn: string;
  fifo?: boolean;
  maxReceiveCount?: number;
  messages: Array<{ body: string; group?: string }>;
}): Promise<{ batches: BatchRecord[]; queueUrl: string; dlqUrl: string }> {
  queueSequence += 1;
  const suffix = options.fifo ? '.fifo' : '';
  const fifoAttributes = options.fifo ? { FifoQueue: 'true' } : {};
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: `dlq-${queueSequence}${suffix}`,
      Attributes: fifoAttributes,
    }),
  );
  const dlqArn = `arn:aws:sqs:${cloud.region}:${cloud.accountId}:dlq-${queueSequence}${suffix}`;
  const name = `queue-${queueSequence}${suffix}`;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        ...fifoAttributes,
        VisibilityTimeout: '1',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: options.maxReceiveCount ?? 5,
        }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl ?? '';
  for (const [index, message] of options.messages.entries()) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: message.body,
        ...(options.fifo
          ? { MessageGroupId: message.group ?? 'g', MessageDeduplicationId: `d-${index}` }
          : {}),
      }),
    );
  }
  const fn = cloud.host.find(options.fn);
  if (!fn) throw new Error(`fixture function ${options.fn} missing`);
  // Started after the messages are queued, so the first batch holds all of them.
  const poller = new EventSourcePoller(
    {
      logicalId: `Mapping${queueSequence}`,
      functionId: fn.logicalId,
      queue: {
        logicalId: `Queue${queueSequence}`,
        name,
        url: queueUrl,
        arn: `arn:aws:sqs:${cloud.region}:${cloud.accountId}:${name}`,
        fifo: options.fifo ?? false,
        visibilityTimeoutSeconds: 1,
      },
      batchSize: 10,
      batchingWindowSeconds: 0,
      reportBatchItemFailures: true,
      concurrency: 1,
      enabled: true,
    },
    cloud.host,
    localClientConfig(cloud.endpoint, cloud.region, cloud.credentials),
    { pollWaitSeconds: 1, fifoIdleDelayMs: 100 },
  );
  pollers.push(poller);
  const batches = recordBatches(poller);
  poller.start();
  return { batches, queueUrl, dlqUrl: dlq.QueueUrl ?? '' };
}

const bodies = (...outcomes: FixtureOutcome[]) =>
  outcomes.map((outcome) => ({ body: fixtureBody(outcome) }));
const bodyOf = (batch: BatchRecord) =>
  batch.event.Records.map((record) => JSON.parse(record.body).outcome);

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

describe('the template event source mapping', () => {
  it("invokes the template's function with Lambda's SQS event and its resolved environment", async () => {
    // Prepare
    const poller = cloud.pollers.find(
      (candidate) => candidate.mapping.logicalId === 'WorkerMapping',
    );
    const batches = recordBatches(poller!);
    const body = fixtureBody('ok', { marker: 'shape' });

    // Act
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: cloud.outputs.WorkQueueUrl,
        MessageBody: body,
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } },
      }),
    );
    const batch = await waitFor(
      () =>
        batches.find((candidate) => candidate.event.Records.some((record) => record.body === body)),
      'the batch with the message',
    );

    // Assess
    const record = batch.event.Records.find((candidate) => candidate.body === body);
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${cloud.region}:123456789012:fixture-work`,
      awsRegion: cloud.region,
      md5OfBody: createHash('md5').update(body).digest('hex'),
      messageAttributes: { kind: { stringValue: 'test', dataType: 'String' } },
    });
    expect(Object.keys(record?.attributes ?? {}).sort()).toEqual([
      'ApproximateFirstReceiveTimestamp',
      'ApproximateReceiveCount',
      'SenderId',
      'SentTimestamp',
    ]);
    expect(batch.mapping).toMatchObject({
      batchSize: 5,
      reportBatchItemFailures: true,
      concurrency: 2,
    });
    expect(batch.result).toMatchObject({
      ok: true,
      value: { functionName: 'LocalFixture-worker', tableName: 'local-fixture-table' },
    });
    expect(batch.outcome.kind).toBe('success');
  });
});

describe('partial batch responses', () => {
  it('deletes only the successes; a failure returns after the visibility timeout, then reaches the DLQ', async () => {
    // Prepare
    const { batches, queueUrl, dlqUrl } = await queueWithPoller({
      fn: 'worker',
      maxReceiveCount: 2,
      messages: bodies('ok', 'fail', 'ok'),
    });

    // Act
    const first = await waitFor(() => batches[0], 'the first batch');
    const failedId = first.outcome.failedIds[0];
    const redelivered = await waitFor(
      () =>
        batches
          .slice(1)
          .find((batch) => batch.event.Records.some((record) => record.messageId === failedId)),
      'the failed message again',
    );
    const deadLetter = await waitFor(async () => {
      const response = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageSystemAttributeNames: ['All'] }),
      );
      return response.Messages?.[0];
    }, 'the message in the DLQ');

    // Assess
    expect(bodyOf(first)).toEqual(['ok', 'fail', 'ok']);
    expect(first.outcome.kind).toBe('partial');
    expect(first.outcome.deleteIds).toHaveLength(2);
    expect(redelivered.event.Records.map((record) => record.messageId)).toEqual([failedId]);
    expect(redelivered.event.Records[0]?.attributes.ApproximateReceiveCount).toBe('2');
    expect(deadLetter.MessageId).toBe(failedId);
    expect(await messagesLeft(queueUrl)).toBe(0);
    const deliveries = batches.flatMap((batch) =>
      batch.event.Records.map((record) => record.messageId),
    );
    for (const deleted of first.outcome.deleteIds) {
      expect(deliveries.filter((id) => id === deleted)).toHaveLength(1);
    }
  });

  it.each([
    ['throws', 'throw' as const, /fixture handler failed the batch/],
    ['answers with an identifier not in the batch', 'invalid' as const, /not in the batch/],
  ])(
    'fails the whole batch when the function %s, and redelivers every record',
    async (_label, outcome, reason) => {
      // Prepare
      const { batches } = await queueWithPoller({ fn: 'worker', messages: bodies('ok', outcome) });

      // Act
      const first = await waitFor(() => batches[0], 'the first batch');
      const okId = first.event.Records[0]?.messageId;
      const again = await waitFor(
        () =>
          batches
            .slice(1)
            .find((batch) => batch.event.Records.some((record) => record.messageId === okId)),
        'the successful record redelivered',
      );

      // Assess
      expect(bodyOf(first)).toEqual(['ok', outcome]);
      expect(first.outcome).toMatchObject({ kind: 'failure', deleteIds: [] });
      expect(first.outcome.kind === 'failure' && first.outcome.reason).toMatch(reason);
      const record = again.event.Records.find((candidate) => candidate.messageId === okId);
      expect(record?.attributes.ApproximateReceiveCount).toBe('2');
    },
  );
});

describe('FIFO queues', () => {
  it('stops a group at its first failure: later records of the group return in order, other groups proceed', async () => {
    // Prepare
    const { batches } = await queueWithPoller({
      fn: 'ordered',
      fifo: true,
      messages: [
        { body: fixtureBody('ok', { n: 1 }), group: 'g1' },
        { body: fixtureBody('fail', { n: 2 }), group: 'g1' },
        { body: fixtureBody('ok', { n: 3 }), group: 'g1' },
        { body: fixtureBody('ok', { n: 4 }), group: 'g2' },
      ],
    });
    const numbers = (batch: BatchRecord, ids: string[]) =>
      batch.event.Records.filter((record) => ids.includes(record.messageId)).map(
        (record) => JSON.parse(record.body).n,
      );

    // Act
    const first = await waitFor(() => batches[0], 'the first batch');
    const second = await waitFor(() => batches[1], 'the redelivery');

    // Assess
    expect(first.event.Records.map((record) => JSON.parse(record.body).n)).toEqual([1, 2, 3, 4]);
    expect(numbers(first, first.outcome.deleteIds)).toEqual([1, 4]);
    expect(numbers(first, first.outcome.failedIds)).toEqual([2, 3]);
    expect(second.event.Records.map((record) => JSON.parse(record.body).n)).toEqual([2, 3]);
    expect(second.event.Records[0]?.attributes.MessageGroupId).toBe('g1');
    expect(second.event.Records[0]?.attributes.ApproximateReceiveCount).toBe('2');
  });
});

describe('function instances', () => {
  it('ends an invocation that overruns the function timeout, and the next one runs on a fresh instance', async () => {
    // Prepare
    const slow = { Records: [{ messageId: 'slow', body: fixtureBody('sleep', { ms: 5_000 }) }] };
    const quick = { Records: [{ messageId: 'quick', body: fixtureBody('ok') }] };

    // Act
    const timedOut = await cloud.host.invoke('worker', slow);
    const next = await cloud.host.invoke('worker', quick);

    // Assess
    expect(timedOut).toMatchObject({
      ok: false,
      error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 2.00 seconds' },
    });
    expect(timedOut.durationMs).toBeGreaterThanOrEqual(2_000);
    expect(next.ok).toBe(true);
  });

  it('gives the handler a context whose remaining time counts down from the function timeout', async () => {
    // Prepare
    const event = { Records: [{ messageId: 'm', body: fixtureBody('sleep', { ms: 300 }) }] };

    // Act
    const result = await cloud.host.invoke('worker', event);

    // Assess
    expect(result.ok).toBe(true);
    const remaining = result.ok ? (result.value as { remainingMs: number }).remainingMs : -1;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(2_000 - 300);
  });

  it('never runs more instances than the reserved concurrency', async () => {
    // Prepare
    const event = { Records: [{ messageId: 'm', body: fixtureBody('sleep', { ms: 100 }) }] };

    // Act
    const results = await Promise.all([1, 2, 3].map(() => cloud.host.invoke('ordered', event)));

    // Assess
    expect(results.every((result) => result.ok)).toBe(true);
    expect(cloud.host.instanceCount('ordered')).toBe(1);
  });
});
