import { describe, expect, it } from 'vitest';
import {
  type AdmitResult,
  admit,
  estimatedCallTokens,
  INITIAL_RATE_LIMITER_STATE,
  onAnswered,
  onRateLimited,
  type RateLimiterOptions,
  type RateLimiterState,
} from '#domain/rate-limit.ts';

const OPTIONS: RateLimiterOptions = {
  utilization: 1,
  burst: 1,
  backoffFactor: 0.5,
  minFactor: 0.1,
  recoveryStep: 0.25,
  activeWindowMs: 10_000,
};
const RPM_60 = { requestsPerMinute: 60 };

/** Offers one request of `batchId` every `everyMs` from `from` to `to`; counts admissions. */
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
  it('admits one request per interval at 60 RPM and says how long to wait otherwise', () => {
    // Act
    const { results } = offer(INITIAL_RATE_LIMITER_STATE, [
      { batchId: 'a', at: 0 },
      { batchId: 'a', at: 400 },
      { batchId: 'a', at: 1000 },
    ]);
    // Assess
    expect(results.map((r) => r.admitted)).toEqual([true, false, true]);
    expect(results[1]).toMatchObject({ admitted: false, waitMs: 600, reason: 'requests' });
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
    expect(results.map((r) => r.admitted)).toEqual([true, true, true, false, false]);
  });

  it('paces tokens per minute as well (input + output estimate)', () => {
    // Prepare: 6,000 tokens per minute = 10 ms per token, one second of tokens as burst
    const limit = { requestsPerMinute: 6000, tokensPerMinute: 6000 };
    // Act
    const { results } = offer(
      INITIAL_RATE_LIMITER_STATE,
      [0, 10, 20, 30].map((at) => ({ batchId: 'a', at, tokens: 50 })),
      limit,
    );
    // Assess: 0.5 s of tokens each; the fourth would be 1.47 s ahead, beyond the 1 s tolerance
    expect(results.map((r) => r.admitted)).toEqual([true, true, true, false]);
    expect(results[3]).toMatchObject({ reason: 'tokens' });
  });

  it('aims at utilization × the limit', () => {
    // Act
    const { results } = offer(
      INITIAL_RATE_LIMITER_STATE,
      Array.from({ length: 60 }, (_, i) => ({ batchId: 'a', at: i * 1000 })),
      RPM_60,
      { ...OPTIONS, utilization: 0.5 },
    );
    // Assess
    expect(results.filter((r) => r.admitted)).toHaveLength(30);
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
    expect(results.every((r) => r.admitted)).toBe(true);
  });

  it('while another batch waits, each gets an equal share, and together they use the whole rate', () => {
    // Prepare: both batches have a backlog; a refused request comes back after its wait, an
    // admitted one is followed at once by the next (the big batch also starts first)
    const due: Record<string, number> = { big: 0, small: 5_000 };
    const admitted: Record<string, number> = { big: 0, small: 0 };
    let state = INITIAL_RATE_LIMITER_STATE;
    // Act
    for (let now = 0; now < 65_000; now += 10) {
      for (const batchId of ['big', 'small']) {
        if ((due[batchId] as number) > now) continue;
        const result = admit(state, { batchId, now, tokens: 0 }, RPM_60, OPTIONS);
        state = result.state;
        if (result.admitted && now >= 5_000) admitted[batchId] = (admitted[batchId] ?? 0) + 1;
        due[batchId] = result.admitted ? now : now + result.waitMs;
      }
    }
    // Assess: a minute of both waiting (5 s to 65 s)
    const total = (admitted.big as number) + (admitted.small as number);
    expect(total).toBeGreaterThanOrEqual(58);
    expect((admitted.small as number) / total).toBeGreaterThanOrEqual(0.4);
    expect((admitted.big as number) / total).toBeGreaterThanOrEqual(0.4);
  });

  it('forgets batches that stopped waiting', () => {
    // Prepare: "small" was refused long ago
    const { state } = offer(INITIAL_RATE_LIMITER_STATE, [
      { batchId: 'big', at: 0 },
      { batchId: 'small', at: 10 },
    ]);
    // Act
    const later = admit(state, { batchId: 'big', now: 60_000, tokens: 0 }, RPM_60, OPTIONS);
    // Assess
    expect(later.admitted).toBe(true);
    expect(Object.keys(later.state.batches)).toEqual(['big']);
  });
});

describe('adaptive back-off', () => {
  it('a 429 halves the pace and blocks until its retry-after; answers recover the pace additively', () => {
    // Act
    const limited = onRateLimited(INITIAL_RATE_LIMITER_STATE, 1000, 5000, OPTIONS);
    const blocked = admit(limited, { batchId: 'a', now: 2000, tokens: 0 }, RPM_60, OPTIONS);
    const slower = offer(limited, [
      { batchId: 'a', at: 6000 },
      { batchId: 'a', at: 7000 },
      { batchId: 'a', at: 8000 },
    ]);
    const recovered = onAnswered(onAnswered(limited, OPTIONS), OPTIONS);
    // Assess
    expect(limited.factor).toBe(0.5);
    expect(blocked).toMatchObject({ admitted: false, waitMs: 4000, reason: 'retry_after' });
    expect(slower.results.map((r) => r.admitted)).toEqual([true, false, true]);
    expect(recovered.factor).toBe(1);
    expect(onAnswered(recovered, OPTIONS)).toBe(recovered);
  });

  it('never slows below the floor', () => {
    // Act
    let state = INITIAL_RATE_LIMITER_STATE;
    for (let i = 0; i < 20; i++) state = onRateLimited(state, 0, undefined, OPTIONS);
    // Assess
    expect(state.factor).toBe(OPTIONS.minFactor);
    expect(state.blockedUntil).toBe(0);
  });
});

describe('admit: a comparison judged in both orders', () => {
  it('counts its two calls against the request pace', () => {
    // Prepare: 60 RPM, one call per second
    const state = INITIAL_RATE_LIMITER_STATE;

    // Act
    const first = admit(state, { batchId: 'b', now: 0, tokens: 0, calls: 2 }, RPM_60, OPTIONS);
    const second = admit(first.state, { batchId: 'b', now: 1_000, tokens: 0 }, RPM_60, OPTIONS);
    const third = admit(second.state, { batchId: 'b', now: 2_000, tokens: 0 }, RPM_60, OPTIONS);

    // Assess: the two calls took two seconds of the pace
    expect(first).toMatchObject({ admitted: true, waitMs: 0 });
    expect(first.state.requestTat).toBe(2_000);
    expect(second).toMatchObject({ admitted: false, reason: 'requests', waitMs: 1_000 });
    expect(third).toMatchObject({ admitted: true, waitMs: 0 });
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
