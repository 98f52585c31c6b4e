/**
 * The deployed handlers themselves (middy + Powertools, env parsing, SDK singletons) on class-level
 * aws-sdk-client-mock'ed clients with the in-memory table: HTTP status codes and bodies, SQS partial
 * batch responses (a malformed record fails alone, with a log line and a metric; FIFO stops at the
 * first failure), the whole chain create → continuation → judge → callback, and the sweeper gauge.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeTable } from '#bench/support/fake-table.ts';
import {
  httpEvent,
  lambdaContext,
  scheduleEvent,
  sqsEvent,
  sqsRecord,
} from '#test/helpers/events.ts';
import { ESSAY_TEXT_MARKER, ONE_MATCHING_PER_WAVE, testEssays } from '#test/helpers/pipeline.ts';

const QUEUES = {
  COMPARISON_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/comparisons',
  CALLBACK_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/callbacks',
  CONTINUATION_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/continuation.fifo',
};
const ENV = {
  ...QUEUES,
  TABLE_NAME: 'cj-handler-table',
  EVENT_BUS_NAME: 'cj-bus',
  ALLOWED_PROVIDERS: 'mock',
  // A cap of 2 batches per caller: the 429 test reaches it (every test starts with an empty table).
  MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL: '2',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
};

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const eventBridge = mockClient(EventBridgeClient);
let table: FakeTable;
let output: string[] = [];

interface Sent {
  queueUrl: string;
  body: string;
  groupId?: string;
  dedupId?: string;
}
let sent: Sent[] = [];

function resetWorld(): void {
  ddb.reset();
  sqs.reset();
  eventBridge.reset();
  table = new FakeTable().attach(ddb);
  sent = [];
  sqs.on(SendMessageCommand).callsFake((input) => {
    sent.push({
      queueUrl: input.QueueUrl,
      body: input.MessageBody,
      ...(input.MessageGroupId ? { groupId: input.MessageGroupId } : {}),
      ...(input.MessageDeduplicationId ? { dedupId: input.MessageDeduplicationId } : {}),
    });
    return { MessageId: 'm' };
  });
  sqs.on(SendMessageBatchCommand).callsFake((input) => {
    for (const entry of input.Entries ?? []) {
      sent.push({ queueUrl: input.QueueUrl, body: entry.MessageBody });
    }
    return {
      Successful: (input.Entries ?? []).map((e: { Id: string }) => ({ Id: e.Id })),
      Failed: [],
    };
  });
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  output = [];
}

/** Every JSON line the functions wrote (Powertools logs and EMF metrics). */
function jsonLines(): Array<Record<string, unknown>> {
  return output
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function metricLines(name: string): Array<Record<string, unknown>> {
  return jsonLines().filter((line) =>
    JSON.stringify(
      (line._aws as { CloudWatchMetrics?: unknown } | undefined)?.CloudWatchMetrics ?? '',
    ).includes(`"Name":"${name}"`),
  );
}

const sentTo = (url: string) => sent.filter((message) => message.queueUrl === url);

beforeAll(() => {
  for (const [name, value] of Object.entries(ENV)) vi.stubEnv(name, value);
  const capture = (chunk: unknown) => {
    output.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
});

afterAll(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

beforeEach(() => resetWorld());

async function handlers() {
  return {
    createBatch: (await import('#lambdas/create-batch/handler.ts')).handler,
    getBatch: (await import('#lambdas/get-batch/handler.ts')).handler,
    mockMode: (await import('#lambdas/admin-mock-mode/handler.ts')).handler,
    continuation: (await import('#lambdas/continuation/handler.ts')).handler,
    judge: (await import('#lambdas/judge/handler.ts')).handler,
    callback: (await import('#lambdas/callback/handler.ts')).handler,
    sweeper: (await import('#lambdas/sweeper/handler.ts')).handler,
  };
}

async function createdBatch(): Promise<string> {
  const { createBatch } = await handlers();
  const response = (await createBatch(
    httpEvent('POST /batches', {
      body: {
        essays: testEssays(4),
        config: { RESAMPLING_ENABLED: false, ...ONE_MATCHING_PER_WAVE },
      },
    }),
    lambdaContext('create-batch'),
  )) as APIGatewayProxyStructuredResultV2;
  return (JSON.parse(String(response.body)) as { batch_id: string }).batch_id;
}

function recordsFrom(url: string, fifo = false): SQSRecord[] {
  return sentTo(url).map((message) =>
    sqsRecord(
      message.body,
      fifo
        ? { messageGroupId: message.groupId ?? 'g', deduplicationId: message.dedupId ?? 'd' }
        : {},
    ),
  );
}

describe('HTTP handlers', () => {
  it('POST /batches answers 201 with the state JSON and sends the start trigger', async () => {
    // Prepare
    const { createBatch } = await handlers();

    // Act
    const response = (await createBatch(
      httpEvent('POST /batches', { body: { essays: testEssays(3) } }),
      lambdaContext('create-batch'),
    )) as APIGatewayProxyStructuredResultV2;

    // Assess
    expect(response.statusCode).toBe(201);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json' });
    const body = JSON.parse(String(response.body)) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'RUNNING', essay_count: 3, pending_callbacks: 0 });
    expect(sentTo(QUEUES.CONTINUATION_QUEUE_URL)).toEqual([
      expect.objectContaining({ groupId: body.batch_id, dedupId: `${body.batch_id}:0` }),
    ]);
  });

  it("answers a caller's batch past MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL with 429 naming the limit", async () => {
    // Prepare
    const { createBatch } = await handlers();
    const create = async (caller?: string | null) =>
      (await createBatch(
        httpEvent('POST /batches', {
          body: { essays: testEssays(3) },
          ...(caller === undefined ? {} : { caller }),
        }),
        lambdaContext('create-batch'),
      )) as APIGatewayProxyStructuredResultV2;
    await create();
    await create();

    // Act
    const third = await create();
    const otherCaller = await create('arn:aws:iam::123456789012:user/other');
    const unsigned = await create(null);

    // Assess
    expect(third.statusCode).toBe(429);
    expect(third.headers).toMatchObject({ 'content-type': 'application/json' });
    expect(JSON.parse(String(third.body))).toEqual({
      error: 'too_many_in_flight',
      field: 'batches_in_flight',
      message: expect.stringContaining('MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL is 2'),
      limit: 'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL',
      max: 2,
      in_flight: 2,
      requested: 1,
    });
    expect(otherCaller.statusCode).toBe(201);
    // No IAM caller and no local identity (as in AWS without the authorizer): refused, not pooled.
    expect(unsigned.statusCode).toBe(403);
    expect(table.get('INFLIGHT#DEPLOYMENT', 'COUNTER')).toMatchObject({ batches: 3, essays: 9 });
  });

  it('answers unparseable JSON with 400 naming body, and an unknown batch with 404', async () => {
    // Prepare
    const { createBatch, getBatch } = await handlers();

    // Act
    const bad = (await createBatch(
      httpEvent('POST /batches', { body: '{"essays": [' }),
      lambdaContext('create-batch'),
    )) as APIGatewayProxyStructuredResultV2;
    const missing = (await getBatch(
      httpEvent('GET /batches/{id}', { pathParameters: { id: 'nope' } }),
      lambdaContext('get-batch'),
    )) as APIGatewayProxyStructuredResultV2;

    // Assess
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(String(bad.body))).toMatchObject({
      error: 'validation_error',
      field: 'body',
    });
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(String(missing.body))).toMatchObject({ error: 'not_found', field: 'id' });
  });

  it('GET /admin/mock-mode lists the allowed providers and mock profiles', async () => {
    // Prepare
    const { mockMode } = await handlers();

    // Act
    const response = (await mockMode(
      httpEvent('GET /admin/mock-mode'),
      lambdaContext('admin-mock-mode'),
    )) as APIGatewayProxyStructuredResultV2;

    // Assess
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(String(response.body))).toMatchObject({
      allowed_providers: ['mock'],
      mock_profiles: expect.arrayContaining([expect.objectContaining({ name: 'flaky_half' })]),
    });
  });
});

describe('SQS handlers', () => {
  it('run create → continuation → judge → callback with partial batch responses and no essay text in messages', async () => {
    // Prepare
    const { continuation, judge, callback } = await handlers();
    const batchId = await createdBatch();

    // Act
    const planned = (await continuation(
      sqsEvent(recordsFrom(QUEUES.CONTINUATION_QUEUE_URL, true)),
      lambdaContext('continuation'),
    )) as SQSBatchResponse;
    const judged = (await judge(
      sqsEvent(recordsFrom(QUEUES.COMPARISON_QUEUE_URL)),
      lambdaContext('judge'),
    )) as SQSBatchResponse;
    sent = sent.filter((m) => m.queueUrl === QUEUES.CALLBACK_QUEUE_URL);
    const recorded = (await callback(
      sqsEvent(recordsFrom(QUEUES.CALLBACK_QUEUE_URL)),
      lambdaContext('callback'),
    )) as SQSBatchResponse;

    // Assess
    expect([planned, judged, recorded]).toEqual([
      { batchItemFailures: [] },
      { batchItemFailures: [] },
      { batchItemFailures: [] },
    ]);
    expect(table.get(`BATCH#${batchId}`, 'META')).toMatchObject({
      submitted_comparisons: 2,
      completed_comparisons: 2,
    });
    // One gate check after both callbacks of the batch: one trigger.
    expect(sentTo(QUEUES.CONTINUATION_QUEUE_URL)).toEqual([
      expect.objectContaining({ dedupId: `${batchId}:1`, groupId: batchId }),
    ]);
    const gate = jsonLines()
      .filter((line) => line.message === 'gate_evaluation')
      .at(-1);
    expect(gate).toMatchObject({
      batch_id: batchId,
      submitted_comparisons: 2,
      completed_comparisons: 2,
      failed_comparisons: 0,
      pending_callbacks: 0,
      completion_denominator: 6,
      decision: 'continue',
    });
    expect(output.join('')).not.toContain(ESSAY_TEXT_MARKER);
  });

  it('fails only the malformed callback records, with a log line and a MalformedMessages metric', async () => {
    // Prepare
    const { continuation, callback } = await handlers();
    const batchId = await createdBatch();
    await continuation(
      sqsEvent(recordsFrom(QUEUES.CONTINUATION_QUEUE_URL, true)),
      lambdaContext('continuation'),
    );
    const request = JSON.parse(sentTo(QUEUES.COMPARISON_QUEUE_URL)[0]!.body) as {
      comparison_id: string;
    };
    const good = sqsRecord({
      v: 1,
      batch_id: batchId,
      comparison_id: request.comparison_id,
      outcome: 'verdict',
      winner: 'A',
    });
    const notJson = sqsRecord('{not json');
    const badWinner = sqsRecord({
      v: 1,
      batch_id: batchId,
      comparison_id: request.comparison_id,
      outcome: 'verdict',
      winner: 'C',
    });

    // Act
    const response = (await callback(
      sqsEvent([notJson, good, badWinner]),
      lambdaContext('callback'),
    )) as SQSBatchResponse;

    // Assess
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: notJson.messageId },
      { itemIdentifier: badWinner.messageId },
    ]);
    expect(table.get(`BATCH#${batchId}`, 'META')).toMatchObject({ completed_comparisons: 1 });
    const malformed = jsonLines().filter((line) => line.message === 'malformed_message');
    expect(malformed).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        function_name: 'callback',
        message_id: notJson.messageId,
      }),
      expect.objectContaining({
        function_name: 'callback',
        message_id: badWinner.messageId,
        issues: [expect.objectContaining({ field: 'winner' })],
      }),
    ]);
    const metrics = metricLines('MalformedMessages');
    expect(metrics).toHaveLength(2);
    expect(metrics[0]).toMatchObject({ FunctionName: 'callback', MalformedMessages: 1 });
  });

  it('reads META once per batch after all its callbacks, and redelivers only the records of a batch whose gate check failed', async () => {
    // Prepare: two batches, each with its first wave judged; the continuation trigger of the
    // second batch cannot be sent
    const { continuation, judge, callback } = await handlers();
    const batchId = await createdBatch();
    const otherId = await createdBatch();
    await continuation(
      sqsEvent(recordsFrom(QUEUES.CONTINUATION_QUEUE_URL, true)),
      lambdaContext('continuation'),
    );
    await judge(sqsEvent(recordsFrom(QUEUES.COMPARISON_QUEUE_URL)), lambdaContext('judge'));
    const callbacks = recordsFrom(QUEUES.CALLBACK_QUEUE_URL);
    const batchOf = (record: SQSRecord) =>
      (JSON.parse(record.body) as { batch_id: string }).batch_id;
    sent = [];
    sqs.on(SendMessageCommand).callsFake((input) => {
      if (input.MessageGroupId === otherId) throw new Error('continuation queue unavailable');
      sent.push({
        queueUrl: input.QueueUrl,
        body: input.MessageBody,
        groupId: input.MessageGroupId,
      });
      return { MessageId: 'm' };
    });
    ddb.resetHistory();

    // Act
    const response = (await callback(
      sqsEvent(callbacks),
      lambdaContext('callback'),
    )) as SQSBatchResponse;

    // Assess
    expect(callbacks.map(batchOf).sort()).toEqual([batchId, batchId, otherId, otherId].sort());
    // One transaction per batch for its two callbacks, one META read per batch.
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    expect(ddb.commandCalls(GetCommand).map((call) => call.args[0].input.Key?.pk)).toEqual(
      expect.arrayContaining([`BATCH#${batchId}`, `BATCH#${otherId}`]),
    );
    expect(ddb.commandCalls(GetCommand)).toHaveLength(2);
    expect(sentTo(QUEUES.CONTINUATION_QUEUE_URL)).toEqual([
      expect.objectContaining({ groupId: batchId }),
    ]);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      callbacks
        .filter((record) => batchOf(record) === otherId)
        .map((record) => record.messageId)
        .sort(),
    );
    expect(table.get(`BATCH#${otherId}`, 'META')).toMatchObject({ completed_comparisons: 2 });
    expect(jsonLines().filter((line) => line.message === 'follow_up_failed')).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        records: 2,
        error_message: 'continuation queue unavailable',
      }),
    ]);
  });

  it('stops a FIFO continuation batch at the first failure and reports every later record', async () => {
    // Prepare: batch X's group holds a malformed trigger before its start; batch Y's start
    // follows in its own group
    const { continuation } = await handlers();
    const batchId = await createdBatch();
    const [start] = recordsFrom(QUEUES.CONTINUATION_QUEUE_URL, true);
    const otherId = await createdBatch();
    const [, otherStart] = recordsFrom(QUEUES.CONTINUATION_QUEUE_URL, true);
    const malformed = sqsRecord({ v: 1, batch_id: batchId }, { messageGroupId: batchId });

    // Act
    const response = (await continuation(
      sqsEvent([malformed, start!, otherStart!]),
      lambdaContext('continuation'),
    )) as SQSBatchResponse;

    // Assess: X's group stops at its failure (the later record is reported, not run); Y's group
    // is processed in the same invocation
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: malformed.messageId },
      { itemIdentifier: start!.messageId },
    ]);
    expect(table.get(`BATCH#${batchId}`, 'META')).toMatchObject({ current_iteration: 0 });
    expect(table.get(`BATCH#${otherId}`, 'META')).toMatchObject({ current_iteration: 1 });
    expect(metricLines('MalformedMessages')[0]).toMatchObject({ FunctionName: 'continuation' });
    const failed = jsonLines().filter((line) => line.message === 'record_failed');
    expect(failed).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message_id: malformed.messageId,
        message_group_id: batchId,
      }),
    ]);
  });

  it('reports a FIFO invocation whose every record failed as a function error', async () => {
    // Prepare
    const { continuation } = await handlers();
    const batchId = await createdBatch();
    const malformed = sqsRecord({ v: 1, batch_id: batchId }, { messageGroupId: batchId });

    // Act
    const invocation = continuation(sqsEvent([malformed]), lambdaContext('continuation'));

    // Assess
    await expect(invocation).rejects.toThrow(/All records failed processing/);
    expect(jsonLines().filter((line) => line.message === 'record_failed')).toHaveLength(1);
  });

  it("sends an invocation's callbacks in one SendMessageBatch and fails exactly the records whose entries SQS refused", async () => {
    // Prepare: the first wave's two requests; the callback queue refuses the second's entry.
    const { continuation, judge } = await handlers();
    const batchId = await createdBatch();
    await continuation(
      sqsEvent(recordsFrom(QUEUES.CONTINUATION_QUEUE_URL, true)),
      lambdaContext('continuation'),
    );
    const records = recordsFrom(QUEUES.COMPARISON_QUEUE_URL);
    const refused = (JSON.parse(records[1]!.body) as { comparison_id: string }).comparison_id;
    const callbackRequests: number[] = [];
    sqs.on(SendMessageBatchCommand, { QueueUrl: QUEUES.CALLBACK_QUEUE_URL }).callsFake((input) => {
      const entries = (input.Entries ?? []) as Array<{ Id: string; MessageBody: string }>;
      callbackRequests.push(entries.length);
      const isRefused = (e: { MessageBody: string }) =>
        (JSON.parse(e.MessageBody) as { comparison_id: string }).comparison_id === refused;
      for (const entry of entries.filter((e) => !isRefused(e))) {
        sent.push({ queueUrl: QUEUES.CALLBACK_QUEUE_URL, body: entry.MessageBody });
      }
      return {
        Successful: entries.filter((e) => !isRefused(e)).map((e) => ({ Id: e.Id })),
        Failed: entries
          .filter(isRefused)
          .map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError' })),
      };
    });

    // Act
    const response = (await judge(sqsEvent(records), lambdaContext('judge'))) as SQSBatchResponse;

    // Assess: one request for both (then the refused entry's retries), one record failed, and its
    // lease given up so its redelivery judges at once.
    expect(callbackRequests[0]).toBe(2);
    expect(callbackRequests.slice(1).every((entries) => entries === 1)).toBe(true);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.messageId }]);
    expect(sentTo(QUEUES.CALLBACK_QUEUE_URL)).toHaveLength(1);
    expect(sentTo(QUEUES.CALLBACK_QUEUE_URL)[0]!.body).not.toContain(refused);
    expect(table.get(`BATCH#${batchId}`, `CLAIM#${refused}`)).toMatchObject({
      claim_state: 'released',
    });
  });

  it('fails a malformed comparison request alone and still judges the valid one', async () => {
    // Prepare
    const { continuation, judge } = await handlers();
    await createdBatch();
    await continuation(
      sqsEvent(recordsFrom(QUEUES.CONTINUATION_QUEUE_URL, true)),
      lambdaContext('continuation'),
    );
    const [valid] = recordsFrom(QUEUES.COMPARISON_QUEUE_URL);
    const selfPair = sqsRecord({
      ...(JSON.parse(valid!.body) as object),
      b: (JSON.parse(valid!.body) as { a: number }).a,
    });

    // Act
    const response = (await judge(
      sqsEvent([selfPair, valid!]),
      lambdaContext('judge'),
    )) as SQSBatchResponse;

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: selfPair.messageId }]);
    expect(sentTo(QUEUES.CALLBACK_QUEUE_URL)).toHaveLength(1);
    expect(metricLines('MalformedMessages')[0]).toMatchObject({ FunctionName: 'judge' });
  });
});

describe('sweeper handler', () => {
  it('emits the PendingCallbacks gauge over active batches', async () => {
    // Prepare
    const { continuation, sweeper } = await handlers();
    await createdBatch();
    await continuation(
      sqsEvent(recordsFrom(QUEUES.CONTINUATION_QUEUE_URL, true)),
      lambdaContext('continuation'),
    );
    output = [];

    // Act
    await sweeper(scheduleEvent(), lambdaContext('sweeper'));

    // Assess
    const gauge = metricLines('PendingCallbacks');
    expect(gauge).toHaveLength(1);
    expect(gauge[0]).toMatchObject({ PendingCallbacks: 2 });
    expect(
      JSON.stringify((gauge[0]!._aws as { CloudWatchMetrics: unknown }).CloudWatchMetrics),
    ).toContain('"Namespace":"CjEngine"');
  });
});
