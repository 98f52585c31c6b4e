/**
 * Wave sizing (docs/pairing.md, "Wave sizing"): how many rounds of pairs one wave plans.
 *
 * A batch's wall time is its number of waves times the slowest callback of each wave: the gate
 * waits for every callback, and a lost one for its deadline and the next sweeper run. One matching
 * per wave (each essay at most once) makes a 20-essay batch with a budget of 100 take ten or more
 * waves. So a wave plans further rounds, each a matching over the history plus the rounds already
 * planned (as pending comparisons), until it holds WAVE_MIN_COMPARISONS comparisons or
 * WAVE_MAX_APPEARANCES_PER_ESSAY rounds, whichever comes first, within the remaining budget.
 * A batch whose one matching already holds WAVE_MIN_COMPARISONS plans exactly one round, as before.
 * Nor does a wave grow beyond WAVE_GROWTH_FACTOR times the successful comparisons so far: waves
 * grow geometrically (as batched adaptive designs do), each planned on scores fitted from at least
 * as much data as it adds; until the batch has a success a wave is one round, so a judge that fails
 * every call is stopped after MAX_WAVES_WITHOUT_SUCCESS waves having spent what it spent before.
 * Later rounds plan with the wave so far counted as information (`pendingAwareSe`,
 * WAVE_PENDING_INFORMATION), so they spread over other essays rather than repeating the first
 * round's focus.
 *
 * Only how many comparisons a wave plans changes: the gate, the budget and every finalize guard are
 * untouched, and no pair appears twice in one wave (rounds see the earlier rounds as pending).
 */
import type { EngineConfig } from '#domain/config.ts';
import { pairKey } from '#domain/pairing.ts';
import type { ComparisonRecord, PlannedPair } from '#domain/types.ts';

/**
 * How large the next wave may grow through further rounds: rounds are added while it holds fewer
 * than `minComparisons` comparisons, up to `maxRounds` rounds.
 */
export interface WaveTarget {
  minComparisons: number;
  maxRounds: number;
}

/**
 * The next wave's target: WAVE_MIN_COMPARISONS, but no more than WAVE_GROWTH_FACTOR times the
 * successful comparisons so far (waves grow geometrically, each planned on scores fitted from at
 * least as much data as it adds; with no success yet, one round), and at most
 * WAVE_MAX_APPEARANCES_PER_ESSAY rounds.
 */
export function waveTarget(
  config: Pick<
    EngineConfig,
    'WAVE_MIN_COMPARISONS' | 'WAVE_GROWTH_FACTOR' | 'WAVE_MAX_APPEARANCES_PER_ESSAY'
  >,
  completedComparisons: number,
): WaveTarget {
  return {
    minComparisons: Math.min(
      config.WAVE_MIN_COMPARISONS,
      Math.ceil(config.WAVE_GROWTH_FACTOR * completedComparisons),
    ),
    maxRounds: config.WAVE_MAX_APPEARANCES_PER_ESSAY,
  };
}

/**
 * The standard errors a later round of a wave plans with: each essay's posterior precision (1/SE²)
 * plus `weight` times the Fisher information p(1 − p) of each of its comparisons already planned in
 * the wave, p from the current scores (as if each were judged; the wave is planned on one fit).
 * Without it every round of a wave saw the same SEs, so the adaptive focus kept choosing the same
 * most-uncertain essays and their nearest neighbours round after round. With it, an essay already
 * in the wave looks less uncertain, so later rounds move on to others (focus) and pair it less far
 * (Thompson spread). `weight` 0 (WAVE_PENDING_INFORMATION), or no scores yet: `se` unchanged.
 */
export function pendingAwareSe(
  scores: Float64Array | null,
  se: Float64Array | null,
  wave: readonly { a: number; b: number }[],
  weight: number,
): Float64Array | null {
  if (weight <= 0 || scores === null || se === null || wave.length === 0) return se;
  const precision = Float64Array.from(se, (s) => (s > 0 ? 1 / (s * s) : Number.POSITIVE_INFINITY));
  for (const { a, b } of wave) {
    const p = 1 / (1 + Math.exp((scores[b] ?? 0) - (scores[a] ?? 0)));
    const information = weight * p * (1 - p);
    precision[a] = (precision[a] ?? 0) + information;
    precision[b] = (precision[b] ?? 0) + information;
  }
  return Float64Array.from(precision, (q) => (Number.isFinite(q) ? 1 / Math.sqrt(q) : 0));
}

/** Plans one more round over `history` (the batch's history plus the wave so far, as pending). */
export type PlanRound = (history: readonly ComparisonRecord[], maxPairs: number) => PlannedPair[];

/** Pending records for planned pairs, so the next round sees them as taken. */
function asPending(pairs: readonly PlannedPair[], iteration: number): ComparisonRecord[] {
  return pairs.map((p) => ({ a: p.a, b: p.b, status: 'PENDING', kind: p.kind, iteration }));
}

/**
 * Extends the first round of a wave with further rounds of `planRound` while the wave is smaller
 * than `minComparisons` (WAVE_MIN_COMPARISONS), has fewer than `maxRounds` rounds (`waveRounds`)
 * and fits `maxPairs`. A round that adds no new pair ends the wave (and a pair already in the wave is never
 * added again, whatever the planner returns).
 */
export function extendWave(
  firstRound: readonly PlannedPair[],
  planRound: PlanRound,
  context: {
    comparisons: readonly ComparisonRecord[];
    maxPairs: number;
    /** Iteration the wave's comparisons will carry. */
    iteration: number;
    minComparisons: number;
    maxRounds: number;
  },
): PlannedPair[] {
  const { maxPairs, iteration, minComparisons, maxRounds } = context;
  const wave = firstRound.slice(0, maxPairs);
  if (wave.length === 0) return wave;
  const inWave = new Set(wave.map((p) => pairKey(p.a, p.b)));
  let history = [...context.comparisons, ...asPending(wave, iteration)];
  for (let round = 2; round <= maxRounds; round++) {
    if (wave.length >= minComparisons || wave.length >= maxPairs) break;
    const added: PlannedPair[] = [];
    for (const pair of planRound(history, maxPairs - wave.length)) {
      const key = pairKey(pair.a, pair.b);
      if (inWave.has(key) || wave.length + added.length >= maxPairs) continue;
      inWave.add(key);
      added.push(pair);
    }
    if (added.length === 0) break;
    wave.push(...added);
    history = [...history, ...asPending(added, iteration)];
  }
  return wave;
}

/** Most times any essay appears in `pairs` (1 for a matching). */
export function maxAppearances(pairs: readonly PlannedPair[]): number {
  const count = new Map<number, number>();
  let most = 0;
  for (const { a, b } of pairs) {
    for (const essay of [a, b]) {
      const c = (count.get(essay) ?? 0) + 1;
      count.set(essay, c);
      if (c > most) most = c;
    }
  }
  return most;
}
