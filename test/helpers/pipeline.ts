/**
 * A whole pipeline in memory for workflow tests: the real store on the in-memory table, the real
 * SQS/EventBridge messaging adapter on aws-sdk-client-mock'ed clients that record every message,
 * a recording telemetry, a settable clock, and a crash injector that makes the k-th external call
 * (any DynamoDB, SQS or EventBridge request) throw once. `deliver*` helpers play SQS: each message
 * is handed to the workflow function, and a message whose processing throws stays for redelivery.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { FakeTable } from '#bench/support/fake-table.ts';
import { DEFAULT_CONFIG, type EngineConfig } from '#domain/config.ts';
import type { BatchFinishedEvent } from '#messages/events.ts';
import type { Callback, ComparisonRequest, ContinuationTrigger } from '#messages/queue.ts';
import type { EndpointPolicy } from '#shared/judges/endpoints.ts';
import { createJudgeProvider } from '#shared/judges/registry.ts';
import { eventBridgePublisher } from '#shared/runtime/event-bus.ts';
import { sqsQueues } from '#shared/runtime/sqs-queues.ts';
import { domainEngine } from '#shared/workflow/engine.ts';
import type { Engine, WorkflowDeps } from '#shared/workflow/ports.ts';
import type { MetricName, Telemetry } from '#shared/workflow/telemetry.ts';
import { dynamoStore } from '#store/dynamo-store.ts';

export const QUEUE_URLS = {
  comparison: 'https://sqs.eu-west-1.amazonaws.com/123456789012/comparisons',
  callback: 'https://sqs.eu-west-1.amazonaws.com/123456789012/callbacks',
  continuation: 'https://sqs.eu-west-1.amazonaws.com/123456789012/continuation.fifo',
} as const;
export const EVENT_BUS = 'cj-test-bus';
export const START = new Date('2026-11-27T08:00:00.000Z');
/** SQS FIFO drops a message whose dedup id was seen in the last 5 minutes. */
const FIFO_DEDUP_WINDOW_MS = 5 * 60 * 1000;

export class CrashError extends Error {
  constructor(readonly call: number) {
    super(`injected crash at external call ${call}`);
    this.name = 'CrashError';
  }
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  [field: string]: unknown;
}

export interface MetricRecord {
  name: MetricName;
  value: number;
  dimensions: Record<string, string>;
}

export interface QueuedMessage<T> {
  body: T;
  raw: string;
  receiveCount: number;
  groupId?: string;
  dedupId?: string;
}

export class RecordingTelemetry implements Telemetry {
  readonly logs: LogLine[] = [];
  readonly metrics: MetricRecord[] = [];
  info(message: string, fields: Record<string, unknown> = {}): void {
    this.logs.push({ ...fields, level: 'info', message });
  }
  warn(message: string, fields: Record<string, unknown> = {}): void {
    this.logs.push({ ...fields, level: 'warn', message });
  }
  error(message: string, fields: Record<string, unknown> = {}): void {
    this.logs.push({ ...fields, level: 'error', message });
  }
  count(name: MetricName, value = 1): void {
    this.metrics.push({ name, value, dimensions: {} });
  }
  gauge(name: MetricName, value: number): void {
    this.metrics.push({ name, value, dimensions: {} });
  }
  countWithDimension(name: MetricName, dimension: string, value: string, count = 1): void {
    this.metrics.push({ name, value: count, dimensions: { [dimension]: value } });
  }
  lines(message: string): LogLine[] {
    return this.logs.filter((line) => line.message === message);
  }
  metricTotal(name: MetricName): number {
    return this.metrics.filter((m) => m.name === name).reduce((sum, m) => sum + m.value, 0);
  }
}

export interface PipelineOptions {
  engine?: Engine;
  config?: Partial<EngineConfig>;
  allowedProviders?: string[];
  /** The deployment's endpoint policy; a deployed stack's (none, no base URL) unless given. */
  endpointPolicy?: EndpointPolicy;
}

function wrapSend(
  client: { send: (...args: never[]) => unknown },
  onCall: (command: string) => void,
): void {
  const original = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as { send: unknown }).send = (...args: unknown[]) => {
    try {
      onCall(
        (args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ''),
      );
    } catch (error) {
      return Promise.reject(error);
    }
    return original(...args);
  };
}

export function createPipeline(options: PipelineOptions = {}) {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const documentClient = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: 'eu-west-1', credentials }),
  );
  const sqsClient = new SQSClient({ region: 'eu-west-1', credentials });
  const eventBridgeClient = new EventBridgeClient({ region: 'eu-west-1', credentials });
  const ddb = mockClient(documentClient);
  const sqs = mockClient(sqsClient);
  const eb = mockClient(eventBridgeClient);
  const backoffSleeps: number[] = [];
  const store = dynamoStore({
    client: documentClient,
    tableName: 'cj-test-table',
    retry: {
      maxAttempts: 4,
      random: () => 0.5,
      sleep: async (ms) => {
        backoffSleeps.push(ms);
      },
    },
  });
  const table = new FakeTable().attach(ddb);

  const clock = { now: new Date(START) };
  const queues = {
    comparison: [] as QueuedMessage<ComparisonRequest>[],
    callback: [] as QueuedMessage<Callback>[],
    continuation: [] as QueuedMessage<ContinuationTrigger>[],
  };
  /** Every message ever sent, duplicates and FIFO-deduplicated ones included. */
  const sent = {
    comparison: [] as ComparisonRequest[],
    callback: [] as Callback[],
    continuation: [] as Array<{ body: ContinuationTrigger; groupId?: string; dedupId?: string }>,
  };
  const dedupSeen = new Map<string, number>();
  const events: BatchFinishedEvent[] = [];
  const deadLetters: Array<{ queue: keyof typeof queues; raw: string }> = [];

  const enqueue = (
    url: string | undefined,
    raw: string,
    groupId?: string,
    dedupId?: string,
  ): void => {
    if (url === QUEUE_URLS.comparison) {
      const body = JSON.parse(raw) as ComparisonRequest;
      sent.comparison.push(body);
      queues.comparison.push({ body, raw, receiveCount: 0 });
    } else if (url === QUEUE_URLS.callback) {
      const body = JSON.parse(raw) as Callback;
      sent.callback.push(body);
      queues.callback.push({ body, raw, receiveCount: 0 });
    } else if (url === QUEUE_URLS.continuation) {
      const body = JSON.parse(raw) as ContinuationTrigger;
      sent.continuation.push({
        body,
        ...(groupId ? { groupId } : {}),
        ...(dedupId ? { dedupId } : {}),
      });
      const seenAt = dedupId === undefined ? undefined : dedupSeen.get(dedupId);
      if (seenAt !== undefined && clock.now.getTime() - seenAt < FIFO_DEDUP_WINDOW_MS) return;
      if (dedupId !== undefined) dedupSeen.set(dedupId, clock.now.getTime());
      queues.continuation.push({
        body,
        raw,
        receiveCount: 0,
        ...(groupId ? { groupId } : {}),
        ...(dedupId ? { dedupId } : {}),
      });
    } else {
      throw new Error(`unknown queue ${url}`);
    }
  };
  sqs.on(SendMessageCommand).callsFake((input) => {
    enqueue(input.QueueUrl, input.MessageBody, input.MessageGroupId, input.MessageDeduplicationId);
    return { MessageId: `m-${sent.callback.length + sent.continuation.length}` };
  });
  sqs.on(SendMessageBatchCommand).callsFake((input) => {
    const entries = (input.Entries ?? []) as SendMessageBatchRequestEntry[];
    for (const entry of entries) enqueue(input.QueueUrl, entry.MessageBody ?? '');
    return {
      Successful: entries.map((entry) => ({
        Id: entry.Id,
        MessageId: `m-${entry.Id}`,
        MD5OfMessageBody: 'x',
      })),
      Failed: [],
    };
  });
  eb.on(PutEventsCommand).callsFake((input) => {
    for (const entry of input.Entries ?? []) {
      events.push(JSON.parse(entry.Detail ?? '{}') as BatchFinishedEvent);
    }
    return { FailedEntryCount: 0, Entries: [{ EventId: `e-${events.length}` }] };
  });

  // Crash injection over every external call, whatever the client.
  const crash = { calls: 0, at: undefined as number | undefined };
  /** Every external call by command name (`TransactWrite`, `SendMessageBatch`, `PutEvents`...). */
  const callLog: string[] = [];
  const onCall = (command: string) => {
    callLog.push(command);
    crash.calls += 1;
    if (crash.at !== undefined && crash.calls === crash.at) {
      crash.at = undefined;
      throw new CrashError(crash.calls);
    }
  };
  wrapSend(documentClient as never, onCall);
  wrapSend(sqsClient as never, onCall);
  wrapSend(eventBridgeClient as never, onCall);

  const telemetry = new RecordingTelemetry();
  const config: EngineConfig = { ...DEFAULT_CONFIG, ...options.config };
  const judgeSleeps: number[] = [];
  let batchCounter = 0;
  const deps: WorkflowDeps = {
    store,
    messaging: {
      ...sqsQueues({
        sqs: sqsClient,
        comparisonQueueUrl: QUEUE_URLS.comparison,
        callbackQueueUrl: QUEUE_URLS.callback,
        continuationQueueUrl: QUEUE_URLS.continuation,
        config,
        sleep: async () => undefined,
        random: () => 0.5,
      }),
      ...eventBridgePublisher({ eventBridge: eventBridgeClient, eventBusName: EVENT_BUS }),
    },
    telemetry,
    engine: options.engine ?? domainEngine,
    config,
    now: () => new Date(clock.now),
    sleep: async (ms) => {
      judgeSleeps.push(ms);
    },
    random: () => 0.5,
    allowedProviders: options.allowedProviders ?? ['mock'],
    ...(options.endpointPolicy ? { endpointPolicy: options.endpointPolicy } : {}),
    newBatchId: () => {
      batchCounter += 1;
      return `batch-${String(batchCounter).padStart(4, '0')}`;
    },
    providerFor: (choice) =>
      createJudgeProvider(choice, {
        maxMockLatencyMs: config.MOCK_LATENCY_MAX_MS,
        sleep: async (ms) => {
          judgeSleeps.push(ms);
        },
        ...(options.endpointPolicy ? { llm: { endpointPolicy: options.endpointPolicy } } : {}),
      }),
  };

  return {
    deps,
    store,
    /** The document client the store sends through (a second store on it is a cold function). */
    documentClient,
    table,
    ddb,
    sqs,
    eb,
    telemetry,
    clock,
    queues,
    sent,
    events,
    deadLetters,
    errors: [] as unknown[],
    callLog,
    backoffSleeps,
    judgeSleeps,
    /** The next external call numbered `k` from now (1 = the very next) throws a CrashError. */
    crashAtCall(k: number): void {
      crash.at = crash.calls + k;
    },
    /** External calls made so far (DynamoDB + SQS + EventBridge). */
    externalCalls: () => crash.calls,
    advance(ms: number): void {
      clock.now = new Date(clock.now.getTime() + ms);
    },
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;

export type DeliveryResult = 'empty' | 'ok' | 'failed';

/**
 * Plays SQS for one queue: takes the oldest message, runs `process`, removes it on success; on an
 * error it stays (receive count raised) until it has been received `maxReceiveCount` times, then
 * goes to the dead letters. Errors are collected in `errors`.
 */
export interface QueueBodies {
  comparison: ComparisonRequest;
  callback: Callback;
  continuation: ContinuationTrigger;
}

export async function deliverOne<Q extends keyof QueueBodies>(
  pipeline: Pipeline,
  queue: Q,
  process: (body: QueueBodies[Q], receiveCount: number) => Promise<unknown>,
): Promise<DeliveryResult> {
  const list = pipeline.queues[queue] as unknown as QueuedMessage<QueueBodies[Q]>[];
  const message = list.shift();
  if (!message) return 'empty';
  message.receiveCount += 1;
  try {
    await process(message.body, message.receiveCount);
    return 'ok';
  } catch (error) {
    pipeline.errors.push(error);
    if (message.receiveCount >= pipeline.deps.config.QUEUE_MAX_RECEIVE_COUNT) {
      pipeline.deadLetters.push({ queue, raw: message.raw });
    } else if (queue === 'continuation') {
      // FIFO: the group is blocked until the failed message succeeds.
      list.unshift(message);
    } else {
      list.push(message);
    }
    return 'failed';
  }
}

/** Marker inside every essay text, so tests can prove no text leaves the table. */
export const ESSAY_TEXT_MARKER = 'PRIVATE-ESSAY-BODY';

export function testEssays(count: number, qualities?: readonly number[]) {
  return Array.from({ length: count }, (_, index) => ({
    id: `student-${String(index).padStart(3, '0')}`,
    text: `${ESSAY_TEXT_MARKER} ${index}: a short argumentative essay about tides.`,
    metadata: { quality: qualities?.[index] ?? (count - index) * 0.7 },
  }));
}

export interface Processors {
  continuation: (trigger: ContinuationTrigger) => Promise<unknown>;
  judge: (request: ComparisonRequest, receiveCount: number) => Promise<unknown>;
  callback: (callback: Callback) => Promise<unknown>;
}

/** Delivers messages (continuation first, then requests, then callbacks) until every queue is empty. */
export async function drain(
  pipeline: Pipeline,
  processors: Processors,
  maxDeliveries = 20_000,
): Promise<number> {
  let deliveries = 0;
  while (deliveries < maxDeliveries) {
    let result = await deliverOne(pipeline, 'continuation', processors.continuation);
    if (result === 'empty') {
      result = await deliverOne(pipeline, 'comparison', processors.judge);
    }
    if (result === 'empty') result = await deliverOne(pipeline, 'callback', processors.callback);
    if (result === 'empty') return deliveries;
    deliveries += 1;
  }
  throw new Error(`queues not drained after ${maxDeliveries} deliveries`);
}

/** The dashboard of one stored batch: META attributes as the store keeps them. */
/** The processing metadata stored at finalization (the REPORT item beside META). */
export function reportOf(pipeline: Pipeline, batchId: string): Record<string, unknown> {
  const item = pipeline.table.get(`BATCH#${batchId}`, 'META#REPORT');
  if (!item) throw new Error(`batch ${batchId} has no report`);
  return item.processing_metadata as Record<string, unknown>;
}

export function metaOf(pipeline: Pipeline, batchId: string): Record<string, unknown> {
  const item = pipeline.table.get(`BATCH#${batchId}`, 'META');
  if (!item) throw new Error(`no batch ${batchId}`);
  return item;
}

/**
 * Batch config for tests of the callback path that need a wave still partly in flight: one
 * matching per wave (the wave-sizing rule of WAVE_MAX_APPEARANCES_PER_ESSAY = 1), so a 4-essay
 * batch's first wave is 2 comparisons.
 */
export const ONE_MATCHING_PER_WAVE = { WAVE_MAX_APPEARANCES_PER_ESSAY: 1 } as const;
