/**
 * Paired comparisons of two simulation arms run on the same seeds: the median of the per-seed
 * differences and a distribution-free 95 % interval for it (sign test), so a gap between two arms
 * can be told from seed noise.
 */

/**
 * Rank k of the distribution-free 95 % interval of a median from `count` values: the k-th smallest
 * and k-th largest bound it (sign test: the largest k with P(Binomial(count, ½) < k) ≤ 0.025);
 * 0 when `count` is too small for such an interval (fewer than 6 values).
 */
export function medianIntervalRank(count: number): number {
  let k = 0;
  let below = 0; // P(Binomial(count, ½) <= k − 1)
  // log P(Binomial(count, ½) = k): ½^count underflows to 0 beyond about 1,074 values, and a zero
  // term would stay zero, putting the interval at the extremes.
  let logTerm = count * Math.log(0.5);
  while (k < count && below + Math.exp(logTerm) <= 0.025) {
    below += Math.exp(logTerm);
    logTerm += Math.log((count - k) / (k + 1));
    k++;
  }
  return k;
}

export interface PairedSummary {
  /** Median of the differences; null without any pair. */
  median: number | null;
  /** Distribution-free 95 % interval of that median; null with fewer than 6 pairs. */
  ci95: [number, number] | null;
  /** Share of pairs whose difference is negative (the arm below the reference). */
  shareBelow: number;
  /** Mean of the differences and its standard error; null without any pair (SE: fewer than 2). */
  mean: number | null;
  se: number | null;
  pairs: number;
}

/** Summary of `arm[i] − reference[i]` over the indices where both are numbers. */
export function pairedSummary(
  arm: readonly (number | null)[],
  reference: readonly (number | null)[],
): PairedSummary {
  const differences: number[] = [];
  arm.forEach((a, i) => {
    const b = reference[i];
    if (typeof a === 'number' && typeof b === 'number') differences.push(a - b);
  });
  const sorted = differences.sort((x, y) => x - y);
  const count = sorted.length;
  const mid = count >> 1;
  const median =
    count === 0
      ? null
      : count % 2 === 1
        ? (sorted[mid] as number)
        : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  const k = medianIntervalRank(count);
  const mean = count === 0 ? null : sorted.reduce((sum, d) => sum + d, 0) / count;
  const variance =
    mean === null || count < 2
      ? null
      : sorted.reduce((sum, d) => sum + (d - mean) ** 2, 0) / (count - 1);
  return {
    median,
    ci95: k === 0 ? null : [sorted[k - 1] as number, sorted[count - k] as number],
    shareBelow: count === 0 ? 0 : sorted.filter((d) => d < 0).length / count,
    mean,
    se: variance === null ? null : Math.sqrt(variance / count),
    pairs: count,
  };
}
