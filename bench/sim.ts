/**
 * `npm run -s sim -- --n N [--sd S] [--per-essay K | --budget B] [--strategy adaptive|random]
 *   [--profile NAME] [--failure-rate F] [--mock-position-bias B] [--judge-both-orders]
 *   [--anchors K --grades G] [--seed X] [--runs R] [--set NAME=VALUE ...] --json`
 *
 * Runs R simulated batches (run i uses seed X+i) and prints one JSON object
 * `{ runs: [...], summary: { medians }, grades?, order_effect? }` (docs/engine-rules.md,
 * "Simulator"). Without --json it prints one line per run.
 * A bad flag, value or config name exits with status 2 and a message naming it.
 */
import { UsageError } from '#cli/errors.ts';
import { ConfigError } from '#domain/config.ts';
import { runSimulations } from '#domain/simulator.ts';
import { parseSimulatorArgs, type SimulatorCliOptions } from './sim-args.ts';

function main(argv: readonly string[]): number {
  let options: SimulatorCliOptions;
  try {
    options = parseSimulatorArgs(argv);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      const field = error instanceof ConfigError ? `--set ${error.field}: ` : '';
      process.stderr.write(`sim: ${field}${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const output = runSimulations(options);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(output)}\n`);
  } else {
    for (const run of output.runs) {
      process.stdout.write(
        `${run.status}${run.failure_reason ? ` (${run.failure_reason})` : ''} comparisons=${run.comparisons} spearman=${run.spearman?.toFixed(3)} true_r2=${run.true_r2?.toFixed(3)} eap=${run.eap_reliability?.toFixed(3)} split_half=${run.split_half?.toFixed(3)} ssr=${run.ssr?.toFixed(3)} coverage=${run.coverage?.toFixed(3)}${run.grades ? ` grade_exact=${run.grades.exact.toFixed(3)} brier=${run.grades.brier.toFixed(3)}` : ''}\n`,
      );
    }
    process.stdout.write(`summary ${JSON.stringify(output.summary)}\n`);
    if (output.grades) {
      const { calibration: _, ...grades } = output.grades;
      process.stdout.write(`grades ${JSON.stringify(grades)}\n`);
    }
    if (output.order_effect) {
      process.stdout.write(`order_effect ${JSON.stringify(output.order_effect)}\n`);
    }
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
