/**
 * The LLM adapters through the judge workflow (in-memory pipeline, real HTTP to local fake
 * servers): each request ends in exactly one callback of the right kind — after in-process retries
 * that wait at least the provider's retry-after, or on the last delivery for failures that stay
 * transient — and no callback or log line carries essay text or the API key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeLlmServer,
  type FakeReply,
  startFakeLlmServer,
} from '#bench/support/fake-llm-server.ts';
import { callbackSchema } from '#messages/queue.ts';
import { createJudgeProvider } from '#shared/judges/registry.ts';
import { createBatch } from '#shared/workflow/api.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import { processComparisonRequest, RetryLaterError } from '#shared/workflow/judge.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import {
  dialectOf,
  type LlmProviderKind,
  LOCAL_CLOUD_POLICY,
  llmChoice,
  llmOptions,
  TEST_API_KEY,
} from '#test/helpers/judge-factories.ts';
import {
  createPipeline,
  deliverOne,
  ESSAY_TEXT_MARKER,
  type Pipeline,
  testEssays,
} from '#test/helpers/pipeline.ts';

const PROVIDERS: LlmProviderKind[] = ['openai', 'anthropic', 'openai-compatible'];

let servers: FakeLlmServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

/** A pipeline whose 2-essay batch is judged by `provider` on a fake server playing `script`. */
async function judgedBy(provider: LlmProviderKind, script: FakeReply[]) {
  const server = await startFakeLlmServer({ dialect: dialectOf(provider), script });
  servers.push(server);
  const p = createPipeline({
    allowedProviders: ['mock', provider],
    endpointPolicy: LOCAL_CLOUD_POLICY,
  });
  p.deps.providerFor = (choice) => createJudgeProvider(choice, llmOptions(server));
  await createBatch(
    p.deps,
    {
      essays: testEssays(2),
      judge: llmChoice(provider, server),
      config: { RESAMPLING_ENABLED: false },
    },
    TEST_CALLER,
  );
  await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
  const [message] = p.queues.comparison.splice(0);
  return { p, server, request: message!.body };
}

function assertNothingLeaked(p: Pipeline): void {
  const everything = JSON.stringify([p.sent, p.telemetry.logs]);
  expect(everything).not.toContain(ESSAY_TEXT_MARKER);
  expect(everything).not.toContain(TEST_API_KEY);
}

const IMMEDIATE_FAILURES: Array<{ name: string; reply: FakeReply; kind: string }> = [
  {
    name: 'malformed JSON',
    reply: { kind: 'text', text: '{"winner": "A", "confidence": ' },
    kind: 'malformed_answer',
  },
  {
    name: 'schema-violating JSON',
    reply: { kind: 'raw_answer', value: { winner: 'A', confidence: '4', justification: 'ok' } },
    kind: 'malformed_answer',
  },
  {
    name: 'a wrong winner label',
    reply: { kind: 'answer', winner: 'Essay 1' },
    kind: 'malformed_answer',
  },
  { name: 'a refusal', reply: { kind: 'refusal' }, kind: 'refusal' },
  { name: 'a 401', reply: { kind: 'status', status: 401 }, kind: 'invalid_request' },
];

const TRANSIENT_FAILURES: Array<{ name: string; reply: FakeReply; kind: string }> = [
  { name: '500', reply: { kind: 'status', status: 500 }, kind: 'provider_error' },
  {
    name: '429 with retry-after',
    reply: { kind: 'status', status: 429, headers: { 'retry-after': '1' } },
    kind: 'rate_limited',
  },
  { name: 'a timeout', reply: { kind: 'hang' }, kind: 'timeout' },
];

describe.each(PROVIDERS)('judging through %s', (provider) => {
  it('sends one verdict callback carrying tokens, cost and calls', async () => {
    // Prepare
    const { p, request } = await judgedBy(provider, [{ kind: 'answer', winner: 'A' }]);

    // Act
    const outcome = await processComparisonRequest(p.deps, request, 1);

    // Assess
    expect(outcome).toBe('verdict');
    expect(p.sent.callback).toHaveLength(1);
    const callback = callbackSchema.parse(p.sent.callback[0]);
    expect(callback).toMatchObject({ outcome: 'verdict', winner: 'A', usage: { calls: 1 } });
    if (callback.outcome !== 'verdict') throw new Error('expected a verdict');
    expect(callback.usage?.input_tokens).toBeGreaterThan(0);
    expect(p.telemetry.lines('judge_callback_sent')[0]).toMatchObject({
      usage: { calls: 1 },
    });
    assertNothingLeaked(p);
  });

  it('waits the retry-after of a 429, then sends one verdict callback', async () => {
    // Prepare
    const { p, server, request } = await judgedBy(provider, [
      { kind: 'status', status: 429, headers: { 'retry-after': '2' } },
      { kind: 'answer', winner: 'B' },
    ]);

    // Act
    await processComparisonRequest(p.deps, request, 1);

    // Assess
    expect(server.requests).toHaveLength(2);
    expect(p.judgeSleeps).toEqual([2000]);
    expect(p.sent.callback).toEqual([expect.objectContaining({ outcome: 'verdict', winner: 'B' })]);
  });

  it.each(IMMEDIATE_FAILURES)(
    'sends one $kind failure callback at once for $name',
    async (failure) => {
      // Prepare
      const { p, server, request } = await judgedBy(provider, [failure.reply]);

      // Act
      const outcome = await processComparisonRequest(p.deps, request, 1);

      // Assess
      expect(outcome).toBe('failure');
      expect(server.requests).toHaveLength(1);
      expect(p.sent.callback).toHaveLength(1);
      expect(callbackSchema.parse(p.sent.callback[0])).toMatchObject({
        outcome: 'failure',
        failure_kind: failure.kind,
      });
      assertNothingLeaked(p);
    },
  );

  it.each(TRANSIENT_FAILURES)(
    'leaves a persistent $name to redelivery, then sends one $kind failure on the last delivery',
    async (failure) => {
      // Prepare
      const { p, server, request } = await judgedBy(provider, [failure.reply]);
      const last = p.deps.config.QUEUE_MAX_RECEIVE_COUNT - 1;

      // Act
      await expect(processComparisonRequest(p.deps, request, 1)).rejects.toBeInstanceOf(
        RetryLaterError,
      );
      const callbacksBeforeLast = p.sent.callback.length;
      const outcome = await processComparisonRequest(p.deps, request, last);

      // Assess
      expect(callbacksBeforeLast).toBe(0);
      expect(outcome).toBe('failure');
      expect(server.requests).toHaveLength(2 * p.deps.config.JUDGE_INPROCESS_ATTEMPTS);
      expect(p.sent.callback).toHaveLength(1);
      expect(callbackSchema.parse(p.sent.callback[0])).toMatchObject({
        outcome: 'failure',
        failure_kind: failure.kind,
      });
      assertNothingLeaked(p);
    },
    // Each delivery waits out the call timeout on every in-process attempt.
    30_000,
  );
});
