/** Factories for pair-wave planning tests: requests, fits and histories built wave by wave. */
import type { EngineConfig } from '#domain/config.ts';
import { maxPossiblePairs, planWave, type WavePlanRequest } from '#domain/pairing.ts';
import { normal, seededRandom } from '#domain/random.ts';
import type { ComparisonRecord, PlannedPair } from '#domain/types.ts';
import { makeConfig } from '#test/helpers/domain-factories.ts';

/** Scores N(0, sd) and equal SEs: a stand-in for a Bradley–Terry fit. */
export function makeFit(n: number, seed: number, sd = 2, se = 0.5) {
  const rng = seededRandom(seed);
  return {
    scores: Float64Array.from({ length: n }, () => sd * normal(rng)),
    se: Float64Array.from({ length: n }, () => se),
  };
}

export function makePlanRequest(overrides: Partial<WavePlanRequest> = {}): WavePlanRequest {
  return {
    n: 10,
    kind: 'coverage',
    maxPairs: 1000,
    comparisons: [],
    scores: null,
    se: null,
    strategy: 'random',
    seed: 1,
    config: makeConfig(),
    ...overrides,
  };
}

/** Records a planned wave as judged (or failed) comparisons; the first-shown essay wins. */
export function recordWave(
  wave: readonly PlannedPair[],
  iteration: number,
  status: ComparisonRecord['status'] = 'COMPLETED',
  resamplePass?: number,
): ComparisonRecord[] {
  return wave.map((p) => ({
    a: p.a,
    b: p.b,
    status,
    ...(status === 'COMPLETED' ? { winner: 'A' as const } : {}),
    ...(status === 'FAILED' ? { failureKind: 'provider_error' as const } : {}),
    kind: p.kind,
    iteration,
    ...(resamplePass === undefined ? {} : { resamplePass }),
  }));
}

/**
 * Plans and records waves of one kind until the planner returns [] (or `maxWaves` is hit; by
 * default n·(n−1)/2 + 1, more than any correct planner needs); returns the waves and the history.
 */
export function planUntilExhausted(options: {
  n: number;
  kind: WavePlanRequest['kind'];
  strategy: WavePlanRequest['strategy'];
  seed: number;
  history?: ComparisonRecord[];
  fit?: { scores: Float64Array; se: Float64Array } | null;
  config?: EngineConfig;
  resamplePass?: number;
  maxWaves?: number;
}): { waves: PlannedPair[][]; history: ComparisonRecord[] } {
  const history = [...(options.history ?? [])];
  const waves: PlannedPair[][] = [];
  const maxWaves = options.maxWaves ?? maxPossiblePairs(options.n) + 1;
  let iteration = history.reduce((max, c) => Math.max(max, c.iteration), 0);
  while (waves.length < maxWaves) {
    const wave = planWave(
      makePlanRequest({
        n: options.n,
        kind: options.kind,
        strategy: options.strategy,
        seed: options.seed * 7919 + iteration,
        comparisons: history,
        scores: options.fit?.scores ?? null,
        se: options.fit?.se ?? null,
        config: options.config ?? makeConfig(),
        ...(options.resamplePass === undefined ? {} : { resamplePass: options.resamplePass }),
      }),
    );
    if (wave.length === 0) break;
    iteration++;
    waves.push(wave);
    history.push(...recordWave(wave, iteration, 'COMPLETED', options.resamplePass));
  }
  return { waves, history };
}

/** Times each essay was shown first minus shown second, over the given comparisons. */
export function shownFirstMinusSecond(
  n: number,
  comparisons: readonly { a: number; b: number }[],
): number[] {
  const balance = new Array<number>(n).fill(0);
  for (const c of comparisons) {
    balance[c.a] = (balance[c.a] ?? 0) + 1;
    balance[c.b] = (balance[c.b] ?? 0) - 1;
  }
  return balance;
}
