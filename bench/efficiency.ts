/**
 * `npm run -s bench:efficiency -- [--n 100] [--sd 2] [--seeds 8] [--seed 1]
 *   [--per-essay 5,10,15,20,25,30,40] [--strategies random,adaptive] [--plan-n 10000]
 *   [--plan-m 150000] [--plan-runs 5] [--json]`
 *
 * Ranking efficiency of the pairing strategies, through the same simulator as `npm run sim`
 * (`simulateBatch`: decide → planWave → mock judge → Bradley–Terry). For every strategy and every
 * K, runs `--seeds` batches with a budget of K·n/2 comparisons (run i uses seed `--seed`+i, the
 * same truths for every strategy) and reports medians of Spearman, Kendall, true r², SSR and
 * split-half, how far each reliability figure is from the true r², and the comparisons per essay
 * the median curve needs to reach Spearman 0.90 and 0.95. Stability is switched off
 * (SCORE_STABILITY_THRESHOLD=0) so every run spends exactly its budget.
 *
 * Strategy `adaptive-unfocused` is the adaptive strategy with PAIRING_FOCUS_FRACTION=1, and
 * `random-fixed-prior` / `adaptive-fixed-prior` use BT_PRIOR_MODE=fixed instead of the
 * shipped default (empirical-Bayes prior for planning only), and `adaptive-eb-scores` also reports
 * the empirical-Bayes scores (ablations). It also times planning one adaptive and one random coverage
 * wave, and the engine's fit under each prior mode, for `--plan-n` essays with about `--plan-m`
 * prior comparisons. Prints one JSON object; a bad flag exits 2.
 */
import {
  booleanFlag,
  checkedNumberFlag,
  type FlagSpecs,
  parseArgs,
  stringFlag,
} from '#cli/args.ts';
import { UsageError } from '#cli/errors.ts';
import { fitBradleyTerry } from '#domain/bradley-terry.ts';
import { type EngineConfig, resolveConfig } from '#domain/config.ts';
import { planWave } from '#domain/pairing.ts';
import { fitWithPrior } from '#domain/prior.ts';
import { hashSeed, normal, seededRandom } from '#domain/random.ts';
import { type SimulationRun, simulateBatch } from '#domain/simulator.ts';
import type { ComparisonRecord } from '#domain/types.ts';

const STRATEGIES = [
  'random',
  'adaptive',
  'adaptive-unfocused',
  'random-fixed-prior',
  'adaptive-fixed-prior',
  'adaptive-eb-scores',
] as const;
type StrategyName = (typeof STRATEGIES)[number];
const THRESHOLDS = [0.9, 0.95] as const;
/** A reliability figure within this of the true r² counts as honest (issue 2). */
const HONESTY_TOLERANCE = 0.05;

interface Options {
  n: number;
  sd: number;
  seeds: number;
  seed: number;
  perEssay: number[];
  strategies: StrategyName[];
  planN: number;
  planM: number;
  planRuns: number;
  json: boolean;
}

const FLAGS: FlagSpecs = {
  n: { type: 'number', description: 'essays per simulated batch (integer >= 2)' },
  sd: { type: 'number', description: 'SD of the true qualities, in logits' },
  seeds: { type: 'number', description: 'runs per strategy and K' },
  seed: { type: 'number', description: 'seed of the first run' },
  'per-essay': { type: 'string', description: 'comma list of comparisons per essay' },
  strategies: { type: 'string', description: `comma list of ${STRATEGIES.join(', ')}` },
  'plan-n': { type: 'number', description: 'essays of the planning-time measurement' },
  'plan-m': { type: 'number', description: 'prior comparisons of the planning-time measurement' },
  'plan-runs': { type: 'number', description: 'repetitions of the planning-time measurement' },
  json: { type: 'boolean', description: 'print compact JSON' },
};

const isInt = (v: number) => Number.isInteger(v);

function commaList<T>(raw: string | undefined, parse: (part: string) => T): T[] | undefined {
  return raw === undefined ? undefined : raw.split(',').map(parse);
}

export function parseOptions(argv: readonly string[]): Options {
  const args = parseArgs(argv, FLAGS);
  const [extra] = args.positionals;
  if (extra !== undefined) throw new UsageError(extra, 'unexpected argument');
  const perEssay = commaList(stringFlag(args, 'per-essay'), (part) => {
    const value = part.trim() === '' ? Number.NaN : Number(part);
    if (!(value > 0)) throw new UsageError('--per-essay', `expected numbers > 0, got "${part}"`);
    return value;
  });
  const strategies = commaList(stringFlag(args, 'strategies'), (name) => {
    if (!(STRATEGIES as readonly string[]).includes(name)) {
      throw new UsageError('--strategies', `unknown strategy "${name}" (${STRATEGIES.join(', ')})`);
    }
    return name as StrategyName;
  });
  return {
    n: checkedNumberFlag(args, 'n', (v) => isInt(v) && v >= 2, 'an integer >= 2') ?? 100,
    sd: checkedNumberFlag(args, 'sd', (v) => v >= 0, 'a number >= 0') ?? 2,
    seeds: checkedNumberFlag(args, 'seeds', (v) => isInt(v) && v >= 1, 'an integer >= 1') ?? 8,
    seed: checkedNumberFlag(args, 'seed', isInt, 'an integer') ?? 1,
    perEssay: (perEssay ?? [5, 10, 15, 20, 25, 30, 40]).sort((x, y) => x - y),
    strategies: strategies ?? ['random', 'adaptive'],
    planN:
      checkedNumberFlag(args, 'plan-n', (v) => isInt(v) && v >= 2, 'an integer >= 2') ?? 10_000,
    planM:
      checkedNumberFlag(args, 'plan-m', (v) => isInt(v) && v >= 0, 'an integer >= 0') ?? 150_000,
    planRuns:
      checkedNumberFlag(args, 'plan-runs', (v) => isInt(v) && v >= 1, 'an integer >= 1') ?? 5,
    json: booleanFlag(args, 'json'),
  };
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function round(value: number | null, digits = 4): number | null {
  return value === null ? null : Number(value.toFixed(digits));
}

function configFor(strategy: StrategyName): EngineConfig {
  return resolveConfig({
    PAIRING_STRATEGY: strategy.startsWith('random') ? 'random' : 'adaptive',
    SCORE_STABILITY_THRESHOLD: 0,
    ...(strategy === 'adaptive-unfocused' ? { PAIRING_FOCUS_FRACTION: 1 } : {}),
    ...(strategy.endsWith('-fixed-prior') ? { BT_PRIOR_MODE: 'fixed' } : {}),
    ...(strategy === 'adaptive-eb-scores' ? { BT_PRIOR_MODE: 'empirical_bayes' } : {}),
  });
}

interface ReliabilityCheck {
  /** Median of (figure − true r²) over runs. */
  median_error: number | null;
  /** Share of runs whose figure is within ±HONESTY_TOLERANCE of their true r². */
  within_tolerance: number | null;
}

function reliabilityCheck(runs: SimulationRun[], field: 'ssr' | 'split_half'): ReliabilityCheck {
  const errors: number[] = [];
  for (const run of runs) {
    const figure = run[field];
    if (figure !== null && run.true_r2 !== null) errors.push(figure - run.true_r2);
  }
  const within = errors.filter((e) => Math.abs(e) <= HONESTY_TOLERANCE).length;
  return {
    median_error: round(median(errors)),
    within_tolerance: errors.length === 0 ? null : round(within / errors.length, 3),
  };
}

function medianOf(runs: SimulationRun[], field: keyof SimulationRun): number | null {
  return round(median(runs.map((r) => r[field]).filter((v): v is number => typeof v === 'number')));
}

/** Comparisons per essay where the median curve first reaches `target` (linear interpolation). */
export function perEssayToReach(
  curve: readonly { perEssay: number; spearman: number | null }[],
  target: number,
): number | null {
  let previous: { perEssay: number; spearman: number } | null = null;
  for (const point of curve) {
    if (point.spearman === null) continue;
    if (point.spearman >= target) {
      if (previous === null) return point.perEssay;
      const t = (target - previous.spearman) / (point.spearman - previous.spearman);
      return round(previous.perEssay + t * (point.perEssay - previous.perEssay), 2);
    }
    previous = { perEssay: point.perEssay, spearman: point.spearman };
  }
  return null;
}

function efficiency(options: Options) {
  const byStrategy: Record<string, unknown> = {};
  const reach: Record<string, Record<string, number | null>> = {};
  for (const strategy of options.strategies) {
    const config = configFor(strategy);
    const points = [];
    for (const perEssay of options.perEssay) {
      const budget = Math.ceil((perEssay * options.n) / 2);
      const runs: SimulationRun[] = [];
      for (let i = 0; i < options.seeds; i++) {
        runs.push(
          simulateBatch({ n: options.n, sd: options.sd, config, seed: options.seed + i, budget })
            .run,
        );
      }
      points.push({
        per_essay: perEssay,
        comparisons: medianOf(runs, 'comparisons'),
        spearman: medianOf(runs, 'spearman'),
        kendall: medianOf(runs, 'kendall'),
        true_r2: medianOf(runs, 'true_r2'),
        ssr: medianOf(runs, 'ssr'),
        split_half: medianOf(runs, 'split_half'),
        ssr_vs_true_r2: reliabilityCheck(runs, 'ssr'),
        split_half_vs_true_r2: reliabilityCheck(runs, 'split_half'),
      });
    }
    byStrategy[strategy] = points;
    const curve = points.map((p) => ({ perEssay: p.per_essay, spearman: p.spearman }));
    reach[strategy] = Object.fromEntries(
      THRESHOLDS.map((target) => [String(target), perEssayToReach(curve, target)]),
    );
  }
  return { curves: byStrategy, per_essay_to_reach_spearman: reach };
}

/** A plausible mid-batch state: m random prior comparisons and noisy scores with SEs. */
function syntheticHistory(n: number, m: number, seed: number) {
  const config = resolveConfig({ PAIRING_STRATEGY: 'random' });
  const rng = seededRandom(hashSeed('efficiency-plan', seed));
  const comparisons: ComparisonRecord[] = [];
  let iteration = 0;
  while (comparisons.length < m) {
    iteration++;
    const wave = planWave({
      n,
      kind: 'coverage',
      maxPairs: m - comparisons.length,
      comparisons,
      scores: null,
      se: null,
      strategy: 'random',
      seed: hashSeed(seed, iteration),
      config,
    });
    if (wave.length === 0) break;
    for (const p of wave) {
      comparisons.push({
        a: p.a,
        b: p.b,
        status: 'COMPLETED',
        winner: rng() < 0.5 ? 'A' : 'B',
        kind: 'coverage',
        iteration,
      });
    }
  }
  const perEssay = (2 * comparisons.length) / n;
  const se = Float64Array.from({ length: n }, () => (1 + 0.2 * rng()) / Math.sqrt(perEssay * 0.2));
  const scores = Float64Array.from({ length: n }, (_, i) => 2 * normal(rng) + (se[i] ?? 0));
  return { comparisons, scores, se };
}

function planTiming(options: Options) {
  const { planN: n, planM: m, planRuns } = options;
  const { comparisons, scores, se } = syntheticHistory(n, m, options.seed);
  const result: Record<string, unknown> = { n, prior_comparisons: comparisons.length };
  for (const strategy of ['adaptive', 'random'] as const) {
    const config = resolveConfig({ PAIRING_STRATEGY: strategy });
    const times: number[] = [];
    let pairs = 0;
    for (let r = 0; r < planRuns; r++) {
      const start = performance.now();
      const wave = planWave({
        n,
        kind: 'coverage',
        maxPairs: n,
        comparisons,
        scores,
        se,
        strategy,
        seed: r,
        config,
      });
      times.push(performance.now() - start);
      pairs = wave.length;
    }
    result[strategy] = { plan_ms_median: round(median(times), 1), wave_pairs: pairs };
  }
  const data = {
    n,
    winners: Int32Array.from(comparisons, (c) => (c.winner === 'A' ? c.a : c.b)),
    losers: Int32Array.from(comparisons, (c) => (c.winner === 'A' ? c.b : c.a)),
  };
  for (const mode of ['fixed', 'empirical_bayes'] as const) {
    const config = resolveConfig({ BT_PRIOR_MODE: mode });
    const times: number[] = [];
    for (let r = 0; r < planRuns; r++) {
      const start = performance.now();
      fitWithPrior(data, { standardErrors: 'auto', seSeed: r }, config, fitBradleyTerry);
      times.push(performance.now() - start);
    }
    result[`fit_${mode}`] = { fit_ms_median: round(median(times), 1) };
  }
  return result;
}

function main(argv: readonly string[]): number {
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`bench:efficiency: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const started = performance.now();
  const output = {
    n: options.n,
    sd: options.sd,
    seeds: options.seeds,
    first_seed: options.seed,
    per_essay: options.perEssay,
    honesty_tolerance: HONESTY_TOLERANCE,
    ...efficiency(options),
    plan_timing: planTiming(options),
    elapsed_s: round((performance.now() - started) / 1000, 1),
  };
  process.stdout.write(`${JSON.stringify(output, null, options.json ? undefined : 2)}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
