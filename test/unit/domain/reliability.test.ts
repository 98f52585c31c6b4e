import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitBradleyTerry } from '#domain/bradley-terry.ts';
import { seededRandom } from '#domain/random.ts';
import {
  averageRanks,
  conventionalFit,
  conventionalSsr,
  kendallTau,
  pearson,
  scaleSeparationReliability,
  spearman,
  spearmanBrown,
  splitHalfReliability,
} from '#domain/reliability.ts';
import { btDataFromPairs, randomBtData } from '#test/helpers/reference-bt.ts';

/** Tau-b by the O(n²) definition, for checking the O(n log n) version. */
function bruteKendall(x: number[], y: number[]): number {
  let concordant = 0;
  let discordant = 0;
  let tiedXOnly = 0;
  let tiedYOnly = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const s = Math.sign(x[i]! - x[j]!) * Math.sign(y[i]! - y[j]!);
      if (s > 0) concordant++;
      else if (s < 0) discordant++;
      else if (x[i] === x[j] && y[i] !== y[j]) tiedXOnly++;
      else if (y[i] === y[j] && x[i] !== x[j]) tiedYOnly++;
    }
  }
  const denominator = Math.sqrt(
    (concordant + discordant + tiedXOnly) * (concordant + discordant + tiedYOnly),
  );
  return denominator === 0 ? 0 : (concordant - discordant) / denominator;
}

describe('scaleSeparationReliability', () => {
  it('matches a hand calculation', () => {
    // Prepare: sample variance of [-1, 0, 1] is 1; mean SE² is 0.25.
    const scores = [-1, 0, 1];
    const se = [0.5, 0.5, 0.5];

    // Act
    const ssr = scaleSeparationReliability(scores, se);

    // Assess
    expect(ssr).toBeCloseTo(0.75, 12);
  });

  it('is 0 for zero score variance, negative when SEs exceed the spread', () => {
    // Act / Assess
    expect(scaleSeparationReliability([2, 2, 2], [0.1, 0.1, 0.1])).toBe(0);
    expect(scaleSeparationReliability([1], [0.1])).toBe(0);
    expect(scaleSeparationReliability([-1, 0, 1], [2, 2, 2])).toBeCloseTo(-3, 12);
  });

  it('rejects mismatched lengths', () => {
    expect(() => scaleSeparationReliability([1, 2], [1])).toThrow(/differ in length/);
  });
});

describe('pearson', () => {
  it('is 1 for a positive linear relation, −1 for a negative one, 0 for constant input', () => {
    // Act / Assess
    expect(pearson([1, 2, 3, 4], [3, 5, 7, 9])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(pearson([1, 2, 3], [5, 5, 5])).toBe(0);
  });

  it('matches a hand calculation', () => {
    // Prepare: dx = [-1, 0, 1], dy = [-1, 1, 0] ⇒ r = 1 / 2.
    // Act
    const r = pearson([1, 2, 3], [1, 3, 2]);

    // Assess
    expect(r).toBeCloseTo(0.5, 12);
  });

  it('rejects non-finite values', () => {
    expect(() => pearson([1, Number.NaN], [1, 2])).toThrow(/non-finite/);
  });
});

describe('spearman', () => {
  it('uses average ranks for ties', () => {
    // Prepare: ranks x = [1, 2.5, 2.5, 4], y = [1, 3, 2, 4] ⇒ r = 4.5 / √(4.5·5).
    const x = [10, 20, 20, 30];
    const y = [1, 3, 2, 4];

    // Act
    const rho = spearman(x, y);

    // Assess
    expect(Array.from(averageRanks(x))).toEqual([1, 2.5, 2.5, 4]);
    expect(rho).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
  });

  it('is invariant to monotone transforms', () => {
    // Act / Assess
    expect(spearman([1, 2, 3, 4], [1, 8, 27, 64])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [-1, -8, -27, -64])).toBeCloseTo(-1, 12);
  });
});

describe('kendallTau', () => {
  it('computes tau-b with ties by hand', () => {
    // Prepare: 5 concordant pairs, 0 discordant, one pair tied in x ⇒ 5 / √(5·6).
    // Act
    const tau = kendallTau([1, 2, 2, 3], [1, 3, 2, 4]);

    // Assess
    expect(tau).toBeCloseTo(5 / Math.sqrt(30), 12);
  });

  it('is ±1 for identical or reversed orders and 0 for constant input', () => {
    expect(kendallTau([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])).toBeCloseTo(1, 12);
    expect(kendallTau([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(kendallTau([1, 1, 1], [1, 2, 3])).toBe(0);
  });

  it('equals the O(n²) definition on random data with ties', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })), {
          minLength: 2,
          maxLength: 60,
        }),
        (pairs) => {
          // Prepare
          const x = pairs.map(([a]) => a);
          const y = pairs.map(([, b]) => b);

          // Act
          const tau = kendallTau(x, y);

          // Assess
          expect(tau).toBeCloseTo(bruteKendall(x, y), 12);
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });

  it('handles n = 10,000 (merge-sort method)', () => {
    // Prepare
    const rng = seededRandom(3);
    const x = Array.from({ length: 10_000 }, () => rng());
    const y = x.map((v) => v + 0.1 * rng());

    // Act
    const tau = kendallTau(x, y);

    // Assess
    expect(tau).toBeGreaterThan(0.8);
    expect(tau).toBeLessThan(1);
  });
});

describe('spearmanBrown', () => {
  it('doubles the test length and stays within [−1, 1]', () => {
    expect(spearmanBrown(0.5)).toBeCloseTo(2 / 3, 12);
    expect(spearmanBrown(0)).toBe(0);
    expect(spearmanBrown(1)).toBe(1);
    expect(spearmanBrown(-0.9)).toBe(-1);
  });
});

describe('splitHalfReliability', () => {
  it('is deterministic given a seed', () => {
    // Prepare
    const { data } = randomBtData(60, 600, 1, 2);

    // Act
    const a = splitHalfReliability(data, { seed: 4, splits: 5 });
    const b = splitHalfReliability(data, { seed: 4, splits: 5 });
    const c = splitHalfReliability(data, { seed: 5, splits: 5 });

    // Assess
    expect(a).toEqual(b);
    expect(c.median).not.toBe(a.median);
    expect(a.splits).toBe(5);
  });

  it('is high for strongly informative data', () => {
    // Prepare: true SD 3 logits, 40 comparisons per item.
    const { data, truth } = randomBtData(50, 1000, 2, 3);

    // Act
    const result = splitHalfReliability(data, { seed: 1, splits: 9 });

    // Assess
    expect(result.median).toBeGreaterThan(0.85);
    expect(result.spearmanBrown).toBeCloseTo(spearmanBrown(result.median), 12);
    expect(result.spearmanBrown).toBeGreaterThan(result.median);
    const full = fitBradleyTerry(data, { standardErrors: 'none' });
    expect(pearson(full.scores, truth)).toBeGreaterThan(0.9);
  });

  it('is near 0 for pure noise', () => {
    // Prepare: every item equally good, so verdicts are coin flips.
    const { data } = randomBtData(80, 800, 3, 0);

    // Act
    const result = splitHalfReliability(data, { seed: 1, splits: 9 });

    // Assess
    expect(Math.abs(result.median)).toBeLessThan(0.15);
  });

  it('reports no splits when there is too little data, and rejects a bad split count', () => {
    // Prepare
    const { data } = randomBtData(5, 1, 4);

    // Act / Assess
    expect(splitHalfReliability(data, { seed: 1 })).toEqual({
      median: 0,
      spearmanBrown: 0,
      splits: 0,
    });
    expect(() => splitHalfReliability(data, { seed: 1, splits: 0 })).toThrow(/splits/);
  });
});

/**
 * An independent, plain transcription of the conventional estimator (decision by decision, no
 * pair aggregation): adjusted wins ε + (N − 2ε)·w/N, capped per-item Newton steps 0.98^t,
 * re-centring, stop at max change 1e-4 or 400 iterations; SE 1/√information.
 */
function referenceConventional(n: number, winners: Int32Array, losers: Int32Array) {
  const wins = new Array<number>(n).fill(0);
  const total = new Array<number>(n).fill(0);
  for (let k = 0; k < winners.length; k++) {
    wins[winners[k] as number] = (wins[winners[k] as number] as number) + 1;
    total[winners[k] as number] = (total[winners[k] as number] as number) + 1;
    total[losers[k] as number] = (total[losers[k] as number] as number) + 1;
  }
  const target = wins.map(
    (w, i) => 0.3 + (((total[i] as number) - 0.6) * w) / (total[i] as number),
  );
  let theta = target.map(
    (t, i) => 0.8 * Math.log(t / (total[i] as number) / (1 - t / (total[i] as number))),
  );
  const centre = (x: number[]) => {
    const m = x.reduce((s, v) => s + v, 0) / x.length;
    return x.map((v) => v - m);
  };
  theta = centre(theta);
  let cap = 1;
  let se: number[] = [];
  for (let it = 0; it < 400; it++) {
    const expected = new Array<number>(n).fill(0);
    const info = new Array<number>(n).fill(1e-20);
    for (let k = 0; k < winners.length; k++) {
      const w = winners[k] as number;
      const l = losers[k] as number;
      const p = 1 / (1 + Math.exp(-((theta[w] as number) - (theta[l] as number))));
      expected[w] = (expected[w] as number) + p;
      expected[l] = (expected[l] as number) + 1 - p;
      info[w] = (info[w] as number) + p * (1 - p);
      info[l] = (info[l] as number) + p * (1 - p);
    }
    cap *= 0.98;
    const previous = theta;
    theta = centre(
      theta.map((t, i) => {
        const step = ((target[i] as number) - (expected[i] as number)) / (info[i] as number);
        return t + Math.max(-cap, Math.min(cap, step));
      }),
    );
    se = info.map((v) => 1 / Math.sqrt(v));
    if (Math.max(...theta.map((t, i) => Math.abs(t - (previous[i] as number)))) <= 1e-4) break;
  }
  return { theta, se };
}

describe('conventionalFit and conventionalSsr', () => {
  it('match an independent transcription of the estimator', () => {
    // Prepare: 30 items, 300 random comparisons, some repeated pairs.
    const { data } = randomBtData(30, 300, 12, 1.5);
    const reference = referenceConventional(30, data.winners, data.losers);
    // Act
    const fit = conventionalFit(data);
    // Assess
    fit.scores.forEach((score, i) => {
      expect(score).toBeCloseTo(reference.theta[i] as number, 9);
      expect(fit.se[i]).toBeCloseTo(reference.se[i] as number, 9);
    });
    expect(conventionalSsr(data)).toBeCloseTo(
      scaleSeparationReliability(reference.theta, reference.se),
      9,
    );
  });

  it('keeps all-win and all-loss items finite (the ε adjustment)', () => {
    // Prepare: item 0 wins all, item 3 loses all.
    const data = btDataFromPairs(4, [
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 2],
      [2, 1],
      [1, 3],
      [2, 3],
    ]);
    // Act
    const fit = conventionalFit(data);
    // Assess
    expect(fit.converged).toBe(true);
    expect(fit.scores[0]).toBeGreaterThan(fit.scores[1] as number);
    expect(Number.isFinite(fit.scores[0])).toBe(true);
    expect(fit.scores[3]).toBeLessThan(fit.scores[2] as number);
  });

  it('leaves items without comparisons at 0 and out of SSR', () => {
    // Prepare: items 0-2 compared, item 3 never.
    const data = btDataFromPairs(4, [
      [0, 1],
      [1, 2],
      [2, 0],
      [0, 2],
    ]);
    const compared = btDataFromPairs(3, [
      [0, 1],
      [1, 2],
      [2, 0],
      [0, 2],
    ]);
    // Act / Assess
    expect(conventionalFit(data).scores[3]).toBe(0);
    expect(conventionalFit(data).se[3]).toBe(0);
    expect(conventionalSsr(data)).toBeCloseTo(conventionalSsr(compared), 12);
  });
});
