import { describe, expect, it } from 'vitest';
import { FakeProviderLimit } from '#bench/support/fake-rate-limit.ts';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import {
  type AdmitResult,
  admit,
  admitReserved,
  currentFactor,
  estimatedCallTokens,
  INITIAL_RATE_LIMITER_STATE,
  onRateLimited,
  type RateLimit,
  type RateLimiterOptions,
  type RateLimiterState,
  type Reservation,
  rateLimiterOptions,
  reservationLeadMs,
} from '#domain/rate-limit.ts';

const OPTIONS: RateLimiterOptions = {
  utilization: 1,
  burst: 1,
  backoffFactor: 0.5,
  minFactor: 0.1,
  recoveryMs: 10_000,
  activeWindowMs: 10_000,
  maxWaitMs: 5_000,
  reserveAheadMs: 60_000,
};
const RPM_60 = { requestsPerMinute: 60 };

/** Offers the requests in order; each sees the state the previous one left. */
function offer(
  state: RateLimiterState,
  requests: { batchId: string; at: number; tokens?: number }[],
  limit = RPM_60,
  options = OPTIONS,
): { state: RateLimiterState; results: AdmitResult[] } {
  const results: AdmitResult[] = [];
  let current = state;
  for (const { batchId, at, tokens } of requests) {
    const result = admit(current, { batchId, now: at, tokens: tokens ?? 0 }, limit, options);
    current = result.state;
    results.push(result);
  }
  return { state: current, results };
}

describe('admit: pacing', () => {
  it('admits one request per interval at 60 RPM, sleeping for a slot up to maxWaitMs ahead', () => {
    // Act
    const { results } = offer(INITIAL_RATE_LIMITER_STATE, [
      { batchId: 'a', at: 0 },
      { batchId: 'a', at: 400 },
      { batchId: 'a', at: 400 },
    ]);
    // Assess: the second sleeps 600 ms for its slot at 1 s, the third 1,600 ms for 2 s
    expect(results.map((r) => [r.admitted, r.waitMs])).toEqual([
      [true, 0],
      [true, 600],
      [true, 1_600],
    ]);
  });

  it('allows a burst of `burst` requests at once and no more', () => {
    // Act
    const { results } = offer(
      INITIAL_RATE_LIMITER_STATE,
      Array.from({ length: 5 }, () => ({ batchId: 'a', at: 0 })),
      RPM_60,
      { ...OPTIONS, burst: 3 },
    );
    // Assess
    expect(results.map((r) => r.waitMs)).toEqual([0, 0, 0, 1_000, 2_000]);
  });

  it('paces tokens per minute as well (input + output estimate), with no burst above the pace', () => {
    // Prepare: 6,000 tokens per minute = 10 ms per token
    const limit = { requestsPerMinute: 6000, tokensPerMinute: 6000 };
    // Act
    const { results } = offer(
      INITIAL_RATE_LIMITER_STATE,
      [0, 10, 20].map((at) => ({ batchId: 'a', at, tokens: 50 })),
      limit,
    );
    // Assess: 500 ms of tokens each
    expect(results.map((r) => r.waitMs)).toEqual([0, 490, 980]);
    expect(results.every((r) => r.admitted)).toBe(true);
  });

  it('aims at utilization × the limit', () => {
    // Act: a request every second for a minute, at half of 60 RPM
    const { results } = offer(
      INITIAL_RATE_LIMITER_STATE,
      Array.from({ length: 60 }, (_, i) => ({ batchId: 'a', at: i * 1000 })),
      RPM_60,
      { ...OPTIONS, utilization: 0.5, reserveAheadMs: 0 },
    );
    // Assess: one in two is served within the minute, the rest wait past it
    const within = results.filter((r, i) => r.admitted && i * 1000 + r.waitMs < 60_000);
    expect(within).toHaveLength(30);
  });
});

describe('admit: a request that cannot be served soon learns its turn', () => {
  it('books a slot beyond maxWaitMs but within the horizon and hands it to the request', () => {
    // Prepare: the next 7 s are taken
    const state = { ...INITIAL_RATE_LIMITER_STATE, requestTat: 7_000 };
    // Act
    const result = admit(state, { batchId: 'a', now: 0, tokens: 0 }, RPM_60, OPTIONS);
    // Assess: back 2.5 s before its slot at 7 s, which is booked
    expect(result).toMatchObject({
      admitted: false,
      reservation: { at: 7_000 },
      waitMs: 7_000 - reservationLeadMs(OPTIONS),
    });
    expect(result.state.requestTat).toBe(8_000);
  });

  it('admits a request that comes back with its slot, writing nothing', () => {
    // Prepare
    const booked = admit(
      { ...INITIAL_RATE_LIMITER_STATE, requestTat: 7_000 },
      { batchId: 'a', now: 0, tokens: 0 },
      RPM_60,
      OPTIONS,
    );
    const reservation = (booked as { reservation: Reservation }).reservation;
    const at = (now: number) => ({ batchId: 'a', now, tokens: 0 });
    // Act
    const back = admitReserved(booked.state, reservation, at(4_500), RPM_60, OPTIONS);
    const early = admitReserved(booked.state, reservation, at(1_000), RPM_60, OPTIONS);
    // Assess
    expect(back).toEqual({ admitted: true, waitMs: 2_500, startBy: 7_000, state: booked.state });
    expect(back?.state).toBe(booked.state);
    expect(early).toMatchObject({ admitted: false, reservation, state: booked.state });
  });

  it('voids a slot inside a retry-after block, or passed by more than the pace headroom', () => {
    // Prepare: 95 % of 60 RPM, so a call may start up to 5 % of 1,053 ms (53 ms) after its slot
    const options = { ...OPTIONS, utilization: 0.95 };
    const state = { ...INITIAL_RATE_LIMITER_STATE, requestTat: 20_000, blockedUntil: 9_000 };
    const at = (now: number) => ({ batchId: 'a', now, tokens: 0 });
    // Act
    const blocked = admitReserved(state, { at: 8_000 }, at(6_000), RPM_60, options);
    const valid = admitReserved(state, { at: 10_000 }, at(6_000), RPM_60, options);
    const slightlyLate = admitReserved(state, { at: 10_000 }, at(10_050), RPM_60, options);
    const late = admitReserved(state, { at: 10_000 }, at(10_060), RPM_60, options);
    // Assess
    expect(blocked).toBeNull();
    expect(valid).toMatchObject({ admitted: true, waitMs: 4_000 });
    expect(slightlyLate).toMatchObject({ admitted: true, waitMs: 0 });
    expect(late).toBeNull();
    // A slot the state has not booked (the limiter's item was reset) is void too.
    expect(
      admitReserved(INITIAL_RATE_LIMITER_STATE, { at: 10_000 }, at(6_000), RPM_60, options),
    ).toBeNull();
  });

  it('tells an admitted call how late it may start: the headroom over an interval or a second', () => {
    // Prepare
    const options = { ...OPTIONS, utilization: 0.9 };
    // Act
    const slow = admit(
      INITIAL_RATE_LIMITER_STATE,
      { batchId: 'a', now: 0, tokens: 0 },
      RPM_60,
      options,
    );
    const fast = admit(
      INITIAL_RATE_LIMITER_STATE,
      { batchId: 'a', now: 0, tokens: 0 },
      { requestsPerMinute: 6_000 },
      options,
    );
    // Assess: 10 % of 1,111 ms at 60 RPM; 10 % of a second at 6,000 RPM
    expect(slow).toMatchObject({ admitted: true, waitMs: 0 });
    expect((slow as { startBy: number }).startBy).toBeCloseTo(111.1, 1);
    expect((fast as { startBy: number }).startBy).toBeCloseTo(100, 6);
  });

  it('does not book beyond the horizon; the turned-away requests come back in order, one per interval', () => {
    // Prepare: the next 90 s are booked (horizon 60 s)
    const state = { ...INITIAL_RATE_LIMITER_STATE, requestTat: 90_000 };
    // Act
    const { state: after, results } = offer(
      state,
      Array.from({ length: 3 }, () => ({ batchId: 'a', at: 0 })),
    );
    // Assess: nothing booked; due back 2.5 s before the slots at 90, 91 and 92 s
    expect(after.requestTat).toBe(90_000);
    expect(results.map((r) => [r.admitted, r.waitMs, 'reservation' in r])).toEqual([
      [false, 87_500, false],
      [false, 88_500, false],
      [false, 89_500, false],
    ]);
  });
});

describe('admit: fair sharing', () => {
  it('a batch alone may use the whole rate', () => {
    // Act
    const { results } = offer(
      INITIAL_RATE_LIMITER_STATE,
      Array.from({ length: 10 }, (_, i) => ({ batchId: 'big', at: i * 1000 })),
    );
    // Assess
    expect(results.every((r) => r.admitted && r.waitMs === 0)).toBe(true);
  });

  it('forgets batches that stopped waiting', () => {
    // Prepare: "small" was turned away long ago
    const { state } = offer({ ...INITIAL_RATE_LIMITER_STATE, requestTat: 100_000 }, [
      { batchId: 'small', at: 0 },
    ]);
    // Act
    const later = admit(
      { ...state, requestTat: 0 },
      { batchId: 'big', now: 200_000, tokens: 0 },
      RPM_60,
      OPTIONS,
    );
    // Assess
    expect(later.admitted).toBe(true);
    expect(Object.keys(later.state.batches)).toEqual(['big']);
  });
});

describe('adaptive back-off', () => {
  it('a 429 cuts the pace and blocks until its retry-after; the pace recovers linearly in time', () => {
    // Act
    const limited = onRateLimited(INITIAL_RATE_LIMITER_STATE, 1_000, 5_000, OPTIONS);
    const blocked = admit(limited, { batchId: 'a', now: 2_000, tokens: 0 }, RPM_60, OPTIONS);
    // Assess: half the pace at once, 0.75 after 2.5 s, full after 5 s (recoveryMs 10 s)
    expect(limited.factor).toBe(0.5);
    expect(blocked).toMatchObject({ admitted: true, waitMs: 4_000 });
    expect(blocked.state.requestTat).toBeCloseTo(6_000 + 60_000 / 60 / 0.6, 6);
    expect(currentFactor(limited, 3_500, OPTIONS)).toBeCloseTo(0.75, 10);
    expect(currentFactor(limited, 6_000, OPTIONS)).toBe(1);
    expect(currentFactor(limited, 60_000, OPTIONS)).toBe(1);
  });

  it('a second 429 cuts the recovered pace, never below the floor', () => {
    // Act
    const once = onRateLimited(INITIAL_RATE_LIMITER_STATE, 0, undefined, OPTIONS);
    const twice = onRateLimited(once, 2_500, undefined, OPTIONS);
    let state = INITIAL_RATE_LIMITER_STATE;
    for (let i = 0; i < 20; i++) state = onRateLimited(state, 0, undefined, OPTIONS);
    // Assess
    expect(twice.factor).toBeCloseTo(0.75 * 0.5, 10);
    expect(state.factor).toBe(OPTIONS.minFactor);
    expect(state.blockedUntil).toBe(0);
  });
});

describe('admit: a comparison judged in both orders', () => {
  it('counts its two calls against the request pace', () => {
    // Act
    const first = admit(
      INITIAL_RATE_LIMITER_STATE,
      { batchId: 'b', now: 0, tokens: 0, calls: 2 },
      RPM_60,
      OPTIONS,
    );
    const second = admit(first.state, { batchId: 'b', now: 0, tokens: 0 }, RPM_60, OPTIONS);
    // Assess: the two calls took two seconds of the pace
    expect(first).toMatchObject({ admitted: true, waitMs: 0 });
    expect(first.state.requestTat).toBe(2_000);
    expect(second).toMatchObject({ admitted: true, waitMs: 2_000 });
  });
});

/**
 * A wave of requests on a simulated clock, judged as the judge function judges them with the
 * shipped settings: each request is delivered when visible (ample concurrency, 0–900 ms after it
 * becomes visible), takes its slot (the booked one if it carries one), sleeps until it and calls a
 * provider that enforces the limit per second (bench/support/fake-rate-limit.ts); a deferred one is
 * re-sent with whole seconds of delay, carrying its booked slot. `queued`: the batches' requests
 * arrive in turn (a fair queue) or one batch's after the other's.
 */
function simulateWave(options: {
  limit: RateLimit;
  perBatch: Record<string, number>;
  durationMs: number;
  tokens?: number;
  queued?: 'in_turn' | 'one_after_another';
}): {
  calls: { at: number; batchId: string }[];
  answered429: number;
  refusalsOfCalled: number[];
  writes: number;
} {
  const settings = rateLimiterOptions(DEFAULT_CONFIG);
  const provider = new FakeProviderLimit(options.limit);
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  interface Message {
    batchId: string;
    refusals: number;
    reservation?: Reservation;
  }
  const lists = Object.entries(options.perBatch).map(([batchId, count]) =>
    Array.from({ length: count }, (): Message => ({ batchId, refusals: 0 })),
  );
  const arrivals: Message[] =
    options.queued === 'one_after_another'
      ? lists.flat()
      : Array.from({ length: Math.max(...lists.map((l) => l.length)) }, (_, i) =>
          lists.flatMap((list) => (i < list.length ? [list[i] as Message] : [])),
        ).flat();
  // Deliveries and calls in time order (ties in the order they were scheduled).
  const events: { at: number; message: Message; call?: boolean }[] = arrivals.map((message, i) => ({
    at: i,
    message,
  }));
  let state = INITIAL_RATE_LIMITER_STATE;
  const calls: { at: number; batchId: string }[] = [];
  const refusalsOfCalled: number[] = [];
  let answered429 = 0;
  let writes = 0;
  while (events.length > 0) {
    let first = 0;
    for (let i = 1; i < events.length; i++) {
      if ((events[i]?.at as number) < (events[first]?.at as number)) first = i;
    }
    const { at: now, message, call } = events.splice(first, 1)[0] as (typeof events)[number];
    if (now >= options.durationMs) continue;
    const request = { batchId: message.batchId, now, tokens: options.tokens ?? 0 };
    if (call) {
      const answer = provider.take(options.tokens ?? 0, now);
      if (answer.ok) {
        calls.push({ at: now, batchId: message.batchId });
        refusalsOfCalled.push(message.refusals);
      } else {
        answered429++;
        state = onRateLimited(state, now, answer.retryAfterMs, settings);
        writes++;
        events.push({ at: now + answer.retryAfterMs, message });
      }
      continue;
    }
    const result =
      (message.reservation &&
        admitReserved(state, message.reservation, request, options.limit, settings)) ??
      admit(state, request, options.limit, settings);
    if (result.state !== state) writes++;
    state = result.state;
    if (result.admitted) {
      delete message.reservation;
      events.push({ at: now + result.waitMs, message, call: true });
      continue;
    }
    message.refusals++;
    if (result.reservation) message.reservation = result.reservation;
    else delete message.reservation;
    const visibleAt = now + Math.ceil(result.waitMs / 1000) * 1000;
    events.push({ at: visibleAt + random() * 900, message });
  }
  return { calls, answered429, refusalsOfCalled, writes };
}

/** The most calls in any window of `windowMs` (sliding). */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((x, y) => x - y);
  let most = 0;
  let from = 0;
  for (let to = 0; to < sorted.length; to++) {
    while ((sorted[to] as number) - (sorted[from] as number) >= windowMs) from++;
    most = Math.max(most, to - from + 1);
  }
  return most;
}

describe('a low limit on a simulated clock (50 RPM, a wave larger than 5 minutes of it)', () => {
  const limit = { requestsPerMinute: 50 };
  const durationMs = 5 * 60_000;

  it('admits no more than the limit in any 60 s window and gets no 429', () => {
    // Act
    const run = simulateWave({ limit, perBatch: { a: 200, b: 200 }, durationMs });
    // Assess
    expect(
      busiestWindow(
        run.calls.map((c) => c.at),
        60_000,
      ),
    ).toBeLessThanOrEqual(50);
    expect(run.answered429).toBe(0);
  });

  it('uses at least 90 % of the limit, sharing it evenly between two batches', () => {
    // Act
    const run = simulateWave({ limit, perBatch: { a: 200, b: 200 }, durationMs });
    // Assess
    expect(run.calls.length).toBeGreaterThanOrEqual(0.9 * 50 * 5);
    const a = run.calls.filter((c) => c.batchId === 'a').length / run.calls.length;
    expect(a).toBeGreaterThanOrEqual(0.4);
    expect(a).toBeLessThanOrEqual(0.6);
  });

  it('defers a called request about once, and writes the limiter about once per request', () => {
    // Act
    const run = simulateWave({ limit, perBatch: { a: 200, b: 200 }, durationMs });
    // Assess: most wait their turn once on the queue; the slowest twice; the state is written for
    // each request turned away and each slot taken (a booked slot is taken with no write)
    const mean = run.refusalsOfCalled.reduce((s, r) => s + r, 0) / run.refusalsOfCalled.length;
    expect(mean).toBeLessThanOrEqual(1.5);
    expect(Math.max(...run.refusalsOfCalled)).toBeLessThanOrEqual(3);
    expect(run.writes).toBeLessThanOrEqual(400 + 2 * run.calls.length);
  });

  it('serves a small batch queued behind a large one within the horizon, at half the rate or more', () => {
    // Act: the large batch's 400 requests reach the limiter before the small one's 30
    const run = simulateWave({
      limit,
      perBatch: { large: 400, small: 30 },
      durationMs,
      queued: 'one_after_another',
    });
    // Assess
    const small = run.calls.filter((c) => c.batchId === 'small').map((c) => c.at);
    const first = Math.min(...small);
    const last = Math.max(...small);
    const during = run.calls.filter((c) => c.at >= first && c.at <= last);
    expect(small).toHaveLength(30);
    expect(first).toBeLessThanOrEqual(DEFAULT_CONFIG.RATE_LIMIT_RESERVE_AHEAD_MS + 10_000);
    expect(small.length / during.length).toBeGreaterThanOrEqual(0.4);
    expect(run.answered429).toBe(0);
  });

  it('paces a tokens-per-minute limit to at least 90 % of it, without 429', () => {
    // Prepare: 100,000 tokens per minute, 1,300 tokens a call: 77 calls a minute
    const tokensLimit = { requestsPerMinute: 600, tokensPerMinute: 100_000 };
    // Act
    const run = simulateWave({
      limit: tokensLimit,
      perBatch: { a: 500 },
      durationMs,
      tokens: 1_300,
    });
    // Assess
    expect(run.answered429).toBe(0);
    expect(run.calls.length * 1_300).toBeGreaterThanOrEqual(0.9 * 100_000 * 5);
    expect(
      busiestWindow(
        run.calls.map((c) => c.at),
        60_000,
      ) * 1_300,
    ).toBeLessThanOrEqual(100_000);
  });
});

describe('estimatedCallTokens', () => {
  it('counts a token per four prompt characters, rounded up, plus the output cap', () => {
    // Act and Assess
    expect(estimatedCallTokens(4_001, 1_024)).toBe(1_001 + 1_024);
    expect(estimatedCallTokens(0, 100)).toBe(100);
    expect(estimatedCallTokens(-5, -1)).toBe(0);
  });
});
