/**
 * The judge and the shared provider rate limiter: a paced provider's call takes a slot first (at
 * once, or after a short wait slept in process); a request with no slot soon is deferred (re-sent
 * delayed until shortly before its turn, carrying the slot booked for it if any; no provider call,
 * no callback); a request that comes back with its slot is judged on one limiter read and no write;
 * a 429 slows the limiter and blocks it for the retry-after; an answer writes nothing; an unpaced
 * provider costs no store call.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type EngineConfig } from '#domain/config.ts';
import { INITIAL_RATE_LIMITER_STATE, type RateLimiterState } from '#domain/rate-limit.ts';
import type { JudgeProvider, JudgeResult } from '#shared/judges/port.ts';
import { createBatch } from '#shared/workflow/api.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import { processComparisonRequest } from '#shared/workflow/judge.ts';
import { pacedCall } from '#shared/workflow/judge-pacing.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import { createPipeline, deliverOne, type Pipeline, testEssays } from '#test/helpers/pipeline.ts';

const LIMITER = { pk: 'RATE#mock', sk: 'LIMITER' };

/** A pipeline whose mock provider is paced at `rpm`, with one comparison request taken off. */
async function pacedRequest(rpm: number, config: Partial<EngineConfig> = {}) {
  const p = createPipeline({
    config: { PROVIDER_RATE_LIMITS: { mock: { requests_per_minute: rpm } }, ...config },
  });
  await createBatch(
    p.deps,
    {
      essays: testEssays(2),
      judge: { provider: 'mock', profile: 'default' },
      config: { RESAMPLING_ENABLED: false },
    },
    TEST_CALLER,
  );
  await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
  const [message] = p.queues.comparison.splice(0);
  return { p, request: message!.body };
}

function limiterState(p: Pipeline): RateLimiterState | undefined {
  return p.table.get(LIMITER.pk, LIMITER.sk)?.state as RateLimiterState | undefined;
}

function setLimiter(p: Pipeline, state: Partial<RateLimiterState>): void {
  p.table.items.set(`${LIMITER.pk}\u0000${LIMITER.sk}`, {
    ...LIMITER,
    version: 1,
    state: { ...INITIAL_RATE_LIMITER_STATE, ...state },
  });
}

function countingProvider(answer: JudgeResult): { provider: JudgeProvider; calls: () => number } {
  let calls = 0;
  return {
    provider: {
      name: 'counting',
      judge: async () => {
        calls += 1;
        return answer;
      },
    },
    calls: () => calls,
  };
}

describe('the judge and the shared rate limiter', () => {
  it('asks an unpaced provider with no limiter read or write', async () => {
    // Prepare
    const p = createPipeline();
    await createBatch(
      p.deps,
      { essays: testEssays(2), config: { RESAMPLING_ENABLED: false } },
      TEST_CALLER,
    );
    await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
    const [message] = p.queues.comparison.splice(0);
    const before = p.callLog.length;

    // Act
    const outcome = await processComparisonRequest(p.deps, message!.body, 1);

    // Assess: one BatchGetItem, the lease, one callback, nothing else
    expect(outcome).toBe('verdict');
    expect(p.callLog.slice(before)).toEqual(['BatchGet', 'Put', 'SendMessage']);
    expect(limiterState(p)).toBeUndefined();
  });

  it('takes a slot from the limiter before the call, in one read and one conditional write', async () => {
    // Prepare
    const { p, request } = await pacedRequest(600);
    const before = p.callLog.length;

    // Act
    const outcome = await processComparisonRequest(p.deps, request, 1);

    // Assess
    expect(outcome).toBe('verdict');
    // The lease's PutItem, then the limiter's GetItem and conditional PutItem.
    expect(p.callLog.slice(before)).toEqual(['BatchGet', 'Put', 'Get', 'Put', 'SendMessage']);
    const now = p.clock.now.getTime();
    expect(limiterState(p)).toMatchObject({
      requestTat: now + 60_000 / (600 * DEFAULT_CONFIG.RATE_LIMIT_UTILIZATION),
      factor: 1,
      batches: { [request.batch_id]: expect.any(Object) },
    });
    expect(p.sent.callback).toHaveLength(1);
  });

  it('sleeps until a slot reserved a moment ahead, then calls', async () => {
    // Prepare: the previous slot ends 2 s from now
    const { p, request } = await pacedRequest(600);
    setLimiter(p, { requestTat: p.clock.now.getTime() + 2_000 });

    // Act
    const outcome = await processComparisonRequest(p.deps, request, 1);

    // Assess
    expect(outcome).toBe('verdict');
    expect(p.judgeSleeps).toContain(2_000);
    expect(p.sent.callback).toHaveLength(1);
  });

  it('takes a new slot when it wakes too late for the one it slept for, rather than crowd the next', async () => {
    // Prepare: the slot is 2 s ahead; the process stalls half a second past it
    const { p, request } = await pacedRequest(600);
    setLimiter(p, { requestTat: p.clock.now.getTime() + 2_000 });
    p.deps.sleep = async (ms) => {
      p.judgeSleeps.push(ms);
      p.advance(ms + 500);
    };
    const before = p.callLog.length;

    // Act
    const outcome = await processComparisonRequest(p.deps, request, 1);

    // Assess: a second limiter update for a fresh slot, then the call
    expect(outcome).toBe('verdict');
    expect(p.callLog.slice(before)).toEqual([
      'BatchGet',
      'Put',
      'Get',
      'Put',
      'Get',
      'Put',
      'SendMessage',
    ]);
  });

  it('defers a request whose turn is far off: re-sent delayed until shortly before it, provider not called', async () => {
    // Prepare: the provider asked for 120 s a moment ago (beyond the 60 s the limiter books ahead)
    const { p, request } = await pacedRequest(600);
    setLimiter(p, { blockedUntil: p.clock.now.getTime() + 120_000 });
    const { provider, calls } = countingProvider({ outcome: 'verdict', winner: 'A' });
    p.deps.providerFor = () => provider;

    // Act
    const outcome = await processComparisonRequest(p.deps, request, 1);

    // Assess: back 2.5 s before its turn, with no slot booked for it
    expect(outcome).toBe('deferred');
    expect(calls()).toBe(0);
    expect(p.sent.callback).toEqual([]);
    expect(p.queues.comparison.map((m) => m.body)).toEqual([request]);
    const resend = p.sqs.commandCalls(SendMessageCommand).at(-1)?.args[0].input;
    expect(resend).toMatchObject({ DelaySeconds: 118, MessageBody: JSON.stringify(request) });
    expect(p.telemetry.lines('judge_request_deferred')).toEqual([
      expect.objectContaining({
        batch_id: request.batch_id,
        limiter: 'mock',
        reason: 'retry_after',
        delay_s: 118,
        slot_booked: false,
      }),
    ]);
    expect(p.telemetry.metricTotal('JudgeRequestsDeferred')).toBe(1);
    // The claim was given up: the deferred copy may claim when it arrives.
    expect(
      p.table.get(`BATCH#${request.batch_id}`, `CLAIM#${request.comparison_id}`)?.claimed_until,
    ).toBe(0);
  });

  it('defers a request whose turn is within the horizon carrying the slot booked for it', async () => {
    // Prepare: the next 42 s are taken
    const { p, request } = await pacedRequest(600);
    const now = p.clock.now.getTime();
    setLimiter(p, { requestTat: now + 42_000 });

    // Act
    const outcome = await processComparisonRequest(p.deps, request, 1);

    // Assess: the slot at 42 s is booked and travels with the request, due 2.5 s before it
    expect(outcome).toBe('deferred');
    expect(p.queues.comparison.map((m) => m.body)).toEqual([
      { ...request, rate_slot_at: now + 42_000 },
    ]);
    const resend = p.sqs.commandCalls(SendMessageCommand).at(-1)?.args[0].input;
    expect(resend).toMatchObject({ DelaySeconds: 40 });
    expect(limiterState(p)?.requestTat).toBeGreaterThan(now + 42_000);
    expect(p.telemetry.lines('judge_request_deferred')).toEqual([
      expect.objectContaining({ reason: 'requests', delay_s: 40, slot_booked: true }),
    ]);
  });

  it('judges a request that comes back with its slot on one limiter read and no write', async () => {
    // Prepare: its slot is 2 s from now, booked (the limiter's frontier is past it)
    const { p, request } = await pacedRequest(600);
    const now = p.clock.now.getTime();
    setLimiter(p, { requestTat: now + 30_000 });
    const before = p.callLog.length;

    // Act
    const outcome = await processComparisonRequest(
      p.deps,
      { ...request, rate_slot_at: now + 2_000 },
      1,
    );

    // Assess: the lease, the limiter's GetItem (no PutItem), a 2 s sleep, the callback
    expect(outcome).toBe('verdict');
    expect(p.callLog.slice(before)).toEqual(['BatchGet', 'Put', 'Get', 'SendMessage']);
    expect(p.judgeSleeps).toContain(2_000);
    expect(limiterState(p)?.requestTat).toBe(now + 30_000);
  });

  it('takes a new slot for a request whose booked slot has passed, and re-sends it with the new one', async () => {
    // Prepare: its slot was a minute ago; the next 42 s are taken
    const { p, request } = await pacedRequest(600);
    const now = p.clock.now.getTime();
    setLimiter(p, { requestTat: now + 42_000 });

    // Act
    const outcome = await processComparisonRequest(
      p.deps,
      { ...request, rate_slot_at: now - 60_000 },
      1,
    );

    // Assess
    expect(outcome).toBe('deferred');
    expect(p.queues.comparison.map((m) => m.body)).toEqual([
      { ...request, rate_slot_at: now + 42_000 },
    ]);
  });

  it('re-sends a request turned away again without the slot it came back with', async () => {
    // Prepare: it carries a stale slot; the provider blocked the key for 120 s
    const { p, request } = await pacedRequest(600);
    const now = p.clock.now.getTime();
    setLimiter(p, { blockedUntil: now + 120_000 });

    // Act
    const outcome = await processComparisonRequest(
      p.deps,
      { ...request, rate_slot_at: now + 1_000 },
      1,
    );

    // Assess: the slot inside the block is void; no slot is booked 120 s ahead
    expect(outcome).toBe('deferred');
    expect(p.queues.comparison.map((m) => m.body)).toEqual([request]);
  });

  it('slows the limiter down and blocks it for the retry-after on a 429; the answer after writes nothing', async () => {
    // Prepare: a provider that answers 429 (retry after 3 s) once, then verdicts
    const { p, request } = await pacedRequest(600);
    const answers: JudgeResult[] = [
      {
        outcome: 'failure',
        kind: 'rate_limited',
        reason: 'http_429',
        retryable: true,
        retryAfterMs: 3_000,
      },
      { outcome: 'verdict', winner: 'B' },
    ];
    p.deps.providerFor = () => ({ name: 'limited', judge: async () => answers.shift()! });

    // Act
    const outcome = await processComparisonRequest(p.deps, request, 1);

    // Assess: factor × 0.7 as of the 429, recovering with time; blocked until the retry-after
    expect(outcome).toBe('verdict');
    const state = limiterState(p);
    expect(state?.factor).toBeCloseTo(DEFAULT_CONFIG.RATE_LIMIT_BACKOFF_FACTOR, 10);
    expect(state?.limitedAt).toBe(p.clock.now.getTime());
    expect(state?.blockedUntil).toBe(p.clock.now.getTime() + 3_000);
    expect(p.sent.callback).toEqual([expect.objectContaining({ outcome: 'verdict' })]);
  });

  it('counts both orders as two calls and the prompt and output cap as tokens', () => {
    // Act
    const call = pacedCall(
      DEFAULT_CONFIG,
      'batch-1',
      {
        provider: 'openai',
        model: 'gpt-4o-mini',
        judge_both_orders: true,
        max_tokens: 100,
        rubric: 'r'.repeat(500),
      },
      4_000,
    );
    const mock = pacedCall(DEFAULT_CONFIG, 'batch-1', { provider: 'mock', profile: 'x' }, 4_000);

    // Assess: (4,000 essay + 1,500 prompt + 500 rubric characters) / 4 + 100, twice
    expect(call).toEqual({ key: 'openai', batchId: 'batch-1', calls: 2, tokens: 2 * 1_600 });
    expect(mock).toEqual({
      key: 'mock',
      batchId: 'batch-1',
      calls: 1,
      tokens: 1_375 + DEFAULT_CONFIG.JUDGE_DEFAULT_MAX_TOKENS,
    });
  });
});
