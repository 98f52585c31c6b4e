/**
 * Reliability and agreement statistics for comparative-judgement scores.
 *
 * Conventions (shared by every function here):
 *  - Inputs must have equal lengths and finite values, else RangeError.
 *  - Where a statistic is undefined (fewer than two items, or an input with zero variance) it is
 *    reported as 0: "no measurable association / separation" rather than NaN, so medians over
 *    simulation runs stay defined.
 */
import { type BtData, buildPairGraph, fitBradleyTerry, winProbability } from './bradley-terry.ts';
import { DEFAULT_CONFIG } from './config.ts';
import { hashSeed, seededRandom, shuffleInPlace } from './random.ts';

function checkPair(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) {
    throw new RangeError(`inputs differ in length (${x.length} vs ${y.length})`);
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) {
      throw new RangeError(`non-finite value at index ${i}`);
    }
  }
  return x.length;
}

/**
 * Scale separation reliability: SSR = (var(θ̂) − mean(SE²)) / var(θ̂), the share of the observed
 * score variance that is not measurement error. var(θ̂) is the sample variance (divisor n − 1).
 * Not clamped: a negative value means the SEs exceed the spread of the scores. Returns 0 when
 * var(θ̂) is 0 or there are fewer than two scores.
 */
export function scaleSeparationReliability(
  scores: ArrayLike<number>,
  se: ArrayLike<number>,
): number {
  const n = checkPair(scores, se);
  if (n < 2) return 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += scores[i] as number;
  mean /= n;
  let ss = 0;
  let se2 = 0;
  for (let i = 0; i < n; i++) {
    const d = (scores[i] as number) - mean;
    ss += d * d;
    se2 += (se[i] as number) ** 2;
  }
  const variance = ss / (n - 1);
  if (variance === 0) return 0;
  return (variance - se2 / n) / variance;
}

/** Pearson correlation; 0 when undefined (see module conventions). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = checkPair(x, y);
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] as number;
    my += y[i] as number;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return 0;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/** Ranks 1..n, ties get the average of the ranks they span. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => (values[a] as number) - (values[b] as number));
  const ranks = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    const v = values[order[start] as number] as number;
    while (end < n && values[order[end] as number] === v) end++;
    const rank = (start + end + 1) / 2; // mean of 1-based ranks start+1..end
    for (let k = start; k < end; k++) ranks[order[k] as number] = rank;
    start = end;
  }
  return ranks;
}

/** Spearman's rank correlation: Pearson on average ranks (ties handled). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair(x, y);
  return pearson(averageRanks(x), averageRanks(y));
}

/**
 * Kendall's tau-b in O(n log n) (Knight 1966): sort by (x, y), count tied pairs, then count
 * discordant pairs as the inversions of y found by a merge sort.
 */
export function kendallTau(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = checkPair(x, y);
  if (n < 2) return 0;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => (x[a] as number) - (x[b] as number) || (y[a] as number) - (y[b] as number));
  const totalPairs = (n * (n - 1)) / 2;
  let tiedX = 0;
  let tiedXY = 0;
  let runX = 1;
  let runXY = 1;
  for (let k = 1; k < n; k++) {
    const a = order[k - 1] as number;
    const b = order[k] as number;
    if (x[a] === x[b]) {
      runX++;
      if (y[a] === y[b]) runXY++;
      else {
        tiedXY += (runXY * (runXY - 1)) / 2;
        runXY = 1;
      }
    } else {
      tiedX += (runX * (runX - 1)) / 2;
      tiedXY += (runXY * (runXY - 1)) / 2;
      runX = 1;
      runXY = 1;
    }
  }
  tiedX += (runX * (runX - 1)) / 2;
  tiedXY += (runXY * (runXY - 1)) / 2;

  const ys = new Float64Array(n);
  for (let k = 0; k < n; k++) ys[k] = y[order[k] as number] as number;
  const swaps = mergeSortCountInversions(ys, new Float64Array(n), 0, n);

  let tiedY = 0;
  let runY = 1;
  for (let k = 1; k < n; k++) {
    if (ys[k] === ys[k - 1]) runY++;
    else {
      tiedY += (runY * (runY - 1)) / 2;
      runY = 1;
    }
  }
  tiedY += (runY * (runY - 1)) / 2;

  const denominator = Math.sqrt((totalPairs - tiedX) * (totalPairs - tiedY));
  if (denominator === 0) return 0;
  const tau = (totalPairs - tiedX - tiedY + tiedXY - 2 * swaps) / denominator;
  return Math.max(-1, Math.min(1, tau));
}

/** Sorts a[lo, hi) ascending and returns the number of strict inversions (pairs i<j, a_i > a_j). */
function mergeSortCountInversions(
  a: Float64Array,
  buffer: Float64Array,
  lo: number,
  hi: number,
): number {
  if (hi - lo < 2) return 0;
  const mid = (lo + hi) >>> 1;
  let swaps = mergeSortCountInversions(a, buffer, lo, mid);
  swaps += mergeSortCountInversions(a, buffer, mid, hi);
  let i = lo;
  let j = mid;
  let k = lo;
  while (i < mid && j < hi) {
    if ((a[j] as number) < (a[i] as number)) {
      buffer[k++] = a[j++] as number;
      swaps += mid - i;
    } else {
      buffer[k++] = a[i++] as number;
    }
  }
  while (i < mid) buffer[k++] = a[i++] as number;
  while (j < hi) buffer[k++] = a[j++] as number;
  for (let t = lo; t < hi; t++) a[t] = buffer[t] as number;
  return swaps;
}

export interface SplitHalfResult {
  /** Median over splits of the Pearson correlation between the two half-data score vectors. */
  median: number;
  /** Spearman–Brown correction of the median to full length: 2r / (1 + r), within [−1, 1]. */
  spearmanBrown: number;
  /** Splits actually evaluated (0 when there are fewer than two comparisons). */
  splits: number;
}

/** Spearman–Brown prophecy for doubling the test length, kept within [−1, 1]. */
export function spearmanBrown(r: number): number {
  if (r <= -1) return -1;
  return Math.max(-1, (2 * r) / (1 + r));
}

/**
 * Split-half reliability: the comparisons are shuffled (seeded) and cut into two halves, each
 * half is fitted on its own, and the two score vectors are correlated (Pearson); the median over
 * `splits` halvings is reported together with its Spearman–Brown correction. Honest under
 * adaptive pairing because it only looks at how well independent halves of the data agree.
 *
 * With `groups` (a group index 0..G−1 per comparison, e.g. its judge) the halves are random
 * halves of the groups instead: ⌊G/2⌋ groups and all their comparisons on one side, the rest on
 * the other (the judge-split of Kinnear, Jones & Davies 2025). Judges rarely see every item, so
 * each correlation then runs over the items compared in both halves only (an item absent from a
 * half has only the prior behind its score there). Fewer than two groups: no split (splits 0).
 */
export function splitHalfReliability(
  data: BtData,
  options: {
    splits?: number;
    seed: number;
    /**
     * How each half is fitted: `conventional` (default), the estimate the CJ literature uses
     * (`conventionalFit`), which reproduces published split-half figures best (docs/score.md);
     * `ridge`, the weak-ridge MAP with precision `alpha`.
     */
    estimator?: 'conventional' | 'ridge';
    alpha?: number;
    groups?: Int32Array;
  },
): SplitHalfResult {
  const splits = options.splits ?? DEFAULT_CONFIG.SPLIT_HALF_SPLITS;
  if (!Number.isInteger(splits) || splits < 1) {
    throw new RangeError(`splits must be a positive integer, got ${splits}`);
  }
  const m = data.winners.length;
  const none = { median: 0, spearmanBrown: 0, splits: 0 };
  if (m < 2 || data.n < 2) return none;
  const fitOptions = {
    standardErrors: 'none' as const,
    ...(options.alpha === undefined ? {} : { alpha: options.alpha }),
  };
  const fitHalf = (half: BtData): Float64Array =>
    (options.estimator ?? 'conventional') === 'conventional'
      ? conventionalFit(half).scores
      : fitBradleyTerry(half, fitOptions).scores;
  const correlations: number[] = [];
  if (options.groups === undefined) {
    const rng = seededRandom(hashSeed('split-half', options.seed));
    const order = Array.from({ length: m }, (_, k) => k);
    const half = m >> 1;
    for (let s = 0; s < splits; s++) {
      shuffleInPlace(order, rng);
      const first = subset(data, order, 0, half);
      const second = subset(data, order, half, m);
      correlations.push(pearson(fitHalf(first), fitHalf(second)));
    }
  } else {
    const groups = options.groups;
    if (groups.length !== m) {
      throw new RangeError(`groups has ${groups.length} entries for ${m} comparisons`);
    }
    let groupCount = 0;
    for (let k = 0; k < m; k++) {
      const g = groups[k] as number;
      if (!Number.isInteger(g) || g < 0) throw new RangeError(`group ${g} of comparison ${k}`);
      groupCount = Math.max(groupCount, g + 1);
    }
    if (groupCount < 2) return none;
    const rng = seededRandom(hashSeed('split-half-groups', options.seed));
    const groupOrder = Array.from({ length: groupCount }, (_, g) => g);
    const inFirst = new Uint8Array(groupCount);
    for (let s = 0; s < splits; s++) {
      shuffleInPlace(groupOrder, rng);
      inFirst.fill(0);
      for (let r = 0; r < groupCount >> 1; r++) inFirst[groupOrder[r] as number] = 1;
      const firstOrder: number[] = [];
      const secondOrder: number[] = [];
      for (let k = 0; k < m; k++) {
        (inFirst[groups[k] as number] === 1 ? firstOrder : secondOrder).push(k);
      }
      const first = subset(data, firstOrder, 0, firstOrder.length);
      const second = subset(data, secondOrder, 0, secondOrder.length);
      const a = fitHalf(first);
      const b = fitHalf(second);
      const shared = comparedInBoth(first, second);
      correlations.push(
        pearson(
          shared.map((i) => a[i] as number),
          shared.map((i) => b[i] as number),
        ),
      );
    }
  }
  correlations.sort((p, q) => p - q);
  const mid = correlations.length >> 1;
  const median =
    correlations.length % 2 === 1
      ? (correlations[mid] as number)
      : ((correlations[mid - 1] as number) + (correlations[mid] as number)) / 2;
  return { median, spearmanBrown: spearmanBrown(median), splits };
}

/** Indices of the items that take part in at least one comparison of each of the two data sets. */
function comparedInBoth(a: BtData, b: BtData): number[] {
  const seen = new Uint8Array(a.n);
  for (let k = 0; k < a.winners.length; k++) {
    seen[a.winners[k] as number] = 1;
    seen[a.losers[k] as number] = 1;
  }
  for (let k = 0; k < b.winners.length; k++) {
    for (const i of [b.winners[k] as number, b.losers[k] as number]) {
      if (seen[i] === 1) seen[i] = 3;
    }
  }
  const both: number[] = [];
  for (let i = 0; i < a.n; i++) if (seen[i] === 3) both.push(i);
  return both;
}

function subset(data: BtData, order: number[], from: number, to: number): BtData {
  const winners = new Int32Array(to - from);
  const losers = new Int32Array(to - from);
  for (let k = from; k < to; k++) {
    const idx = order[k] as number;
    winners[k - from] = data.winners[idx] as number;
    losers[k - from] = data.losers[idx] as number;
  }
  return { n: data.n, winners, losers };
}

/** ε of the published CJ convention (sirt::btm's default). */
export const CONVENTIONAL_EPSILON = 0.3;
const CONVENTIONAL_MAX_ITERATIONS = 400;
const CONVENTIONAL_TOLERANCE = 1e-4;

export interface ConventionalFit {
  scores: Float64Array;
  /** 1/√(information) per item: the convention's SEs (they ignore the centring). */
  se: Float64Array;
  iterations: number;
  converged: boolean;
}

/**
 * The Bradley–Terry estimate the CJ literature reports its SSR from (the estimator of R's
 * sirt::btm, behind the figures of Kinnear, Jones & Davies 2025 and many CJ tools): each item's
 * win count w_i out of N_i is adjusted to ε + (N_i − 2ε)·w_i/N_i (ε = 0.3), which keeps all-win
 * and all-loss items finite, and the scores solve "expected wins = adjusted wins" by per-item
 * Newton steps capped at 0.98^t logits in iteration t, re-centred after each, stopping when no
 * score moves by more than 1e-4 or after 400 iterations (the package's defaults, as the published
 * figures used them). SEs are 1/√(Σ p(1 − p)) over the item's comparisons.
 *
 * Only for the conventional SSR (`conventionalSsr`): the engine's scores are the posterior
 * (#domain/posterior.ts). Items without comparisons get score 0 and SE 0 and are left out of SSR.
 */
export function conventionalFit(data: BtData, epsilon = CONVENTIONAL_EPSILON): ConventionalFit {
  const graph = buildPairGraph(data);
  const { n, rowStart, col, count, totalWins, degree } = graph;
  const target = new Float64Array(n);
  const theta = new Float64Array(n);
  const compared: number[] = [];
  for (let i = 0; i < n; i++) {
    const total = degree[i] as number;
    if (total === 0) continue;
    compared.push(i);
    target[i] = epsilon + ((total - 2 * epsilon) * (totalWins[i] as number)) / total;
    const p = (target[i] as number) / total;
    theta[i] = 0.8 * Math.log(p / (1 - p));
  }
  const centreCompared = () => {
    let mean = 0;
    for (const i of compared) mean += theta[i] as number;
    mean = compared.length === 0 ? 0 : mean / compared.length;
    for (const i of compared) theta[i] = (theta[i] as number) - mean;
  };
  centreCompared();
  const expected = new Float64Array(n);
  const information = new Float64Array(n);
  const previous = new Float64Array(n);
  const se = new Float64Array(n);
  let cap = 1;
  let iterations = 0;
  let converged = compared.length === 0;
  while (!converged && iterations < CONVENTIONAL_MAX_ITERATIONS) {
    previous.set(theta);
    expected.fill(0);
    information.fill(0);
    for (let i = 0; i < n; i++) {
      for (let e = rowStart[i] as number, end = rowStart[i + 1] as number; e < end; e++) {
        const j = col[e] as number;
        const c = count[e] as number;
        const p = winProbability(theta[i] as number, theta[j] as number);
        const h = c * p * (1 - p);
        expected[i] = (expected[i] as number) + c * p;
        expected[j] = (expected[j] as number) + c * (1 - p);
        information[i] = (information[i] as number) + h;
        information[j] = (information[j] as number) + h;
      }
    }
    cap *= 0.98;
    for (const i of compared) {
      const info = (information[i] as number) + 1e-20;
      const step = ((target[i] as number) - (expected[i] as number)) / info;
      theta[i] = (theta[i] as number) + Math.max(-cap, Math.min(cap, step));
      se[i] = 1 / Math.sqrt(info);
    }
    centreCompared();
    iterations++;
    let change = 0;
    for (const i of compared) {
      change = Math.max(change, Math.abs((theta[i] as number) - (previous[i] as number)));
    }
    converged = change <= CONVENTIONAL_TOLERANCE;
  }
  return { scores: theta, se, iterations, converged };
}

/**
 * SSR as the CJ literature computes and publishes it: `scaleSeparationReliability` of
 * `conventionalFit` over the compared items. Reproduces the SSR table of Kinnear, Jones & Davies
 * (2025) in all 99 sessions with data (docs/score.md). Like every SSR it is optimistic under
 * adaptive pairing; the engine's own figure is the EAP reliability.
 */
export function conventionalSsr(data: BtData): number {
  const fit = conventionalFit(data);
  const scores: number[] = [];
  const se: number[] = [];
  for (let i = 0; i < data.n; i++) {
    if ((fit.se[i] as number) > 0) {
      scores.push(fit.scores[i] as number);
      se.push(fit.se[i] as number);
    }
  }
  return scaleSeparationReliability(scores, se);
}
