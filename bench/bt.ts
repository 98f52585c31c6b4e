/**
 * Bradley–Terry fit benchmark on random comparisons from a known truth.
 *
 *   npm run -s bench:bt -- --n N --m M [--runs R] [--alpha A] [--seed X] [--sd S]
 *                          [--se auto|exact|approx] [--probes K] [--compare-se] --json
 *
 * True scores ~ N(0, S²) (S = 1.5 by default), M uniformly random distinct pairs, each winner drawn
 * from the BT probability. Run i uses seed X+i. Before timing, a few untimed warm-up fits (with
 * SEs) on a small instance compile the hot loops, so figures are steady-state medians.
 * Prints one JSON object { n, m, fit_ms_median, fit_with_se_ms_median, iterations, peak_rss_mb,
 * se_method, posterior_ms_median, posterior_sweeps } — the MAP fit alone, with its SEs, and the
 * engine's fit: the posterior with the empirical-Bayes prior and the order effect (the display
 * order of each comparison drawn at random); --compare-se adds the relative error of approximate vs exact SEs on run 0's data
 * (se_rel_err_median, se_rel_err_max) and the time of each.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  booleanFlag,
  checkedNumberFlag,
  choiceFlag,
  type FlagSpecs,
  parseArgs,
} from '#cli/args.ts';
import { UsageError } from '#cli/errors.ts';
import { type BtData, fitBradleyTerry, type SeMethod } from '#domain/bradley-terry.ts';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { engineFit } from '#domain/prior.ts';
import { normal, seededRandom } from '#domain/random.ts';

interface Args {
  n: number;
  m: number;
  runs: number;
  alpha: number;
  seed: number;
  sd: number;
  se: 'auto' | SeMethod;
  probes: number;
  compareSe: boolean;
  json: boolean;
}

/** Untimed fits before measuring, so the optimising compiler has compiled the hot loops. */
const WARM_UP_PASSES = 3;

const FLAGS: FlagSpecs = {
  n: { type: 'number', description: 'items (integer >= 2, required)' },
  m: { type: 'number', description: 'comparisons (required)' },
  runs: { type: 'number', description: 'timed runs (median reported)' },
  alpha: { type: 'number', description: 'ridge prior precision' },
  seed: { type: 'number', description: 'seed of run 0 (run i uses X+i)' },
  sd: { type: 'number', description: 'SD of the true scores, in logits' },
  se: { type: 'string', description: 'auto, exact or approx' },
  probes: { type: 'number', description: 'starting probes of approximate SEs' },
  'compare-se': { type: 'boolean', description: 'also compare approximate with exact SEs' },
  json: { type: 'boolean', description: 'print one JSON object' },
};

const positiveInt = (v: number) => Number.isInteger(v) && v > 0;

function required(value: number | undefined, flag: string): number {
  if (value === undefined) throw new UsageError(`--${flag}`, 'required');
  return value;
}

function parseOptions(argv: string[]): Args {
  const args = parseArgs(argv, FLAGS);
  const [extra] = args.positionals;
  if (extra !== undefined) throw new UsageError(extra, 'unexpected argument');
  const finite = (check: (v: number) => boolean) => (v: number) => Number.isFinite(v) && check(v);
  return {
    n: required(
      checkedNumberFlag(args, 'n', (v) => Number.isInteger(v) && v >= 2, 'an integer >= 2'),
      'n',
    ),
    m: required(checkedNumberFlag(args, 'm', positiveInt, 'an integer >= 1'), 'm'),
    runs: checkedNumberFlag(args, 'runs', positiveInt, 'an integer >= 1') ?? 5,
    alpha:
      checkedNumberFlag(
        args,
        'alpha',
        finite((v) => v > 0),
        'a number > 0',
      ) ?? DEFAULT_CONFIG.BT_PRIOR_ALPHA,
    seed: checkedNumberFlag(args, 'seed', Number.isInteger, 'an integer') ?? 1,
    sd:
      checkedNumberFlag(
        args,
        'sd',
        finite((v) => v >= 0),
        'a number >= 0',
      ) ?? 1.5,
    se: choiceFlag(args, 'se', ['auto', 'exact', 'approx'] as const) ?? 'auto',
    probes:
      checkedNumberFlag(args, 'probes', positiveInt, 'an integer >= 1') ??
      DEFAULT_CONFIG.BT_APPROX_SE_PROBES,
    compareSe: booleanFlag(args, 'compare-se'),
    json: booleanFlag(args, 'json'),
  };
}

/** Random comparisons from a known truth: uniform distinct pairs, BT-distributed winners. */
function generate(n: number, m: number, sd: number, seed: number): BtData {
  const rng = seededRandom(seed);
  const truth = new Float64Array(n);
  for (let i = 0; i < n; i++) truth[i] = sd * normal(rng);
  const winners = new Int32Array(m);
  const losers = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    const i = Math.floor(rng() * n);
    let j = Math.floor(rng() * (n - 1));
    if (j >= i) j++;
    const p = 1 / (1 + Math.exp((truth[j] as number) - (truth[i] as number)));
    const iWins = rng() < p;
    winners[k] = iWins ? i : j;
    losers[k] = iWins ? j : i;
  }
  return { n, winners, losers };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Runs fn, returning its result, wall milliseconds and CPU (user + system) milliseconds. */
function timed<T>(fn: () => T): [T, number, number] {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const result = fn();
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return [result, wall, (cpu.user + cpu.system) / 1000];
}

function main(): void {
  const args = parseOptions(process.argv.slice(2));
  const options = { alpha: args.alpha, seProbes: args.probes };
  const warm = generate(Math.min(args.n, 300), Math.min(args.m, 3000), args.sd, args.seed - 1);
  const withOrder = (data: BtData) => {
    const rng = seededRandom(data.n + data.winners.length);
    return { ...data, order: Int8Array.from(data.winners, () => (rng() < 0.5 ? 1 : -1)) };
  };
  for (let pass = 0; pass < WARM_UP_PASSES; pass++) {
    fitBradleyTerry(warm, { ...options, standardErrors: 'exact' });
    fitBradleyTerry(warm, { ...options, standardErrors: 'approx' });
    engineFit(withOrder(warm), DEFAULT_CONFIG);
  }

  const fitMs: number[] = [];
  const fitSeMs: number[] = [];
  const fitCpuMs: number[] = [];
  const fitSeCpuMs: number[] = [];
  const iterations: number[] = [];
  const posteriorMs: number[] = [];
  const posteriorCpuMs: number[] = [];
  const sweeps: number[] = [];
  let seMethod: SeMethod = 'none';
  for (let run = 0; run < args.runs; run++) {
    const data = generate(args.n, args.m, args.sd, args.seed + run);
    const [fit, ms, cpuMs] = timed(() =>
      fitBradleyTerry(data, { ...options, standardErrors: 'none' }),
    );
    fitMs.push(ms);
    fitCpuMs.push(cpuMs);
    iterations.push(fit.iterations);
    const [withSe, seMs, seCpuMs] = timed(() =>
      fitBradleyTerry(data, { ...options, standardErrors: args.se }),
    );
    fitSeMs.push(seMs);
    fitSeCpuMs.push(seCpuMs);
    seMethod = withSe.seMethod;
    const ordered = withOrder(data);
    const [posterior, postMs, postCpuMs] = timed(() => engineFit(ordered, DEFAULT_CONFIG));
    posteriorMs.push(postMs);
    posteriorCpuMs.push(postCpuMs);
    sweeps.push(posterior.sweeps);
  }
  const result: Record<string, number | string> = {
    n: args.n,
    m: args.m,
    fit_ms_median: round(median(fitMs)),
    fit_with_se_ms_median: round(median(fitSeMs)),
    iterations: median(iterations),
    peak_rss_mb: 0,
    se_method: seMethod,
    // CPU time and load show how much of the wall time is contention on a shared machine.
    fit_cpu_ms_median: round(median(fitCpuMs)),
    fit_with_se_cpu_ms_median: round(median(fitSeCpuMs)),
    posterior_ms_median: round(median(posteriorMs)),
    posterior_cpu_ms_median: round(median(posteriorCpuMs)),
    posterior_sweeps: median(sweeps),
    runs: args.runs,
    load_avg_1m: round(loadavg()[0] ?? 0, 2),
  };
  if (args.compareSe) {
    const data = generate(args.n, args.m, args.sd, args.seed);
    const [exact, exactMs] = timed(() =>
      fitBradleyTerry(data, { ...options, standardErrors: 'exact' }),
    );
    const [approx, approxMs] = timed(() =>
      fitBradleyTerry(data, { ...options, standardErrors: 'approx' }),
    );
    const errors = Array.from(exact.se ?? [], (e, i) =>
      Math.abs(((approx.se?.[i] as number) - e) / e),
    ).sort((a, b) => a - b);
    result.se_probes = args.probes;
    result.se_rel_err_median = round(median(errors), 5);
    result.se_rel_err_max = round(errors[errors.length - 1] as number, 5);
    result.exact_se_fit_ms = round(exactMs);
    result.approx_se_fit_ms = round(approxMs);
  }
  // maxRSS is in kilobytes.
  result.peak_rss_mb = round(process.resourceUsage().maxRSS / 1024);
  if (args.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    for (const [key, value] of Object.entries(result)) process.stdout.write(`${key}: ${value}\n`);
  }
}

try {
  main();
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`bench:bt: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
