/**
 * The messaging port on AWS: SQS for comparison requests, callbacks and continuation triggers,
 * EventBridge for the completion/failure event. Bodies carry ids and indices only, never essay text.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { EngineConfig } from '#domain/config.ts';
import {
  BATCH_EVENT_SOURCE,
  type BatchFinishedEvent,
  batchEventDetailType,
} from '#messages/events.ts';
import {
  type Callback,
  type ComparisonRequest,
  type ContinuationTrigger,
  continuationDedupId,
} from '#messages/queue.ts';
import type { Messaging, Sleep } from './ports.ts';

/** SQS accepts at most 10 entries per SendMessageBatch. */
const SQS_BATCH_LIMIT = 10;

export interface AwsMessagingOptions {
  sqs: SQSClient;
  eventBridge: EventBridgeClient;
  /** Each function is given only the destinations it uses; using another one is a wiring bug. */
  comparisonQueueUrl?: string;
  callbackQueueUrl?: string;
  continuationQueueUrl?: string;
  eventBusName?: string;
  config: Pick<EngineConfig, 'SQS_SEND_MAX_ATTEMPTS' | 'SQS_SEND_RETRY_BASE_DELAY_MS'>;
  sleep: Sleep;
  random: () => number;
}

export class SendFailedError extends Error {
  constructor(
    readonly failedIds: readonly string[],
    readonly codes: readonly string[],
  ) {
    super(`${failedIds.length} queue message(s) could not be sent: ${codes.join(', ')}`);
    this.name = 'SendFailedError';
  }
}

/** Dedup id of a trigger: one continuation per (batch, iteration); a cancel is its own event. */
export function triggerDeduplicationId(trigger: ContinuationTrigger): string {
  const base = continuationDedupId(trigger.batch_id, trigger.iteration);
  return trigger.cause === 'cancel' ? `${base}:cancel` : base;
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new Error(`${name} is not configured for this function`);
  return value;
}

export class AwsMessaging implements Messaging {
  constructor(private readonly options: AwsMessagingOptions) {}

  async sendComparisonRequests(requests: readonly ComparisonRequest[]): Promise<void> {
    for (let start = 0; start < requests.length; start += SQS_BATCH_LIMIT) {
      const chunk = requests.slice(start, start + SQS_BATCH_LIMIT);
      await this.#sendBatch(
        chunk.map((request) => ({
          Id: request.comparison_id,
          MessageBody: JSON.stringify(request),
        })),
      );
    }
  }

  async #sendBatch(entries: SendMessageBatchRequestEntry[]): Promise<void> {
    const { config, sleep, random } = this.options;
    let remaining = entries;
    for (let attempt = 1; ; attempt += 1) {
      const response = await this.options.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: required(this.options.comparisonQueueUrl, 'COMPARISON_QUEUE_URL'),
          Entries: remaining,
        }),
      );
      const failed = response.Failed ?? [];
      if (failed.length === 0) return;
      const failedIds = new Set(failed.map((entry) => entry.Id));
      remaining = remaining.filter((entry) => failedIds.has(entry.Id));
      // A sender fault (bad entry) will not heal by retrying: surface it at once.
      const senderFault = failed.some((entry) => entry.SenderFault);
      if (senderFault || attempt >= config.SQS_SEND_MAX_ATTEMPTS) {
        throw new SendFailedError(
          remaining.map((entry) => entry.Id ?? ''),
          failed.map((entry) => entry.Code ?? 'unknown'),
        );
      }
      await sleep(random() * config.SQS_SEND_RETRY_BASE_DELAY_MS * 2 ** attempt);
    }
  }

  async sendCallback(callback: Callback): Promise<void> {
    await this.options.sqs.send(
      new SendMessageCommand({
        QueueUrl: required(this.options.callbackQueueUrl, 'CALLBACK_QUEUE_URL'),
        MessageBody: JSON.stringify(callback),
      }),
    );
  }

  async sendContinuationTrigger(trigger: ContinuationTrigger): Promise<void> {
    await this.options.sqs.send(
      new SendMessageCommand({
        QueueUrl: required(this.options.continuationQueueUrl, 'CONTINUATION_QUEUE_URL'),
        MessageBody: JSON.stringify(trigger),
        MessageGroupId: trigger.batch_id,
        MessageDeduplicationId: triggerDeduplicationId(trigger),
      }),
    );
  }

  async publishBatchEvent(event: BatchFinishedEvent): Promise<void> {
    const response = await this.options.eventBridge.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: required(this.options.eventBusName, 'EVENT_BUS_NAME'),
            Source: BATCH_EVENT_SOURCE,
            DetailType: batchEventDetailType(event.status),
            Detail: JSON.stringify(event),
          },
        ],
      }),
    );
    if ((response.FailedEntryCount ?? 0) > 0) {
      const code = response.Entries?.[0]?.ErrorCode ?? 'unknown';
      throw new Error(`completion event for batch ${event.batch_id} was not accepted: ${code}`);
    }
  }
}
