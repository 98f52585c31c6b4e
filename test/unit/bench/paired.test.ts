import { describe, expect, it } from 'vitest';
import { medianIntervalRank, pairedSummary } from '#bench/support/paired.ts';

/** P(Binomial(count, ½) <= k), summed term by term. */
function binomialCdf(count: number, k: number): number {
  let total = 0;
  let term = 0.5 ** count;
  for (let j = 0; j <= k; j++) {
    total += term;
    term = (term * (count - j)) / (j + 1);
  }
  return total;
}

describe('medianIntervalRank', () => {
  it('matches the sign-test table (n = 6, 8, 16, 24, 32: ranks 1, 1, 4, 7, 10) and has none below 6', () => {
    // Prepare
    const counts = [5, 6, 8, 16, 24, 32];
    // Act
    const ranks = counts.map(medianIntervalRank);
    // Assess
    expect(ranks).toEqual([0, 1, 1, 4, 7, 10]);
  });

  it('is the largest rank whose lower tail stays within 2.5 %', () => {
    for (let count = 6; count <= 120; count++) {
      // Act
      const k = medianIntervalRank(count);
      // Assess
      expect(binomialCdf(count, k - 1)).toBeLessThanOrEqual(0.025);
      expect(binomialCdf(count, k)).toBeGreaterThan(0.025);
    }
  });

  it('stays near the normal approximation for thousands of values (where ½^count underflows)', () => {
    // Prepare: the interval's rank is about count/2 − 1.96·√count/2
    const counts = [2000, 5000];
    // Act
    const ranks = counts.map(medianIntervalRank);
    // Assess
    ranks.forEach((k, i) => {
      const count = counts[i] as number;
      const approximate = count / 2 - (1.96 * Math.sqrt(count)) / 2;
      expect(Math.abs(k - approximate)).toBeLessThan(2);
    });
  });
});

describe('pairedSummary', () => {
  it('pairs by index, skips missing values, and bounds the median by order statistics', () => {
    // Prepare: differences 1..8 (one pair dropped for a null), so 8 pairs, rank 1.
    const reference = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    const arm = [3, 1, 8, null, 2, 7, 4, 6, 5];
    // Act
    const summary = pairedSummary(arm, reference);
    // Assess
    expect(summary.pairs).toBe(8);
    expect(summary.median).toBe(4.5);
    expect(summary.ci95).toEqual([1, 8]);
    expect(summary.shareBelow).toBe(0);
  });

  it('counts the arm below the reference, and has no interval with too few pairs', () => {
    // Prepare
    const reference = [0.9, 0.8, 0.7];
    const arm = [0.8, 0.8, 0.9];
    // Act
    const summary = pairedSummary(arm, reference);
    // Assess
    expect(summary.median).toBeCloseTo(0, 12);
    expect(summary.ci95).toBeNull();
    expect(summary.shareBelow).toBeCloseTo(1 / 3, 12);
    expect(pairedSummary([], []).median).toBeNull();
  });

  it('gives the mean difference and its standard error (sample SD / √pairs)', () => {
    // Prepare: differences 1, 2, 3, 6 (mean 3, sample variance 14/3)
    const reference = [1, 1, 1, 1, 5];
    const arm = [2, 3, 4, 7, null];
    // Act
    const summary = pairedSummary(arm, reference);
    // Assess
    expect(summary.mean).toBeCloseTo(3, 12);
    expect(summary.se).toBeCloseTo(Math.sqrt(14 / 3 / 4), 12);
    expect(pairedSummary([0.5], [0.25])).toMatchObject({ mean: 0.25, se: null });
    expect(pairedSummary([], [])).toMatchObject({ mean: null, se: null });
  });
});
