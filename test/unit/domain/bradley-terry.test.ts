import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildPairGraph, fitBradleyTerry, winProbability } from '#domain/bradley-terry.ts';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import {
  btDataFromPairs,
  numericHessianSe,
  randomBtData,
  referenceFit,
  referenceLogPosterior,
} from '#test/helpers/reference-bt.ts';

function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] as number;
  return s;
}

function relativeErrors(approx: Float64Array, exact: Float64Array): number[] {
  return Array.from(exact, (e, i) => Math.abs((approx[i] as number) / e - 1)).sort((a, b) => a - b);
}

describe('fitBradleyTerry', () => {
  it('equals the dense reference MAP to 1e-6 on small random cases', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom(0.01, 0.1, 1),
        (n, m, seed, alpha) => {
          // Prepare
          const { data } = randomBtData(n, m, seed);
          const expected = referenceFit(data, alpha);

          // Act
          const fit = fitBradleyTerry(data, { alpha, standardErrors: 'none' });

          // Assess
          expect(fit.converged).toBe(true);
          for (let i = 0; i < n; i++) expect(fit.scores[i]).toBeCloseTo(expected[i] as number, 6);
          expect(fit.logPosterior).toBeCloseTo(referenceLogPosterior(data, alpha, expected), 8);
        },
      ),
      { numRuns: 60, seed: 20261127 },
    );
  });

  it('recovers ln(w/l) for two items with w wins and l losses under a tiny prior', () => {
    // Prepare
    const pairs: [number, number][] = [
      ...Array.from({ length: 7 }, () => [0, 1] as [number, number]),
      ...Array.from({ length: 3 }, () => [1, 0] as [number, number]),
    ];
    const data = btDataFromPairs(2, pairs);

    // Act
    const fit = fitBradleyTerry(data, { alpha: 1e-9, standardErrors: 'exact' });

    // Assess
    expect((fit.scores[0] as number) - (fit.scores[1] as number)).toBeCloseTo(Math.log(7 / 3), 6);
    expect(fit.scores[0]).toBeCloseTo(-(fit.scores[1] as number), 12);
    // Var(θ1 − θ2) = 1/(m p (1−p)); each centred score carries a quarter of it.
    const expectedSe = Math.sqrt(1 / (10 * 0.7 * 0.3)) / 2;
    expect(fit.se?.[0]).toBeCloseTo(expectedSe, 5);
  });

  it('keeps scores finite, ordered and centred on perfectly separated data', () => {
    // Prepare: a strict chain 0 > 1 > 2 > 3, every verdict agreeing with it.
    const data = btDataFromPairs(4, [
      [0, 1],
      [1, 2],
      [2, 3],
      [0, 2],
      [0, 3],
      [1, 3],
    ]);

    // Act
    const fit = fitBradleyTerry(data);

    // Assess
    expect(fit.converged).toBe(true);
    expect(Array.from(fit.scores).every(Number.isFinite)).toBe(true);
    expect(fit.scores[0]).toBeGreaterThan(fit.scores[1] as number);
    expect(fit.scores[1]).toBeGreaterThan(fit.scores[2] as number);
    expect(fit.scores[2]).toBeGreaterThan(fit.scores[3] as number);
    expect(Math.abs(sum(fit.scores))).toBeLessThan(1e-10);
    expect(Array.from(fit.se ?? []).every(Number.isFinite)).toBe(true);
  });

  it('keeps scores finite on disconnected data and leaves an isolated item at 0', () => {
    // Prepare: components {0,1} and {2,3}, item 4 never compared.
    const data = btDataFromPairs(5, [
      [0, 1],
      [0, 1],
      [1, 0],
      [2, 3],
      [2, 3],
    ]);
    const expected = referenceFit(data, DEFAULT_CONFIG.BT_PRIOR_ALPHA);

    // Act
    const fit = fitBradleyTerry(data, { standardErrors: 'exact' });

    // Assess
    expect(fit.converged).toBe(true);
    for (let i = 0; i < 5; i++) expect(fit.scores[i]).toBeCloseTo(expected[i] as number, 6);
    expect(fit.scores[4]).toBeCloseTo(0, 9);
    expect(Array.from(fit.se ?? []).every((s) => Number.isFinite(s) && s > 0)).toBe(true);
    // The isolated item's uncertainty is the prior's: the largest SE.
    expect(Math.max(...(fit.se ?? []))).toBe(fit.se?.[4]);
  });

  it('gives exact SEs equal to a numeric Hessian of the negative log-posterior', () => {
    for (const seed of [1, 2, 3]) {
      // Prepare
      const alpha = 0.05;
      const { data } = randomBtData(6, 30, seed);
      const theta = referenceFit(data, alpha);
      const expected = numericHessianSe(data, alpha, theta);

      // Act
      const fit = fitBradleyTerry(data, { alpha, standardErrors: 'exact' });

      // Assess
      expect(fit.seMethod).toBe('exact');
      for (let i = 0; i < 6; i++) {
        expect(Math.abs((fit.se?.[i] as number) / (expected[i] as number) - 1)).toBeLessThan(1e-4);
      }
    }
  });

  it('gives approximate SEs within the documented error of the exact ones at n = 300', () => {
    // Prepare
    const { data } = randomBtData(300, 3000, 42);
    const exact = fitBradleyTerry(data, { standardErrors: 'exact' });

    // Act
    const approx = fitBradleyTerry(data, { standardErrors: 'approx' });

    // Assess: documented for BT_APPROX_SE_PROBES (median ≤ 1 %, max ≤ 5 % relative).
    expect(approx.seMethod).toBe('approx');
    const errors = relativeErrors(approx.se as Float64Array, exact.se as Float64Array);
    expect(errors[errors.length >> 1]).toBeLessThan(0.01);
    expect(errors[errors.length - 1]).toBeLessThan(0.05);
    expect(Array.from(approx.scores)).toEqual(Array.from(exact.scores));
  });

  it('keeps approximate SEs within the documented error on sparse, disconnected data', () => {
    // Prepare: about 2 comparisons per essay, so the graph is tree-like with small components.
    const { data } = randomBtData(300, 300, 8);
    const exact = fitBradleyTerry(data, { standardErrors: 'exact' });

    // Act
    const approx = fitBradleyTerry(data, { standardErrors: 'approx' });

    // Assess: documented for BT_APPROX_SE_TARGET_ERROR (median ≤ 1 %, max ≤ 10 % on such data).
    const errors = relativeErrors(approx.se as Float64Array, exact.se as Float64Array);
    expect(errors[errors.length >> 1]).toBeLessThan(0.01);
    expect(errors[errors.length - 1]).toBeLessThan(0.1);
  }, 30_000); // exact SEs at n = 300: seconds on a loaded 2-core machine

  it('gives the same approximate SEs for the same seed and different ones for another', () => {
    // Prepare
    const { data } = randomBtData(120, 1200, 5);

    // Act
    const a = fitBradleyTerry(data, { standardErrors: 'approx', seSeed: 9 });
    const b = fitBradleyTerry(data, { standardErrors: 'approx', seSeed: 9 });
    const c = fitBradleyTerry(data, { standardErrors: 'approx', seSeed: 10 });

    // Assess
    expect(Array.from(a.se ?? [])).toEqual(Array.from(b.se ?? []));
    expect(Array.from(a.se ?? [])).not.toEqual(Array.from(c.se ?? []));
  });

  it('chooses exact SEs up to BT_EXACT_SE_MAX_N and none when asked', () => {
    // Prepare
    const { data } = randomBtData(20, 100, 3);

    // Act
    const auto = fitBradleyTerry(data);
    const none = fitBradleyTerry(data, { standardErrors: 'none' });

    // Assess
    expect(20).toBeLessThanOrEqual(DEFAULT_CONFIG.BT_EXACT_SE_MAX_N);
    expect(auto.seMethod).toBe('exact');
    expect(none.seMethod).toBe('none');
    expect(none.se).toBeNull();
  });

  it('reaches the same optimum from a warm start in fewer iterations', () => {
    // Prepare
    const { data, truth } = randomBtData(200, 2000, 11);
    const cold = fitBradleyTerry(data, { standardErrors: 'none' });

    // Act
    const warm = fitBradleyTerry(data, { standardErrors: 'none', initial: cold.scores });
    const fromTruth = fitBradleyTerry(data, { standardErrors: 'none', initial: truth });

    // Assess
    expect(warm.iterations).toBeLessThan(cold.iterations);
    for (let i = 0; i < 200; i++) {
      expect(warm.scores[i]).toBeCloseTo(cold.scores[i] as number, 7);
      expect(fromTruth.scores[i]).toBeCloseTo(cold.scores[i] as number, 7);
    }
  });

  it('handles no items and no comparisons', () => {
    // Act
    const empty = fitBradleyTerry({ n: 0, winners: new Int32Array(0), losers: new Int32Array(0) });
    const unjudged = fitBradleyTerry({
      n: 3,
      winners: new Int32Array(0),
      losers: new Int32Array(0),
    });

    // Assess
    expect(empty.scores.length).toBe(0);
    expect(Array.from(unjudged.scores)).toEqual([0, 0, 0]);
    expect(unjudged.converged).toBe(true);
    expect(Array.from(unjudged.se ?? []).every((s) => s > 0)).toBe(true);
  });

  it('rejects malformed data and options with a message naming the problem', () => {
    // Prepare
    const good = btDataFromPairs(3, [[0, 1]]);

    // Act / Assess
    expect(() => fitBradleyTerry(btDataFromPairs(3, [[0, 3]]))).toThrow(/outside 0\.\.2/);
    expect(() => fitBradleyTerry(btDataFromPairs(3, [[1, 1]]))).toThrow(/itself/);
    expect(() =>
      fitBradleyTerry({ n: 3, winners: new Int32Array(2), losers: new Int32Array(1) }),
    ).toThrow(/differ in length/);
    expect(() => fitBradleyTerry({ ...good, n: -1 })).toThrow(/non-negative integer/);
    expect(() => fitBradleyTerry(good, { alpha: 0 })).toThrow(/alpha/);
    expect(() => fitBradleyTerry(good, { initial: new Float64Array(2) })).toThrow(/initial/);
    expect(() => fitBradleyTerry(good, { seProbes: 0 })).toThrow(/seProbes/);
  });
});

describe('buildPairGraph', () => {
  it('stores each distinct pair once, under its lower index, with counts and wins', () => {
    // Prepare
    const data = btDataFromPairs(4, [
      [0, 1],
      [1, 0],
      [0, 1],
      [2, 0],
      [3, 1],
    ]);

    // Act
    const graph = buildPairGraph(data);

    // Assess: [row, neighbour, comparisons, wins of row over neighbour]
    const entries = Array.from({ length: 4 }, (_, i) =>
      Array.from(
        { length: (graph.rowStart[i + 1] as number) - (graph.rowStart[i] as number) },
        (_, k) => {
          const e = (graph.rowStart[i] as number) + k;
          return [i, graph.col[e], graph.count[e], graph.wins[e]];
        },
      ),
    ).flat();
    expect(entries).toEqual([
      [0, 1, 3, 2],
      [0, 2, 1, 0],
      [1, 3, 1, 0],
    ]);
    expect(Array.from(graph.totalWins)).toEqual([2, 1, 1, 1]);
    expect(Array.from(graph.degree)).toEqual([4, 4, 1, 1]);
  });
});

describe('winProbability', () => {
  it('is ½ for equal scores, complementary, and finite at extremes', () => {
    // Act / Assess
    expect(winProbability(0.3, 0.3)).toBe(0.5);
    expect(winProbability(1, 0) + winProbability(0, 1)).toBeCloseTo(1, 15);
    expect(winProbability(Math.log(3), 0)).toBeCloseTo(0.75, 15);
    expect(winProbability(-1000, 1000)).toBe(0);
    expect(winProbability(1000, -1000)).toBe(1);
  });
});
