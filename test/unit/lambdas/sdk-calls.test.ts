/**
 * Ties the grant table to the code: each deployed handler is run through its paths (a batch created
 * inline and with an Idempotency-Key retried, one created in pages, started, judged to the end,
 * read, listed, cancelled, and swept after its deadline; one judged in provider batches against a local
 * fake of OpenAI's Batch API) on class-level aws-sdk-client-mock'ed clients over
 * the in-memory table, every SDK command it sends is recorded as the IAM action and resource AWS
 * would authorize, and the set must equal its row in infra/functions.ts: a call without a grant
 * fails here (as it would in AWS), and a grant no path uses is one too many.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeBatchServer, startFakeBatchServer } from '#bench/support/fake-batch-server.ts';
import { FakeTable } from '#bench/support/fake-table.ts';
import { INITIAL_RATE_LIMITER_STATE } from '#domain/rate-limit.ts';
import { FUNCTIONS } from '#infra/functions.ts';
import { type GrantTarget, grantsOf } from '#infra/grants.ts';
import {
  httpEvent,
  lambdaContext,
  scheduleEvent,
  sqsEvent,
  sqsRecord,
} from '#test/helpers/events.ts';
import { testEssays } from '#test/helpers/pipeline.ts';

const QUEUE_URLS = {
  comparison: 'https://sqs.eu-west-1.amazonaws.com/123456789012/comparisons',
  callback: 'https://sqs.eu-west-1.amazonaws.com/123456789012/callbacks',
  continuation: 'https://sqs.eu-west-1.amazonaws.com/123456789012/continuation.fifo',
} as const;
const TABLE = 'cj-calls-table';
/** The deployment's admin: its list is every batch's (the all-batches index). */
const ADMIN_ARN = 'arn:aws:iam::123456789012:role/cj-ops';

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const eventBridge = mockClient(EventBridgeClient);
let sent: Array<{ queue: keyof typeof QUEUE_URLS; body: string; group?: string; dedup?: string }> =
  [];
/** By function: `<iam action> on <resource>` of every call it made. */
const used = new Map<string, Set<string>>();
const table = new FakeTable();
let batchApi: FakeBatchServer;

function queueOf(url: string): keyof typeof QUEUE_URLS {
  const entry = Object.entries(QUEUE_URLS).find(([, candidate]) => candidate === url);
  if (!entry) throw new Error(`unknown queue ${url}`);
  return entry[0] as keyof typeof QUEUE_URLS;
}

const TRANSACT_PARTS: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
};
const DOCUMENT_ACTIONS: Record<string, string> = {
  GetCommand: 'GetItem',
  PutCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  QueryCommand: 'Query',
  BatchGetCommand: 'BatchGetItem',
  BatchWriteCommand: 'BatchWriteItem',
};

/** The IAM (action, resource) pairs AWS authorizes for one SDK command. */
function iamCalls(command: { constructor: { name: string }; input: Record<string, unknown> }) {
  const name = command.constructor.name;
  const input = command.input;
  if (name === 'TransactWriteCommand') {
    return (input.TransactItems as Array<Record<string, unknown>>).flatMap((item) =>
      Object.keys(item).map((kind) => `dynamodb:${TRANSACT_PARTS[kind]} on table`),
    );
  }
  if (DOCUMENT_ACTIONS[name]) {
    const index = input.IndexName ? `table/index/${String(input.IndexName)}` : 'table';
    return [`dynamodb:${DOCUMENT_ACTIONS[name]} on ${index}`];
  }
  if (name === 'SendMessageCommand' || name === 'SendMessageBatchCommand') {
    return [`sqs:SendMessage on queue ${queueOf(String(input.QueueUrl))}`];
  }
  if (name === 'PutEventsCommand') return ['events:PutEvents on event-bus'];
  return [`unknown ${name}`];
}

function label(target: GrantTarget): string {
  switch (target.kind) {
    case 'table':
      return 'table';
    case 'index':
      return `table/index/${target.index}`;
    case 'queue':
      return `queue ${target.queue}`;
    case 'event-bus':
      return 'event-bus';
    default:
      return target.kind;
  }
}

/** Runs `work` as function `name` and records every SDK call it makes. */
async function as<T>(name: string, work: () => Promise<T>): Promise<T> {
  const before = [ddb.calls().length, sqs.calls().length, eventBridge.calls().length];
  const result = await work();
  const calls = [
    ...ddb.calls().slice(before[0]),
    ...sqs.calls().slice(before[1]),
    ...eventBridge.calls().slice(before[2]),
  ];
  const set = used.get(name) ?? new Set<string>();
  for (const call of calls) {
    for (const pair of iamCalls(call.args[0] as never)) set.add(pair);
  }
  used.set(name, set);
  return result;
}

async function handler(name: string) {
  return (await import(`#lambdas/${name}/handler.ts`)).handler as (
    event: unknown,
    context: unknown,
  ) => Promise<unknown>;
}

async function http(name: string, event: ReturnType<typeof httpEvent>) {
  const fn = await handler(name);
  const response = (await as(name, () =>
    fn(event, lambdaContext(name)),
  )) as APIGatewayProxyStructuredResultV2;
  return { status: response.statusCode, body: JSON.parse(String(response.body)) as never };
}

/** Delivers every message sent to `queue` so far to its consumer (once). */
async function drain(queue: keyof typeof QUEUE_URLS, name: string): Promise<number> {
  const messages = sent.filter((message) => message.queue === queue);
  sent = sent.filter((message) => message.queue !== queue);
  if (messages.length === 0) return 0;
  const records: SQSRecord[] = messages.map((message) =>
    sqsRecord(
      message.body,
      queue === 'continuation'
        ? { messageGroupId: message.group ?? 'g', deduplicationId: message.dedup ?? 'd' }
        : {},
    ),
  );
  const fn = await handler(name);
  await as(name, () => fn(sqsEvent(records), lambdaContext(name)));
  return messages.length;
}

/** Continuation → judge → callback until nothing is in flight. */
async function runToTheEnd(): Promise<void> {
  for (let round = 0; round < 50; round += 1) {
    const moved =
      (await drain('continuation', 'continuation')) +
      (await drain('comparison', 'judge')) +
      (await drain('callback', 'callback'));
    if (moved === 0) return;
  }
  throw new Error('the batch did not settle in 50 rounds');
}

beforeAll(async () => {
  batchApi = await startFakeBatchServer({ dialect: 'openai' });
  for (const [name, value] of Object.entries({
    TABLE_NAME: TABLE,
    COMPARISON_QUEUE_URL: QUEUE_URLS.comparison,
    CALLBACK_QUEUE_URL: QUEUE_URLS.callback,
    CONTINUATION_QUEUE_URL: QUEUE_URLS.continuation,
    EVENT_BUS_NAME: 'cj-bus',
    ALLOWED_PROVIDERS: 'mock,openai',
    // The mock paced far above what the test sends, so the limiter's item is read and written.
    PROVIDER_RATE_LIMITS: '{"mock":{"requests_per_minute":600000}}',
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: `${batchApi.origin}/v1`,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    ADMIN_PRINCIPALS: ADMIN_ARN,
  })) {
    vi.stubEnv(name, value);
  }
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  table.attach(ddb);
  sqs.on(SendMessageCommand).callsFake((input) => {
    sent.push({
      queue: queueOf(input.QueueUrl),
      body: input.MessageBody,
      ...(input.MessageGroupId ? { group: input.MessageGroupId } : {}),
      ...(input.MessageDeduplicationId ? { dedup: input.MessageDeduplicationId } : {}),
    });
    return { MessageId: 'm' };
  });
  sqs.on(SendMessageBatchCommand).callsFake((input) => {
    for (const entry of input.Entries ?? []) {
      sent.push({ queue: queueOf(input.QueueUrl), body: entry.MessageBody });
    }
    return { Successful: (input.Entries ?? []).map((e: { Id: string }) => ({ Id: e.Id })) };
  });
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
});

afterAll(async () => {
  await batchApi.close();
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("the handlers' SDK calls and the grant table", () => {
  it('each function calls exactly what its row in FUNCTIONS grants', async () => {
    // Prepare: one batch of each life, through every handler.
    const essays = testEssays(4);
    await http('admin-mock-mode', httpEvent('GET /admin/mock-mode'));
    const inline = await http(
      'create-batch',
      httpEvent('POST /batches', {
        body: { essays, budget: 6, config: { RESAMPLING_ENABLED: false } },
        headers: { 'idempotency-key': 'calls-1' },
      }),
    );
    const retried = await http(
      'create-batch',
      httpEvent('POST /batches', {
        body: { essays, budget: 6, config: { RESAMPLING_ENABLED: false } },
        headers: { 'idempotency-key': 'calls-1' },
      }),
    );
    const paged = await http(
      'create-batch',
      httpEvent('POST /batches', {
        // With a grade scale: its start checks the anchors stored in the pages.
        body: {
          essay_count: 4,
          budget: 6,
          grade_scale: ['C', 'B'],
          config: { COMPARISON_DEADLINE_SECONDS: 1 },
        },
      }),
    );
    const pagedId = (paged.body as { batch_id: string }).batch_id;
    // Read before any function here has cached its settings (each function has its own cache).
    const pagedState = await http(
      'get-batch',
      httpEvent('GET /batches/{id}', { pathParameters: { id: pagedId } }),
    );
    const anchored = essays.map((essay, index) =>
      index < 2 ? { ...essay, anchor_grade: index === 0 ? 'C' : 'B' } : essay,
    );
    const inlineId = (inline.body as { batch_id: string }).batch_id;
    for (const offset of [0, 2]) {
      await http(
        'add-essays',
        httpEvent('POST /batches/{id}/essays', {
          pathParameters: { id: pagedId },
          body: { offset, essays: anchored.slice(offset, offset + 2) },
        }),
      );
    }
    await http(
      'add-essays',
      httpEvent('POST /batches/{id}/essays', {
        pathParameters: { id: pagedId },
        body: { offset: 0, essays: anchored.slice(0, 2) },
      }),
    );
    // Started twice: a client retrying a start whose answer it lost.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      await http(
        'start-batch',
        httpEvent('POST /batches/{id}/start', { pathParameters: { id: pagedId } }),
      );
    }

    // Act: the paged batch's first wave is lost and swept after its deadline, then cancelled; the
    // inline batch is judged to its end and read.
    await drain('continuation', 'continuation');
    sent = sent.filter((message) => !message.body.includes(`"batch_id":"${pagedId}"`));
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 10 * 60_000 });
    const sweeper = await handler('sweeper');
    await as('sweeper', () => sweeper(scheduleEvent(), lambdaContext('sweeper')));
    vi.useRealTimers();
    const cancelled = await http(
      'cancel-batch',
      httpEvent('POST /batches/{id}/cancel', { pathParameters: { id: pagedId } }),
    );
    // The provider answered 429 a moment ago: the judge defers each request it gets now.
    const limiterKey = 'RATE#mock\u0000LIMITER';
    table.items.set(limiterKey, {
      pk: 'RATE#mock',
      sk: 'LIMITER',
      version: 1,
      state: { ...INITIAL_RATE_LIMITER_STATE, blockedUntil: Date.now() + 60_000 },
    });
    const offered = await drain('comparison', 'judge');
    const deferred = sent.filter((message) => message.queue === 'comparison').length;
    table.items.delete(limiterKey);
    await runToTheEnd();
    // Judged in provider batches: each wave is submitted by one run and collected by the next.
    const viaBatches = await http(
      'create-batch',
      httpEvent('POST /batches', {
        body: {
          essays,
          budget: 4,
          judge: { provider: 'openai', model: 'gpt-4o-mini', mode: 'provider_batch' },
          config: { RESAMPLING_ENABLED: false },
        },
      }),
    );
    const viaBatchesId = (viaBatches.body as { batch_id: string }).batch_id;
    const providerBatches = await handler('provider-batches');
    const scheduled = {
      ...lambdaContext('provider-batches'),
      getRemainingTimeInMillis: () => 900_000,
    };
    for (let round = 0; round < 20; round += 1) {
      await runToTheEnd();
      if (table.get(`BATCH#${viaBatchesId}`, 'META')?.status !== 'RUNNING') break;
      await as('provider-batches', () => providerBatches(scheduleEvent(), scheduled));
    }
    await http('get-batch', httpEvent('GET /batches/{id}', { pathParameters: { id: inlineId } }));
    // Listed a page at a time (the second page follows the first one's cursor).
    const listed = await http(
      'list-batches',
      httpEvent('GET /batches', { queryStringParameters: { limit: '1' } }),
    );
    const listedByAdmin = await http(
      'list-batches',
      httpEvent('GET /batches', {
        caller: 'arn:aws:sts::123456789012:assumed-role/cj-ops/on-call',
      }),
    );
    await http(
      'list-batches',
      httpEvent('GET /batches', {
        queryStringParameters: {
          limit: '1',
          cursor: String((listed.body as { next_cursor?: string }).next_cursor),
        },
      }),
    );
    const results = await http(
      'get-results',
      httpEvent('GET /batches/{id}/results', { pathParameters: { id: inlineId } }),
    );
    const waves = await http(
      'get-waves',
      httpEvent('GET /batches/{id}/waves', { pathParameters: { id: inlineId } }),
    );

    // Assess
    expect([inline.status, retried.status, results.status, waves.status]).toEqual([
      201, 200, 200, 200,
    ]);
    expect(listed.status).toBe(200);
    expect((listed.body as { batches: unknown[] }).batches).toHaveLength(1);
    expect((listedByAdmin.body as { batches: unknown[] }).batches.length).toBeGreaterThan(1);
    expect((retried.body as { batch_id: string }).batch_id).toBe(inlineId);
    expect(cancelled.status).toBe(200);
    expect(offered).toBeGreaterThan(0);
    expect(deferred).toBe(offered);
    expect(String(table.get(`BATCH#${viaBatchesId}`, 'META')?.status)).toMatch(/^COMPLETE_/);
    expect(batchApi.creates()).toBeGreaterThan(0);
    expect(cancelled.body).toMatchObject({ grade_scale: ['C', 'B'] });
    expect(pagedState.body).toMatchObject({ status: 'PENDING_ESSAYS', grade_scale: ['C', 'B'] });
    for (const spec of FUNCTIONS) {
      const granted = grantsOf(spec)
        // Secrets are read only for real providers, which these paths do not call; who may read
        // which secret is asserted in test/infra/least-privilege.test.ts.
        .filter(
          (grant) =>
            grant.by === 'code' &&
            grant.on.kind !== 'provider-secrets' &&
            grant.on.kind !== 'endpoint-secrets' &&
            grant.on.kind !== 'batch-endpoint-secrets',
        )
        .flatMap((grant) => grant.actions.map((action) => `${action} on ${label(grant.on)}`));
      expect([...(used.get(spec.name) ?? [])].sort(), spec.name).toEqual(
        [...new Set(granted)].sort(),
      );
    }
  });
});
