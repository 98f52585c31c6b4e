/**
 * The three LLM adapters over real HTTP against local fake servers that speak each provider's
 * API: every reply the world can give ends in exactly one result of the right kind, requests have
 * the provider's shape, the model sees only "Essay A"/"Essay B", and no key or essay text leaks
 * into a failure reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_INPUT_TOKENS,
  FAKE_OUTPUT_TOKENS,
  type FakeLlmServer,
  type FakeReply,
  preferEssayContaining,
  type RecordedRequest,
  startFakeLlmServer,
} from '#bench/support/fake-llm-server.ts';
import type { JudgeResult } from '#shared/judges/port.ts';
import { createJudgeProvider } from '#shared/judges/registry.ts';
import {
  dialectOf,
  ESSAY_A_TEXT,
  ESSAY_B_TEXT,
  judgeRequest,
  type LlmProviderKind,
  llmChoice,
  llmOptions,
  NO_KEYS,
  TEST_API_KEY,
} from '#test/helpers/judge-factories.ts';

const PROVIDERS: LlmProviderKind[] = ['openai', 'anthropic', 'openai-compatible'];

let servers: FakeLlmServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function serve(
  provider: LlmProviderKind,
  script: FakeReply[] | ((request: RecordedRequest) => FakeReply),
): Promise<FakeLlmServer> {
  const server = await startFakeLlmServer({
    dialect: dialectOf(provider),
    ...(Array.isArray(script) ? { script } : { respond: script }),
  });
  servers.push(server);
  return server;
}

async function judgeOnce(
  provider: LlmProviderKind,
  server: FakeLlmServer,
  extra: Record<string, unknown> = {},
): Promise<JudgeResult> {
  const judge = createJudgeProvider(llmChoice(provider, server, extra), llmOptions(server));
  return judge.judge(judgeRequest());
}

interface FailureCase {
  name: string;
  reply: FakeReply;
  kind: string;
  retryable: boolean;
  reason?: string | RegExp;
}

const FAILURE_CASES: FailureCase[] = [
  {
    name: '429 with retry-after',
    reply: { kind: 'status', status: 429, headers: { 'retry-after': '2' } },
    kind: 'rate_limited',
    retryable: true,
    reason: 'http_429',
  },
  { name: '500', reply: { kind: 'status', status: 500 }, kind: 'provider_error', retryable: true },
  {
    name: '529 overloaded',
    reply: { kind: 'status', status: 529 },
    kind: 'provider_error',
    retryable: true,
  },
  {
    name: 'timeout',
    reply: { kind: 'hang' },
    kind: 'timeout',
    retryable: true,
    reason: 'call_timeout',
  },
  {
    name: '400',
    reply: { kind: 'status', status: 400 },
    kind: 'invalid_request',
    retryable: false,
  },
  {
    name: '401',
    reply: { kind: 'status', status: 401 },
    kind: 'invalid_request',
    retryable: false,
  },
  {
    name: 'malformed JSON text',
    reply: { kind: 'text', text: '{"winner": "A", "confidence": 4,' },
    kind: 'malformed_answer',
    retryable: false,
  },
  {
    name: 'an answer that is a JSON string, not an object',
    reply: { kind: 'raw_answer', value: '{"winner": "A"}' },
    kind: 'malformed_answer',
    retryable: false,
  },
  {
    name: 'schema-violating JSON (confidence 7, no justification)',
    reply: { kind: 'raw_answer', value: { winner: 'A', confidence: 7 } },
    kind: 'malformed_answer',
    retryable: false,
  },
  {
    name: 'wrong winner label "C"',
    reply: { kind: 'answer', winner: 'C' },
    kind: 'malformed_answer',
    retryable: false,
    reason: 'invalid_winner',
  },
  {
    name: 'wrong winner label "Essay 1"',
    reply: { kind: 'answer', winner: 'Essay 1' },
    kind: 'malformed_answer',
    retryable: false,
    reason: 'invalid_winner',
  },
  {
    name: 'a justification over 50 words',
    reply: { kind: 'answer', winner: 'A', justification: 'word '.repeat(51) },
    kind: 'malformed_answer',
    retryable: false,
    reason: 'invalid_justification',
  },
  {
    name: 'refusal',
    reply: { kind: 'refusal' },
    kind: 'refusal',
    retryable: false,
    reason: 'refusal',
  },
  {
    name: 'an answer cut at the token cap',
    reply: { kind: 'truncated' },
    kind: 'malformed_answer',
    retryable: false,
    reason: 'truncated_answer',
  },
];

describe.each(PROVIDERS)('%s adapter', (provider) => {
  it('sends the provider request shape with neutral labels and returns the verdict with usage', async () => {
    // Prepare
    const server = await serve(provider, [{ kind: 'answer', winner: 'B', confidence: 5 }]);

    // Act
    const result = await judgeOnce(provider, server, {
      temperature: 0,
      assignment: 'Argue a case.',
    });

    // Assess
    expect(result).toMatchObject({ outcome: 'verdict', winner: 'B', confidence: 1 });
    expect(server.requests).toHaveLength(1);
    const [sent] = server.requests;
    expect(sent?.promptText).toContain('Essay A');
    expect(sent?.promptText).toContain('Essay B');
    expect(sent?.promptText).toContain('Argue a case.');
    expect(sent?.promptText.indexOf(ESSAY_A_TEXT)).toBeLessThan(
      sent?.promptText.indexOf(ESSAY_B_TEXT) ?? -1,
    );
    expect(sent?.promptText).not.toContain('student-0042');
    expect(sent?.promptText).not.toContain('quality');
    expect(sent?.body.temperature).toBe(0);
    if (provider === 'anthropic') {
      expect(sent?.path).toBe('/v1/messages');
      expect(sent?.headers['x-api-key']).toBe(TEST_API_KEY);
      expect(sent?.headers['anthropic-version']).toBe('2023-06-01');
      expect(sent?.body.tool_choice).toEqual({ type: 'tool', name: 'record_verdict' });
      expect(sent?.body.max_tokens).toBe(1024);
    } else {
      expect(sent?.path).toBe('/v1/chat/completions');
      expect(sent?.headers.authorization).toBe(`Bearer ${TEST_API_KEY}`);
      const format = sent?.body.response_format as { type: string };
      expect(format.type).toBe(provider === 'openai' ? 'json_schema' : 'json_object');
    }
    if (result.outcome !== 'verdict') throw new Error('expected a verdict');
    expect(result.usage).toMatchObject({
      input_tokens: FAKE_INPUT_TOKENS,
      output_tokens: FAKE_OUTPUT_TOKENS,
      calls: 1,
    });
    expect(result.usage?.order_flip).toBeUndefined();
  });

  it.each(FAILURE_CASES)(
    'ends a reply of $name in one failure of the right kind',
    async (failureCase) => {
      // Prepare
      const server = await serve(provider, [failureCase.reply]);

      // Act
      const result = await judgeOnce(provider, server);

      // Assess
      expect(result).toMatchObject({
        outcome: 'failure',
        kind: failureCase.kind,
        retryable: failureCase.retryable,
      });
      if (result.outcome !== 'failure') throw new Error('expected a failure');
      if (failureCase.reason !== undefined) expect(result.reason).toMatch(failureCase.reason);
      expect(server.requests).toHaveLength(1);
      for (const secret of [TEST_API_KEY, ESSAY_A_TEXT, ESSAY_B_TEXT]) {
        expect(JSON.stringify(result)).not.toContain(secret);
      }
    },
  );

  it('passes the provider retry-after on to the caller', async () => {
    // Prepare
    const server = await serve(provider, [
      { kind: 'status', status: 429, headers: { 'retry-after': '3' } },
    ]);

    // Act
    const result = await judgeOnce(provider, server);

    // Assess
    expect(result).toMatchObject({ outcome: 'failure', kind: 'rate_limited', retryAfterMs: 3000 });
  });

  it('judges both orders when asked and agrees when the model follows the essay', async () => {
    // Prepare
    const server = await serve(provider, preferEssayContaining('ALPHA'));

    // Act
    const result = await judgeOnce(provider, server, { judge_both_orders: true });

    // Assess
    expect(result).toMatchObject({ outcome: 'verdict', winner: 'A' });
    if (result.outcome !== 'verdict') throw new Error('expected a verdict');
    expect(result.usage).toMatchObject({
      calls: 2,
      order_flip: false,
      input_tokens: 2 * FAKE_INPUT_TOKENS,
      output_tokens: 2 * FAKE_OUTPUT_TOKENS,
    });
    const [first, second] = server.requests;
    expect(first?.promptText.indexOf(ESSAY_A_TEXT)).toBeLessThan(
      first?.promptText.indexOf(ESSAY_B_TEXT) ?? -1,
    );
    expect(second?.promptText.indexOf(ESSAY_B_TEXT)).toBeLessThan(
      second?.promptText.indexOf(ESSAY_A_TEXT) ?? -1,
    );
  });
});

describe('judging both orders', () => {
  it('records an order flip and keeps the more confident answer when the orders disagree', async () => {
    // Prepare: the model picks the first-shown essay both times, more sure the second time
    const server = await serve('openai', [
      { kind: 'answer', winner: 'A', confidence: 2 },
      { kind: 'answer', winner: 'A', confidence: 4 },
    ]);

    // Act
    const result = await judgeOnce('openai', server, { judge_both_orders: true });

    // Assess: the second call showed the original B first, so its "A" means B
    expect(result).toMatchObject({ outcome: 'verdict', winner: 'B', confidence: 0.8 });
    if (result.outcome !== 'verdict') throw new Error('expected a verdict');
    expect(result.usage).toMatchObject({ calls: 2, order_flip: true });
  });

  it('fails with order_inconsistent rather than inventing a winner on an equal-confidence flip', async () => {
    // Prepare
    const server = await serve('anthropic', [{ kind: 'answer', winner: 'A', confidence: 3 }]);

    // Act
    const result = await judgeOnce('anthropic', server, { judge_both_orders: true });

    // Assess
    expect(result).toEqual({
      outcome: 'failure',
      kind: 'provider_error',
      reason: 'order_inconsistent',
      retryable: false,
    });
  });

  it('returns the failure of the second order and no verdict', async () => {
    // Prepare
    const server = await serve('openai', [
      { kind: 'answer', winner: 'A' },
      { kind: 'status', status: 503 },
    ]);

    // Act
    const result = await judgeOnce('openai', server, { judge_both_orders: true });

    // Assess
    expect(result).toMatchObject({
      outcome: 'failure',
      kind: 'provider_error',
      reason: 'http_503',
    });
    expect(server.requests).toHaveLength(2);
  });
});

describe('keys, models and costs', () => {
  it('fails a keyed provider without a key before any call', async () => {
    // Prepare
    const server = await serve('openai', [{ kind: 'answer', winner: 'A' }]);
    const judge = createJudgeProvider(llmChoice('openai', server), {
      ...llmOptions(server, { keys: NO_KEYS }),
    });

    // Act
    const result = await judge.judge(judgeRequest());

    // Assess
    expect(result).toEqual({
      outcome: 'failure',
      kind: 'invalid_request',
      reason: 'missing_api_key',
      retryable: false,
    });
    expect(server.requests).toHaveLength(0);
  });

  it('fails retryably, without a call, when the key lookup fails, and names no secret', async () => {
    // Prepare
    const server = await serve('anthropic', [{ kind: 'answer', winner: 'A' }]);
    const failingKeys = {
      apiKey: async () => {
        throw new Error('AccessDeniedException for secret cj/anthropic');
      },
    };
    const judge = createJudgeProvider(
      llmChoice('anthropic', server),
      llmOptions(server, { keys: failingKeys }),
    );

    // Act
    const result = await judge.judge(judgeRequest());

    // Assess
    expect(result).toEqual({
      outcome: 'failure',
      kind: 'provider_error',
      reason: 'api_key_unavailable',
      retryable: true,
    });
    expect(server.requests).toHaveLength(0);
  });

  it('calls an OpenAI-compatible server without a key and without an authorization header', async () => {
    // Prepare
    const server = await serve('openai-compatible', [{ kind: 'answer', winner: 'A' }]);
    const judge = createJudgeProvider(
      llmChoice('openai-compatible', server, { response_format: 'none' }),
      llmOptions(server, { keys: NO_KEYS }),
    );

    // Act
    const result = await judge.judge(judgeRequest());

    // Assess
    expect(result).toMatchObject({ outcome: 'verdict', winner: 'A' });
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
    expect(server.requests[0]?.body.response_format).toBeUndefined();
    expect(server.requests[0]?.body.max_tokens).toBe(1024);
  });

  it('parses a compatible server answer wrapped in prose and a code fence', async () => {
    // Prepare
    const server = await serve('openai-compatible', [
      {
        kind: 'text',
        text: 'Here is my verdict:\n```json\n{"winner": "B", "confidence": 3, "justification": "More precise."}\n```',
      },
    ]);

    // Act
    const result = await judgeOnce('openai-compatible', server);

    // Assess
    expect(result).toMatchObject({ outcome: 'verdict', winner: 'B', confidence: 0.6 });
  });

  it('estimates cost from the price table for a known model and null for an unknown one', async () => {
    // Prepare
    const server = await serve('openai', [{ kind: 'answer', winner: 'A' }]);
    const compatible = await serve('openai-compatible', [{ kind: 'answer', winner: 'A' }]);

    // Act
    const known = await judgeOnce('openai', server);
    const unknown = await judgeOnce('openai-compatible', compatible);

    // Assess: gpt-4o-mini lists 0.15 / 0.60 USD per 1M tokens
    if (known.outcome !== 'verdict' || unknown.outcome !== 'verdict') throw new Error('verdicts');
    const expected = (FAKE_INPUT_TOKENS * 0.15 + FAKE_OUTPUT_TOKENS * 0.6) / 1_000_000;
    expect(known.usage?.cost_usd).toBeCloseTo(expected, 12);
    expect(unknown.usage?.cost_usd).toBeNull();
  });

  it('ends a refused connection in one retryable network failure', async () => {
    // Prepare: a server that is gone
    const server = await serve('openai', [{ kind: 'answer', winner: 'A' }]);
    await server.close();
    servers = servers.filter((s) => s !== server);

    // Act
    const result = await judgeOnce('openai', server);

    // Assess
    expect(result).toMatchObject({
      outcome: 'failure',
      kind: 'provider_error',
      reason: 'network_error',
      retryable: true,
    });
  });
});
