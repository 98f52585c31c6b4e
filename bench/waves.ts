/**
 * `npm run -s bench:waves -- <the flags of npm run sim> [--variant LABEL:NAME=VALUE,...] --json`
 *
 * Wave sizing side by side (BENCHMARKS.md, "Wave sizing"): the same simulated batches (same
 * seeds, same flags) under the shipped wave sizing and under the one-appearance-per-wave rule
 * (WAVE_MAX_APPEARANCES_PER_ESSAY=1), plus any `--variant` (e.g.
 * `--variant min100:WAVE_MIN_COMPARISONS=100`). Prints the medians of each, the ratio of the
 * median simulated wall times (one_per_wave / each) and the difference of median Spearman
 * (each − one_per_wave), and the median of the per-seed Spearman differences with its
 * distribution-free 95 % interval (sign test, bench/support/paired.ts) and their mean.
 */
import { parseArgs } from '#cli/args.ts';
import { UsageError } from '#cli/errors.ts';
import { ConfigError } from '#domain/config.ts';
import { runSimulations, type SimulationRun } from '#domain/simulator.ts';
import { parseSimulatorArgs, SIM_FLAGS } from './sim-args.ts';
import { pairedSummary } from './support/paired.ts';
import { parseOverrides } from './support/variants.ts';

const FLAGS = {
  ...SIM_FLAGS,
  variant: {
    type: 'string',
    multiple: true,
    valueName: 'LABEL:NAME=VALUE,...',
    description: 'another wave sizing to compare',
  },
} as const;

function parseVariant(spec: string): [string, Record<string, unknown>] {
  const colon = spec.indexOf(':');
  if (colon <= 0) throw new UsageError('--variant', `expected LABEL:NAME=VALUE,..., got "${spec}"`);
  return [spec.slice(0, colon), parseOverrides(spec.slice(colon + 1), spec)];
}

const round = (x: number | null, digits = 4) =>
  x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits;

function main(argv: readonly string[]): number {
  let variants: [string, Record<string, unknown>][];
  let options: ReturnType<typeof parseSimulatorArgs>;
  try {
    const raw = parseArgs(argv, FLAGS);
    const extra = (raw.flags.variant as string[] | undefined) ?? [];
    const simArgv: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === '--variant') i++;
      else if (!String(argv[i]).startsWith('--variant=')) simArgv.push(argv[i] as string);
    }
    options = parseSimulatorArgs(simArgv);
    variants = [
      ['shipped', {}],
      ['one_per_wave', { WAVE_MAX_APPEARANCES_PER_ESSAY: 1 }],
      ...extra.map(parseVariant),
    ];
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`bench:waves: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const results = variants.map(([label, overrides]) => {
    const started = performance.now();
    const output = runSimulations({
      ...options,
      overrides: { ...options.overrides, ...overrides },
    });
    return { label, overrides, output, seconds: (performance.now() - started) / 1000 };
  });
  const baseline = results.find((r) => r.label === 'one_per_wave');
  const baseRuns = baseline?.output.runs ?? [];
  const spearmanOf = (run: SimulationRun | undefined) => run?.spearman ?? null;
  const report = results.map(({ label, overrides, output, seconds }) => {
    const paired = pairedSummary(
      output.runs.map(spearmanOf),
      output.runs.map((_, i) => spearmanOf(baseRuns[i])),
    );
    const wall = output.summary.simulated_wall_s;
    const baseWall = baseline?.output.summary.simulated_wall_s ?? null;
    const statuses: Record<string, number> = {};
    for (const run of output.runs) {
      const key = run.failure_reason ? `FAILED_${run.failure_reason}` : run.status;
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
    return {
      label,
      overrides,
      median_simulated_wall_s: wall,
      median_waves: output.summary.waves,
      median_spearman: round(output.summary.spearman),
      median_comparisons: output.summary.comparisons,
      median_timed_out: output.summary.timed_out,
      wall_ratio_vs_one_per_wave: wall && baseWall ? round(baseWall / wall, 3) : null,
      spearman_minus_one_per_wave:
        output.summary.spearman === null || baseline?.output.summary.spearman == null
          ? null
          : round(output.summary.spearman - baseline.output.summary.spearman),
      median_paired_spearman_diff: round(paired.median),
      paired_spearman_diff_ci95: paired.ci95?.map((x) => round(x)) ?? null,
      mean_paired_spearman_diff: round(paired.mean),
      statuses,
      cpu_seconds: round(seconds, 1),
    };
  });
  const { json: _json, overrides: _o, ...setting } = options;
  const output = { setting: { ...setting, overrides: options.overrides }, variants: report };
  if (options.json) process.stdout.write(`${JSON.stringify(output)}\n`);
  else for (const row of report) process.stdout.write(`${JSON.stringify(row)}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
