/**
 * The local event source mapping: pollers that receive from a queue with the mapping's batch size
 * and batching window, invoke the function with Lambda's SQS event, and delete only what the
 * function's answer lets them delete. Failed messages are left alone: they return after the
 * visibility timeout and moto moves them to the DLQ after maxReceiveCount.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import type { Chaos } from './chaos.ts';
import type { FunctionHost, InvokeResult } from './function-host.ts';
import type { AwsClientConfig } from './iam.ts';
import type { LocalQueue } from './resources.ts';
import { localSetting } from './settings.ts';
import { type BatchOutcome, batchOutcome, toSqsEvent } from './sqs-event.ts';

export interface MappingDefinition {
  logicalId: string;
  /** Logical id of the function the mapping invokes. */
  functionId: string;
  queue: LocalQueue;
  batchSize: number;
  batchingWindowSeconds: number;
  reportBatchItemFailures: boolean;
  /** Concurrent pollers, i.e. concurrent invocations this mapping may drive. */
  concurrency: number;
  enabled: boolean;
}

export interface BatchRecord {
  mapping: MappingDefinition;
  event: SQSEvent;
  result: InvokeResult;
  outcome: BatchOutcome;
}

export interface PollerOptions {
  /** Long-poll wait of standard queues. */
  pollWaitSeconds?: number;
  fifoIdleDelayMs?: number;
  /** Faults to inject: crashes of this mapping's invocations, duplicates, and drops if `drops`. */
  chaos?: Chaos | undefined;
  /** Whether `drop` applies to this mapping's messages (the callback function's queue). */
  drops?: boolean;
  /** The short name of the function the mapping invokes (`duplicate@<function>` rates). */
  functionName?: string;
}

/** SQS returns at most this many messages per ReceiveMessage / DeleteMessageBatch. */
const SQS_MAX_BATCH = 10;
const RECEIVE_ERROR_BACKOFF_MS = 1_000;
/** After this many releases the held-back message is assumed dead-lettered and forgotten. */
const MAX_ORDER_RELEASES = 3;
/** Message ids remembered as already duplicated once (forgotten beyond this many). */
const MAX_REMEMBERED_DUPLICATES = 100_000;

export class EventSourcePoller extends EventEmitter<{ batch: [BatchRecord]; pollError: [Error] }> {
  private readonly sqs: SQSClient;
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private stopped = false;
  private readonly pollWaitSeconds: number;
  private readonly fifoIdleDelayMs: number;
  /**
   * FIFO only, by message group: the earliest record of the group that failed and has not been
   * received since. moto 5.2.1 may redeliver a group's later message before an earlier one when
   * both return from a failure (it drops the group lock only while scanning), which real SQS never
   * does; a batch that would skip the held-back record releases the later ones and polls again.
   */
  private readonly heldBack = new Map<string, { messageId: string; releases: number }>();
  private readonly chaos: Chaos | undefined;
  private readonly drops: boolean;
  private readonly functionName: string | undefined;
  /** Messages chaos already delivered twice: each is duplicated at most once. */
  private readonly duplicated = new Set<string>();

  constructor(
    readonly mapping: MappingDefinition,
    private readonly host: FunctionHost,
    config: AwsClientConfig,
    options: PollerOptions = {},
  ) {
    super();
    this.sqs = new SQSClient({ ...config, useQueueUrlAsEndpoint: false, maxAttempts: 1 });
    this.pollWaitSeconds = options.pollWaitSeconds ?? localSetting('pollWaitSeconds');
    this.fifoIdleDelayMs = options.fifoIdleDelayMs ?? localSetting('fifoIdleDelayMs');
    this.chaos = options.chaos?.enabled ? options.chaos : undefined;
    this.drops = options.drops ?? false;
    this.functionName = options.functionName;
  }

  start(): void {
    if (!this.mapping.enabled) return;
    for (let index = 0; index < Math.max(1, this.mapping.concurrency); index += 1) {
      this.loops.push(this.loop());
    }
  }

  /** Stops polling; `abort` cancels in-flight long polls instead of letting them finish. */
  async stop(options: { abort?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (options.abort) this.abort.abort();
    await Promise.allSettled(this.loops);
    this.sqs.destroy();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const messages = this.mapping.queue.fifo
          ? await this.keepGroupOrder(await this.collect())
          : await this.collect();
        if (messages.length === 0) {
          if (this.mapping.queue.fifo && !this.stopped) await sleep(this.fifoIdleDelayMs);
          continue;
        }
        await this.process(messages);
      } catch (error) {
        if (this.stopped) return;
        this.emit('pollError', error as Error);
        await sleep(RECEIVE_ERROR_BACKOFF_MS);
      }
    }
  }

  /** One batch: up to batchSize messages, gathered for at most the batching window. */
  private async collect(): Promise<Message[]> {
    const { batchSize, batchingWindowSeconds, queue } = this.mapping;
    const batch = await this.receive(Math.min(SQS_MAX_BATCH, batchSize), this.waitSeconds());
    if (batch.length === 0 || batchingWindowSeconds === 0) return batch;
    const deadline = Date.now() + batchingWindowSeconds * 1000;
    while (batch.length < batchSize && Date.now() < deadline && !this.stopped) {
      const remainingS = Math.ceil((deadline - Date.now()) / 1000);
      const more = await this.receive(
        Math.min(SQS_MAX_BATCH, batchSize - batch.length),
        Math.min(this.waitSeconds(), remainingS),
      );
      batch.push(...more);
      if (more.length === 0 && queue.fifo) {
        await sleep(Math.min(this.fifoIdleDelayMs, Math.max(0, deadline - Date.now())));
      }
    }
    return batch;
  }

  private async keepGroupOrder(messages: Message[]): Promise<Message[]> {
    const release: Message[] = [];
    for (const [group, held] of this.heldBack) {
      const ofGroup = messages.filter((message) => groupOf(message) === group);
      if (ofGroup.length === 0) continue;
      if (ofGroup.some((message) => message.MessageId === held.messageId)) {
        this.heldBack.delete(group);
        continue;
      }
      held.releases += 1;
      if (held.releases > MAX_ORDER_RELEASES) this.heldBack.delete(group);
      else release.push(...ofGroup);
    }
    if (release.length === 0) return messages;
    await this.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: this.mapping.queue.url,
        Entries: release.slice(0, SQS_MAX_BATCH).map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle ?? '',
          VisibilityTimeout: 0,
        })),
      }),
    );
    const released = new Set(release.slice(0, SQS_MAX_BATCH));
    return messages.filter((message) => !released.has(message));
  }

  /** Records arrive in queue order (moto's sequence numbers are random, so order is by position). */
  private rememberFailures(messages: Message[], failedIds: readonly string[]): void {
    const seen = new Set<string>();
    for (const message of messages) {
      const group = groupOf(message);
      if (seen.has(group) || !failedIds.includes(message.MessageId ?? '')) continue;
      seen.add(group);
      this.heldBack.set(group, { messageId: message.MessageId ?? '', releases: 0 });
    }
  }

  /** FIFO queues are short-polled: moto busy-waits a long poll while a message group is locked. */
  private waitSeconds(): number {
    return this.mapping.queue.fifo ? 0 : this.pollWaitSeconds;
  }

  private async receive(max: number, waitSeconds: number): Promise<Message[]> {
    const response = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.mapping.queue.url,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.abort.signal },
    );
    return response.Messages ?? [];
  }

  private async process(received: Message[]): Promise<void> {
    const { mapping, chaos } = this;
    const messages = await this.dropSome(received);
    if (messages.length === 0) return;
    const event = toSqsEvent(messages, {
      queueArn: mapping.queue.arn,
      region: String(await this.sqs.config.region()),
      fifo: mapping.queue.fifo,
    });
    const result = await this.host.invoke(mapping.functionId, event, 'RequestResponse', {
      chaos,
    });
    const outcome = batchOutcome(
      event.Records,
      result.ok
        ? { ok: true, value: result.value }
        : { ok: false, reason: `${result.error.errorType}: ${result.error.errorMessage}` },
      { reportBatchItemFailures: mapping.reportBatchItemFailures, fifo: mapping.queue.fifo },
    );
    const done = messages.filter((m) => outcome.deleteIds.includes(m.MessageId ?? ''));
    const kept = chaos ? this.keepDuplicates(done) : [];
    await this.delete(done.filter((m) => !kept.includes(m)));
    if (mapping.queue.fifo) this.rememberFailures(messages, outcome.failedIds);
    if (chaos && chaos.settings.redeliverySeconds > 0) {
      const failed = messages.filter((m) => outcome.failedIds.includes(m.MessageId ?? ''));
      await this.returnAfter([...kept, ...failed], chaos.settings.redeliverySeconds);
    }
    this.emit('batch', { mapping, event, result, outcome });
  }

  /** Chaos `drop`: messages deleted unread, as if their sender never sent them. */
  private async dropSome(messages: Message[]): Promise<Message[]> {
    const { chaos } = this;
    if (!chaos || !this.drops) return messages;
    const dropped = messages.filter(() => chaos.draw('drop'));
    if (dropped.length === 0) return messages;
    for (const message of dropped) {
      chaos.record('drop', { queue: this.mapping.queue.name, message_id: message.MessageId });
    }
    await this.delete(dropped);
    return messages.filter((message) => !dropped.includes(message));
  }

  /** Chaos `duplicate`: processed messages left undeleted, so SQS delivers them once more. */
  private keepDuplicates(done: Message[]): Message[] {
    const { chaos } = this;
    if (!chaos) return [];
    if (this.duplicated.size > MAX_REMEMBERED_DUPLICATES) this.duplicated.clear();
    const kept = done.filter(
      (message) =>
        !this.duplicated.has(message.MessageId ?? '') && chaos.draw('duplicate', this.functionName),
    );
    for (const message of kept) {
      this.duplicated.add(message.MessageId ?? '');
      chaos.record('duplicate', { queue: this.mapping.queue.name, message_id: message.MessageId });
    }
    return kept;
  }

  /** Chaos `redelivery_s`: these messages return after that many seconds, not the visibility timeout. */
  private async returnAfter(messages: Message[], seconds: number): Promise<void> {
    for (let start = 0; start < messages.length; start += SQS_MAX_BATCH) {
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.mapping.queue.url,
          Entries: messages.slice(start, start + SQS_MAX_BATCH).map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle ?? '',
            VisibilityTimeout: Math.round(seconds),
          })),
        }),
      );
    }
  }

  private async delete(messages: Message[]): Promise<void> {
    for (let start = 0; start < messages.length; start += SQS_MAX_BATCH) {
      const chunk = messages.slice(start, start + SQS_MAX_BATCH);
      const response = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.mapping.queue.url,
          Entries: chunk.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle ?? '',
          })),
        }),
      );
      if (response.Failed?.length) {
        this.emit('pollError', new Error(`delete failed for ${response.Failed.length} message(s)`));
      }
    }
  }
}

function groupOf(message: Message): string {
  return message.Attributes?.MessageGroupId ?? '';
}
