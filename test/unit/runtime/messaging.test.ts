/**
 * The messaging adapters (SQS queues, EventBridge publisher): SendMessageBatch in chunks of 10 with failed entries re-sent,
 * sender faults and exhausted retries surfacing, FIFO group and dedup ids, and events that
 * EventBridge did not accept surfacing as errors.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import type { ComparisonRequest } from '#messages/queue.ts';
import { eventBridgePublisher } from '#shared/runtime/event-bus.ts';
import { SendFailedError, sqsQueues } from '#shared/runtime/sqs-queues.ts';

function harness() {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const sqsClient = new SQSClient({ region: 'eu-west-1', credentials });
  const ebClient = new EventBridgeClient({ region: 'eu-west-1', credentials });
  const sqs = mockClient(sqsClient);
  const eb = mockClient(ebClient);
  const sleeps: number[] = [];
  const messaging = {
    ...sqsQueues({
      sqs: sqsClient,
      comparisonQueueUrl: 'https://sqs/comparisons',
      continuationQueueUrl: 'https://sqs/continuation.fifo',
      config: DEFAULT_CONFIG,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    }),
    ...eventBridgePublisher({ eventBridge: ebClient, eventBusName: 'bus' }),
  };
  return { sqs, eb, messaging, sleeps };
}

function requests(count: number): ComparisonRequest[] {
  return Array.from({ length: count }, (_, index) => ({
    v: 1,
    batch_id: 'b1',
    comparison_id: `000001-${String(index).padStart(6, '0')}`,
    iteration: 1,
    a: 2 * index,
    b: 2 * index + 1,
    attempt: 1,
    deadline: '2026-11-27T08:15:00.000Z',
  }));
}

describe('the SQS queues and the EventBridge publisher', () => {
  it('sends requests in SendMessageBatch calls of at most 10 entries', async () => {
    // Prepare
    const { sqs, messaging } = harness();
    sqs
      .on(SendMessageBatchCommand)
      .callsFake((input) => ({ Successful: input.Entries, Failed: [] }));

    // Act
    await messaging.sendComparisonRequests(requests(23));

    // Assess
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls.map((call) => call.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls[0]!.args[0].input.Entries?.[0]).toEqual({
      Id: '000001-000000',
      MessageBody: JSON.stringify(requests(1)[0]),
    });
  });

  it('re-sends only the entries SQS reported as failed, with backoff', async () => {
    // Prepare
    const { sqs, messaging, sleeps } = harness();
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: '000001-000000', MessageId: 'x', MD5OfMessageBody: 'x' }],
        Failed: [{ Id: '000001-000001', Code: 'InternalError', SenderFault: false }],
      })
      .resolves({ Successful: [], Failed: [] });

    // Act
    await messaging.sendComparisonRequests(requests(2));

    // Assess
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args[0].input.Entries?.map((entry) => entry.Id)).toEqual(['000001-000001']);
    expect(sleeps).toHaveLength(1);
  });

  it('surfaces a sender fault at once and a persistent failure after SQS_SEND_MAX_ATTEMPTS', async () => {
    // Prepare
    const sender = harness();
    sender.sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '000001-000000', Code: 'InvalidParameterValue', SenderFault: true }],
    });
    const persistent = harness();
    persistent.sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '000001-000000', Code: 'InternalError', SenderFault: false }],
    });

    // Act
    const senderFault = sender.messaging.sendComparisonRequests(requests(1));
    const exhausted = persistent.messaging.sendComparisonRequests(requests(1));

    // Assess
    await expect(senderFault).rejects.toBeInstanceOf(SendFailedError);
    await expect(exhausted).rejects.toBeInstanceOf(SendFailedError);
    expect(sender.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    expect(persistent.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(
      DEFAULT_CONFIG.SQS_SEND_MAX_ATTEMPTS,
    );
  });

  it('sends up to 10 callbacks in one request and answers the indices still not sent after the retries', async () => {
    // Prepare
    const client = new SQSClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const sqs = mockClient(client);
    const queues = sqsQueues({
      sqs: client,
      callbackQueueUrl: 'https://sqs/callbacks',
      config: DEFAULT_CONFIG,
      sleep: async () => undefined,
      random: () => 0.5,
    });
    sqs.on(SendMessageBatchCommand).callsFake((input) => ({
      Successful: [],
      // Entry "2" keeps failing; entry "0" fails once.
      Failed: (input.Entries ?? [])
        .filter(
          (entry: { Id: string }) =>
            entry.Id === '2' || (entry.Id === '0' && input.Entries.length === 3),
        )
        .map((entry: { Id: string }) => ({
          Id: entry.Id,
          Code: 'InternalError',
          SenderFault: false,
        })),
    }));
    const callbacks = [0, 1, 2].map((index) => ({
      v: 1 as const,
      batch_id: 'b1',
      comparison_id: `000001-00000${index}`,
      outcome: 'verdict' as const,
      winner: 'A' as const,
    }));

    // Act
    const notSent = await queues.sendCallbackBatch(callbacks);
    const tooMany = queues.sendCallbackBatch([
      ...callbacks,
      ...callbacks,
      ...callbacks,
      ...callbacks,
    ]);

    // Assess
    expect(notSent).toEqual([2]);
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(calls[0]).toMatchObject({ QueueUrl: 'https://sqs/callbacks' });
    expect(calls.map((input) => input.Entries?.map((entry) => entry.Id))).toEqual([
      ['0', '1', '2'],
      ['0', '2'],
      ...Array.from({ length: DEFAULT_CONFIG.SQS_SEND_MAX_ATTEMPTS - 2 }, () => ['2']),
    ]);
    await expect(tooMany).rejects.toThrow(/at most 10/);
  });

  it('sends triggers to the FIFO queue with group = batch and dedup id batch:iteration (cancel apart)', async () => {
    // Prepare
    const { sqs, messaging } = harness();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });

    // Act
    await messaging.sendContinuationTrigger({
      v: 1,
      batch_id: 'b1',
      iteration: 3,
      cause: 'sweeper',
    });
    await messaging.sendContinuationTrigger({
      v: 1,
      batch_id: 'b1',
      iteration: 3,
      cause: 'cancel',
    });

    // Assess
    const inputs = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(
      inputs.map((input) => [input.QueueUrl, input.MessageGroupId, input.MessageDeduplicationId]),
    ).toEqual([
      ['https://sqs/continuation.fifo', 'b1', 'b1:3'],
      ['https://sqs/continuation.fifo', 'b1', 'b1:3:cancel'],
    ]);
  });

  it('publishes the batch event and surfaces an entry EventBridge did not accept', async () => {
    // Prepare
    const { eb, messaging } = harness();
    eb.on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] })
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });
    const event = {
      v: 1 as const,
      batch_id: 'b1',
      status: 'COMPLETE_STABLE' as const,
      failure_reason: null,
      counters: { submitted_comparisons: 4, completed_comparisons: 4, failed_comparisons: 0 },
      completion_denominator: 6,
      finalized_at: '2026-11-27T09:00:00.000Z',
    };

    // Act
    await messaging.publishBatchEvent(event);
    const second = messaging.publishBatchEvent(event);

    // Assess
    await expect(second).rejects.toThrow(/InternalFailure/);
    expect(eb.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries).toEqual([
      {
        EventBusName: 'bus',
        Source: 'cj-engine',
        DetailType: 'BatchCompleted',
        Detail: JSON.stringify(event),
      },
    ]);
  });

  it('refuses a destination the function was not configured with', async () => {
    // Prepare
    const { messaging } = harness();

    // Act
    const attempt = messaging.sendCallback({
      v: 1,
      batch_id: 'b1',
      comparison_id: '000001-000000',
      outcome: 'verdict',
      winner: 'A',
    });

    // Assess
    await expect(attempt).rejects.toThrow(/CALLBACK_QUEUE_URL/);
  });
});
