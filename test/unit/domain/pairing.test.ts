import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AttemptedPairs,
  coverageRemaining,
  focusParticipants,
  maxPossiblePairs,
  orientationBalance,
  pairFromKey,
  pairKey,
  planWave,
} from '#domain/pairing.ts';
import type { ComparisonRecord, PlannedPair } from '#domain/types.ts';
import { makeComparison, makeConfig } from '#test/helpers/domain-factories.ts';
import {
  makeFit,
  makePlanRequest,
  planUntilExhausted,
  recordWave,
  shownFirstMinusSecond,
} from '#test/helpers/pairing-factories.ts';

function essaysOf(wave: readonly PlannedPair[]): number[] {
  return wave.flatMap((p) => [p.a, p.b]);
}

const strategyArb = fc.constantFrom('random' as const, 'adaptive' as const);

/** A batch part-way through coverage: n essays, a few recorded waves, a fit. */
const midBatchArb = fc
  .record({
    n: fc.integer({ min: 2, max: 30 }),
    strategy: strategyArb,
    seed: fc.integer({ min: 0, max: 1_000_000 }),
    priorWaves: fc.integer({ min: 0, max: 12 }),
  })
  .map(({ n, strategy, seed, priorWaves }) => {
    const fit = makeFit(n, seed);
    const { history } = planUntilExhausted({
      n,
      kind: 'coverage',
      strategy,
      seed,
      fit,
      maxWaves: priorWaves,
    });
    return { n, strategy, seed, fit, history };
  });

describe('pair keys and coverage helpers', () => {
  it('keys a pair the same in either order and decodes it back', () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.nat(100_000), (i, j) => {
        // Prepare
        fc.pre(i !== j);
        // Act
        const key = pairKey(i, j);
        // Assess
        expect(pairKey(j, i)).toBe(key);
        expect(pairFromKey(key)).toEqual([Math.min(i, j), Math.max(i, j)]);
      }),
    );
  });

  it('indexes attempted pairs exactly as a set of pair keys would', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 25 }),
        fc.array(fc.tuple(fc.nat(24), fc.nat(24)), { maxLength: 120 }),
        (n, raw) => {
          // Prepare
          const comparisons = raw
            .map(([a, b]) => [a % n, b % n] as const)
            .filter(([a, b]) => a !== b)
            .map(([a, b]) => makeComparison({ a, b }));
          const keys = new Set(comparisons.map((c) => pairKey(c.a, c.b)));
          // Act
          const index = new AttemptedPairs(n, comparisons);
          // Assess
          expect(index.size).toBe(keys.size);
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) {
              if (i !== j) expect(index.has(i, j)).toBe(keys.has(pairKey(i, j)));
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('counts n·(n−1)/2 possible pairs and what coverage still lacks', () => {
    // Prepare
    const history = [
      makeComparison({ a: 0, b: 1 }),
      makeComparison({ a: 1, b: 0, status: 'FAILED' }),
      makeComparison({ a: 2, b: 3, status: 'PENDING' }),
    ];
    // Act
    const remaining = coverageRemaining(4, history);
    // Assess
    expect(maxPossiblePairs(4)).toBe(6);
    expect(maxPossiblePairs(1)).toBe(0);
    expect(remaining).toBe(4);
  });
});

describe('planWave: every kind', () => {
  it('uses each essay at most once and respects maxPairs and busy essays', () => {
    fc.assert(
      fc.property(
        midBatchArb,
        fc.constantFrom('coverage' as const, 'resample' as const, 'retry' as const),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.nat(29), { maxLength: 6 }),
        ({ n, strategy, seed, fit, history }, kind, maxPairs, busyList) => {
          // Prepare
          const busyEssays = new Set(busyList.filter((i) => i < n));
          const withFailures = history.map((c, k) =>
            k % 5 === 0 ? { ...c, status: 'FAILED' as const, winner: undefined } : c,
          );
          // Act
          const wave = planWave(
            makePlanRequest({
              n,
              kind,
              strategy,
              seed,
              comparisons: withFailures,
              ...fit,
              maxPairs,
              busyEssays,
              resamplePass: 1,
            }),
          );
          // Assess
          const essays = essaysOf(wave);
          expect(new Set(essays).size).toBe(essays.length);
          expect(wave.length).toBeLessThanOrEqual(maxPairs);
          expect(essays.some((e) => busyEssays.has(e))).toBe(false);
          expect(essays.every((e) => Number.isInteger(e) && e >= 0 && e < n)).toBe(true);
          expect(wave.every((p) => p.kind === kind && p.a !== p.b)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('returns the same wave for the same request', () => {
    fc.assert(
      fc.property(midBatchArb, ({ n, strategy, seed, fit, history }) => {
        // Prepare
        const request = makePlanRequest({ n, strategy, seed, comparisons: history, ...fit });
        // Act
        const first = planWave(request);
        const second = planWave({ ...request, comparisons: [...history] });
        // Assess
        expect(second).toEqual(first);
      }),
      { numRuns: 50 },
    );
  });

  it('depends on the seed', () => {
    // Prepare
    const request = makePlanRequest({ n: 40 });
    // Act
    const waves = [1, 2, 3, 4].map((seed) => JSON.stringify(planWave({ ...request, seed })));
    // Assess
    expect(new Set(waves).size).toBeGreaterThan(1);
  });

  it('plans nothing for fewer than two essays or when every other essay is busy', () => {
    // Prepare
    const busyEssays = new Set([0, 1, 2]);
    // Act
    const single = planWave(makePlanRequest({ n: 1 }));
    const allBusy = planWave(makePlanRequest({ n: 4, busyEssays }));
    // Assess
    expect(single).toEqual([]);
    expect(allBusy).toEqual([]);
  });

  it('rejects malformed requests', () => {
    // Prepare
    const outOfRange = [makeComparison({ a: 0, b: 7 })];
    // Act
    const zeroPairs = () => planWave(makePlanRequest({ maxPairs: 0 }));
    const badHistory = () => planWave(makePlanRequest({ n: 5, comparisons: outOfRange }));
    const noPass = () => planWave(makePlanRequest({ kind: 'resample' }));
    // Assess
    expect(zeroPairs).toThrow(/maxPairs/);
    expect(badHistory).toThrow(/not a pair/);
    expect(noPass).toThrow(/resamplePass/);
  });
});

describe('planWave: coverage', () => {
  it('never plans a pair that was attempted, whatever its status', () => {
    fc.assert(
      fc.property(midBatchArb, ({ n, strategy, seed, fit, history }) => {
        // Prepare
        const mixed = history.map((c, k) => ({
          ...c,
          status: (['COMPLETED', 'FAILED', 'PENDING'] as const)[k % 3] ?? 'COMPLETED',
        }));
        const attempted = new Set(mixed.map((c) => pairKey(c.a, c.b)));
        // Act
        const wave = planWave(
          makePlanRequest({ n, strategy, seed, comparisons: mixed, ...fit, maxPairs: n }),
        );
        // Assess
        expect(wave.some((p) => attempted.has(pairKey(p.a, p.b)))).toBe(false);
        if (attempted.size < maxPossiblePairs(n)) expect(wave.length).toBeGreaterThan(0);
      }),
      { numRuns: 150 },
    );
  });

  it('reaches full coverage exactly: every pair once, then nothing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 14 }),
        strategyArb,
        fc.nat(1_000_000),
        (n, strategy, seed) => {
          // Prepare
          const fit = makeFit(n, seed);
          // Act
          const { history } = planUntilExhausted({ n, kind: 'coverage', strategy, seed, fit });
          // Assess
          const keys = new Set(history.map((c) => pairKey(c.a, c.b)));
          expect(history.length).toBe(maxPossiblePairs(n));
          expect(keys.size).toBe(maxPossiblePairs(n));
          expect(coverageRemaining(n, history)).toBe(0);
        },
      ),
      { numRuns: 80 },
    );
  });

  // Bound measured over n = 2..16 × 60 seeds × both strategies: |first − second| ≤ 3 for every
  // essay (≤ 2 when n is odd, where each essay has an even number of comparisons). Greedy
  // orientation cannot always reach 1: two essays both ahead by 2 must still meet.
  it('keeps each essay shown first and second about equally often over full coverage', () => {
    for (const strategy of ['random', 'adaptive'] as const) {
      for (let n = 2; n <= 14; n++) {
        for (let seed = 0; seed < 10; seed++) {
          // Prepare
          const fit = makeFit(n, seed);
          // Act
          const { history } = planUntilExhausted({ n, kind: 'coverage', strategy, seed, fit });
          // Assess
          const worst = Math.max(...shownFirstMinusSecond(n, history).map(Math.abs));
          expect(worst).toBeLessThanOrEqual(n % 2 === 1 ? 2 : 3);
        }
      }
    }
  });

  it('balances orientation against the existing history', () => {
    // Prepare: essay 0 has been shown first three times, essay 1 second three times
    const history = [
      makeComparison({ a: 0, b: 2 }),
      makeComparison({ a: 0, b: 3 }),
      makeComparison({ a: 0, b: 4 }),
      makeComparison({ a: 5, b: 1 }),
      makeComparison({ a: 6, b: 1 }),
      makeComparison({ a: 7, b: 1 }),
    ];
    // Act
    const wave = planWave(
      makePlanRequest({ n: 8, comparisons: history, busyEssays: new Set([2, 3, 4, 5, 6, 7]) }),
    );
    // Assess
    expect(orientationBalance(8, history)[0]).toBe(3);
    expect(wave).toEqual([{ a: 1, b: 0, kind: 'coverage' }]);
  });

  it('serves the least-compared essays first when maxPairs cuts the wave', () => {
    // Prepare: essays 0..3 have two comparisons each, 4 and 5 none
    const history = recordWave(
      [
        { a: 0, b: 1, kind: 'coverage' },
        { a: 2, b: 3, kind: 'coverage' },
        { a: 0, b: 2, kind: 'coverage' },
        { a: 1, b: 3, kind: 'coverage' },
      ],
      1,
    );
    // Act
    const wave = planWave(makePlanRequest({ n: 6, comparisons: history, maxPairs: 1 }));
    // Assess
    expect(wave).toHaveLength(1);
    expect(essaysOf(wave).filter((e) => e >= 4).length).toBeGreaterThan(0);
  });
});

describe('planWave: adaptive coverage', () => {
  it('pairs essays with closer scores than random pairing does', () => {
    // Prepare
    const n = 200;
    const fit = makeFit(n, 11, 2, 0.3);
    const { history } = planUntilExhausted({
      n,
      kind: 'coverage',
      strategy: 'random',
      seed: 3,
      maxWaves: 3,
    });
    const gap = (wave: PlannedPair[]) =>
      wave.reduce((sum, p) => sum + Math.abs((fit.scores[p.a] ?? 0) - (fit.scores[p.b] ?? 0)), 0) /
      wave.length;
    // Act
    const request = makePlanRequest({ n, comparisons: history, ...fit, maxPairs: n });
    const adaptive = planWave({ ...request, strategy: 'adaptive' });
    const random = planWave({ ...request, strategy: 'random' });
    // Assess
    expect(gap(adaptive)).toBeLessThan(gap(random) / 3);
  });

  it('plans random waves until the exploration threshold is reached', () => {
    // Prepare
    const n = 50;
    const fit = makeFit(n, 5);
    const config = makeConfig({ PAIRING_EXPLORATION_COMPARISONS_PER_ESSAY: 2 });
    const request = makePlanRequest({ n, ...fit, config, maxPairs: n });
    // Act
    const adaptiveFirst = planWave({ ...request, strategy: 'adaptive' });
    const randomFirst = planWave({ ...request, strategy: 'random' });
    // Assess
    expect(adaptiveFirst).toEqual(randomFirst);
  });

  it('leaves the least rank-uncertain essays out of a focused wave', () => {
    // Prepare: a dense middle and two far outliers with small SEs
    const n = 20;
    const scores = Float64Array.from({ length: n }, (_, i) =>
      i === 0 ? -8 : i === 1 ? 8 : (i - 10) * 0.05,
    );
    const se = Float64Array.from({ length: n }, () => 0.3);
    const order = Array.from({ length: n }, (_, i) => i);
    // Act
    const focused = focusParticipants(order, scores, se, 0.9);
    // Assess
    expect(focused).toHaveLength(18);
    expect(focused).not.toContain(0);
    expect(focused).not.toContain(1);
  });

  it('still plans coverage when only essays outside the focus have new partners', () => {
    // Prepare: every pair among 0..5 judged; 6 and 7 (far outliers) never met each other
    const n = 8;
    const history: ComparisonRecord[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        if (!(i === 6 && j === 7)) history.push(makeComparison({ a: i, b: j }));
      }
    }
    const scores = Float64Array.from([0, 0.1, 0.2, 0.3, 0.4, 0.5, -9, 9]);
    const se = Float64Array.from({ length: n }, () => 0.2);
    const config = makeConfig({ PAIRING_FOCUS_FRACTION: 0.5 });
    // Act
    const wave = planWave(
      makePlanRequest({ n, strategy: 'adaptive', comparisons: history, scores, se, config }),
    );
    // Assess
    expect(wave).toHaveLength(1);
    expect(pairKey(wave[0]?.a ?? -1, wave[0]?.b ?? -1)).toBe(pairKey(6, 7));
  });
});

describe('planWave: resample', () => {
  it('flips the last verdict and covers each judged pair exactly once per pass', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 9 }), fc.nat(1_000_000), (n, seed) => {
        // Prepare
        const { history } = planUntilExhausted({ n, kind: 'coverage', strategy: 'random', seed });
        const lastOrder = new Map(history.map((c) => [pairKey(c.a, c.b), [c.a, c.b]]));
        // Act
        const pass1 = planUntilExhausted({
          n,
          kind: 'resample',
          strategy: 'random',
          seed,
          history,
          resamplePass: 1,
        });
        const pass2 = planUntilExhausted({
          n,
          kind: 'resample',
          strategy: 'random',
          seed,
          history: pass1.history,
          resamplePass: 2,
        });
        // Assess
        const pass1Pairs = pass1.waves.flat();
        expect(pass1Pairs).toHaveLength(maxPossiblePairs(n));
        expect(new Set(pass1Pairs.map((p) => pairKey(p.a, p.b))).size).toBe(maxPossiblePairs(n));
        for (const p of pass1Pairs) {
          expect([p.b, p.a]).toEqual(lastOrder.get(pairKey(p.a, p.b)));
        }
        // The second pass flips again, back to the coverage order.
        for (const p of pass2.waves.flat()) {
          expect([p.a, p.b]).toEqual(lastOrder.get(pairKey(p.a, p.b)));
        }
        expect(pass2.waves.flat()).toHaveLength(maxPossiblePairs(n));
      }),
      { numRuns: 40 },
    );
  });

  it('skips pairs without a verdict or with a pending comparison, and re-tries failed resamples', () => {
    // Prepare
    const history = [
      makeComparison({ a: 0, b: 1 }),
      makeComparison({ a: 2, b: 3, status: 'FAILED' }),
      makeComparison({ a: 4, b: 5 }),
      makeComparison({ a: 5, b: 4, status: 'PENDING', kind: 'resample', resamplePass: 1 }),
      makeComparison({ a: 6, b: 7, iteration: 1 }),
      makeComparison({ a: 7, b: 6, status: 'FAILED', kind: 'resample', resamplePass: 1 }),
      makeComparison({ a: 8, b: 9 }),
      makeComparison({ a: 9, b: 8, kind: 'resample', resamplePass: 1, iteration: 2 }),
    ];
    // Act
    const wave = planWave(
      makePlanRequest({ n: 10, kind: 'resample', resamplePass: 1, comparisons: history }),
    );
    // Assess
    const planned = new Set(wave.map((p) => `${p.a}-${p.b}`));
    expect(planned).toEqual(new Set(['1-0', '7-6']));
  });
});

describe('planWave: retry', () => {
  it('plans only pairs with no success, nothing pending and attempts left', () => {
    // Prepare
    const config = makeConfig({ MAX_ATTEMPTS_PER_PAIR: 3 });
    const failed = (a: number, b: number) => makeComparison({ a, b, status: 'FAILED' });
    const history = [
      failed(0, 1), // eligible: one failed attempt
      failed(2, 3),
      failed(3, 2),
      failed(2, 3), // three failed attempts: none left
      failed(4, 5),
      makeComparison({ a: 5, b: 4, status: 'PENDING', kind: 'retry' }), // in flight
      failed(6, 7),
      makeComparison({ a: 7, b: 6 }), // succeeded later
      makeComparison({ a: 8, b: 9 }), // succeeded
    ];
    // Act
    const wave = planWave(makePlanRequest({ n: 10, kind: 'retry', comparisons: history, config }));
    // Assess
    expect(wave).toHaveLength(1);
    expect(pairKey(wave[0]?.a ?? -1, wave[0]?.b ?? -1)).toBe(pairKey(0, 1));
    expect(wave[0]?.kind).toBe('retry');
  });

  it('plans nothing when no pair failed', () => {
    // Prepare
    const { history } = planUntilExhausted({ n: 6, kind: 'coverage', strategy: 'random', seed: 2 });
    // Act
    const retry = planWave(makePlanRequest({ n: 6, kind: 'retry', comparisons: history }));
    const coverage = planWave(makePlanRequest({ n: 6, comparisons: history }));
    // Assess
    expect(retry).toEqual([]);
    expect(coverage).toEqual([]);
  });
});
