/**
 * The workflow's queues on SQS: comparison requests and many callbacks at once (SendMessageBatch in
 * chunks of 10, failed entries re-sent with backoff), one callback, up to 10 callbacks with the
 * entries not sent answered (the judge's invocation batch), and continuation triggers
 * (FIFO, group = batch id).
 * Bodies carry ids and indices only, never essay text.
 */
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DEFAULT_CONFIG, type EngineConfig } from '#domain/config.ts';
import {
  type Callback,
  type ComparisonRequest,
  type ContinuationTrigger,
  continuationDedupId,
} from '#messages/queue.ts';
import type { Queues, Sleep } from '#shared/workflow/ports.ts';
import { readEnv } from './env.ts';
import { lazy } from './lazy.ts';
import { system } from './system.ts';

/** SQS accepts at most 10 entries per SendMessageBatch. */
const SQS_BATCH_LIMIT = 10;
/** SendMessageBatch calls in flight at once when many callbacks go out together. */
const CALLBACK_BATCHES_IN_PARALLEL = 8;
/** SQS's longest DelaySeconds. */
const MAX_DELAY_SECONDS = 900;

export interface SqsQueuesOptions {
  sqs: SQSClient;
  /** Each function is given only the queues it uses; using another one is a wiring bug. */
  comparisonQueueUrl?: string;
  callbackQueueUrl?: string;
  continuationQueueUrl?: string;
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

export function sqsQueues(options: SqsQueuesOptions): Queues {
  const { sqs, config, sleep, random } = options;

  /**
   * One SendMessageBatch (≤ 10 entries), its failed entries re-sent with backoff; answers the
   * entries still not sent (none when all were) and their error codes. A sender fault (a bad entry)
   * will not heal by retrying, so it ends the retries at once. A request that fails as a whole
   * (network, throttling past the SDK's retries) throws.
   */
  const sendEntries = async (
    queueUrl: string,
    entries: SendMessageBatchRequestEntry[],
  ): Promise<{ failedIds: string[]; codes: string[] }> => {
    let remaining = entries;
    for (let attempt = 1; ; attempt += 1) {
      const response = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: remaining }),
      );
      const failed = response.Failed ?? [];
      if (failed.length === 0) return { failedIds: [], codes: [] };
      const failedIds = new Set(failed.map((entry) => entry.Id));
      remaining = remaining.filter((entry) => failedIds.has(entry.Id));
      const senderFault = failed.some((entry) => entry.SenderFault);
      if (senderFault || attempt >= config.SQS_SEND_MAX_ATTEMPTS) {
        return {
          failedIds: remaining.map((entry) => entry.Id ?? ''),
          codes: failed.map((entry) => entry.Code ?? 'unknown'),
        };
      }
      await sleep(random() * config.SQS_SEND_RETRY_BASE_DELAY_MS * 2 ** attempt);
    }
  };

  const sendBatch = async (
    queueUrl: string,
    entries: SendMessageBatchRequestEntry[],
  ): Promise<void> => {
    const { failedIds, codes } = await sendEntries(queueUrl, entries);
    if (failedIds.length > 0) throw new SendFailedError(failedIds, codes);
  };

  return {
    async sendComparisonRequests(requests: readonly ComparisonRequest[]): Promise<void> {
      const queueUrl = required(options.comparisonQueueUrl, 'COMPARISON_QUEUE_URL');
      for (let start = 0; start < requests.length; start += SQS_BATCH_LIMIT) {
        const chunk = requests.slice(start, start + SQS_BATCH_LIMIT);
        await sendBatch(
          queueUrl,
          chunk.map((request) => ({
            Id: request.comparison_id,
            MessageBody: JSON.stringify(request),
          })),
        );
      }
    },

    async deferComparisonRequest(request: ComparisonRequest, delaySeconds: number): Promise<void> {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: required(options.comparisonQueueUrl, 'COMPARISON_QUEUE_URL'),
          MessageBody: JSON.stringify(request),
          DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds))),
        }),
      );
    },

    async sendCallback(callback: Callback): Promise<void> {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: required(options.callbackQueueUrl, 'CALLBACK_QUEUE_URL'),
          MessageBody: JSON.stringify(callback),
        }),
      );
    },

    async sendCallbackBatch(callbacks: readonly Callback[]): Promise<number[]> {
      if (callbacks.length > SQS_BATCH_LIMIT) {
        throw new Error(`sendCallbackBatch takes at most ${SQS_BATCH_LIMIT} callbacks`);
      }
      if (callbacks.length === 0) return [];
      const { failedIds } = await sendEntries(
        required(options.callbackQueueUrl, 'CALLBACK_QUEUE_URL'),
        callbacks.map((callback, index) => ({
          Id: `${index}`,
          MessageBody: JSON.stringify(callback),
        })),
      );
      return failedIds.map(Number);
    },

    /** Many callbacks (a provider batch's results): batches of 10, a few batches at a time. */
    async sendCallbacks(callbacks: readonly Callback[]): Promise<void> {
      const queueUrl = required(options.callbackQueueUrl, 'CALLBACK_QUEUE_URL');
      const chunks: Callback[][] = [];
      for (let start = 0; start < callbacks.length; start += SQS_BATCH_LIMIT) {
        chunks.push(callbacks.slice(start, start + SQS_BATCH_LIMIT));
      }
      for (let start = 0; start < chunks.length; start += CALLBACK_BATCHES_IN_PARALLEL) {
        await Promise.all(
          chunks.slice(start, start + CALLBACK_BATCHES_IN_PARALLEL).map((chunk) =>
            sendBatch(
              queueUrl,
              // Ids only need to be unique within one call.
              chunk.map((callback, index) => ({
                Id: `${index}`,
                MessageBody: JSON.stringify(callback),
              })),
            ),
          ),
        );
      }
    },

    async sendContinuationTrigger(trigger: ContinuationTrigger): Promise<void> {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: required(options.continuationQueueUrl, 'CONTINUATION_QUEUE_URL'),
          MessageBody: JSON.stringify(trigger),
          MessageGroupId: trigger.batch_id,
          MessageDeduplicationId: triggerDeduplicationId(trigger),
        }),
      );
    },
  };
}

/**
 * The SQS client singleton. The SDK reads `AWS_ENDPOINT_URL` itself (the local cloud points it at
 * moto_server); SQS must then stop using the queue URL's host as the endpoint, because the
 * emulator's queue URLs name an AWS host.
 */
const sqsClient = lazy(
  () => new SQSClient(process.env.AWS_ENDPOINT_URL ? { useQueueUrlAsEndpoint: false } : {}),
);

type QueueVariable = 'COMPARISON_QUEUE_URL' | 'CALLBACK_QUEUE_URL' | 'CONTINUATION_QUEUE_URL';

/** The queues named by `variables` (each read from the environment; a missing one fails here). */
export function queuesFromEnv(variables: readonly QueueVariable[]): Queues {
  const urls: Partial<Record<QueueVariable, string>> = readEnv(variables);
  return sqsQueues({
    sqs: sqsClient(),
    ...(urls.COMPARISON_QUEUE_URL ? { comparisonQueueUrl: urls.COMPARISON_QUEUE_URL } : {}),
    ...(urls.CALLBACK_QUEUE_URL ? { callbackQueueUrl: urls.CALLBACK_QUEUE_URL } : {}),
    ...(urls.CONTINUATION_QUEUE_URL ? { continuationQueueUrl: urls.CONTINUATION_QUEUE_URL } : {}),
    config: DEFAULT_CONFIG,
    sleep: system.sleep,
    random: system.random,
  });
}
