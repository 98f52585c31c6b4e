/**
 * `npm run -s sim -- --n N [--sd S] [--per-essay K | --budget B] [--strategy adaptive|random]
 *   [--profile NAME] [--failure-rate F] [--seed X] [--runs R] [--set NAME=VALUE ...] --json`
 *
 * Runs R simulated batches (run i uses seed X+i) and prints one JSON object
 * `{ runs: [...], summary: { medians } }`. Without --json it prints one line per run.
 * A bad flag, value or config name exits with status 2 and a message naming it.
 */
import { ConfigError, parseConfigAssignment, resolveConfig } from '#domain/config.ts';
import { MOCK_PROFILE_NAMES, type MockProfileName } from '#domain/mock-judge.ts';
import {
  DEFAULT_SIMULATION_SD,
  type SimulationRun,
  simulateBatch,
  summarizeRuns,
} from '#domain/simulator.ts';

class UsageError extends Error {}

interface CliOptions {
  n: number;
  sd: number;
  perEssay?: number;
  budget?: number;
  strategy?: 'adaptive' | 'random';
  profile: MockProfileName;
  failureRate?: number;
  seed: number;
  runs: number;
  overrides: Record<string, unknown>;
  json: boolean;
}

function numberFlag(
  flag: string,
  raw: string | undefined,
  check: (v: number) => boolean,
  want: string,
) {
  const value = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value) || !check(value)) {
    throw new UsageError(
      `${flag}: expected ${want}, got ${raw === undefined ? 'nothing' : `"${raw}"`}`,
    );
  }
  return value;
}

const isInt = (v: number) => Number.isInteger(v);

export function parseArgs(argv: readonly string[]): CliOptions {
  const options: Partial<CliOptions> & { overrides: Record<string, unknown> } = {
    overrides: {},
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const takeValue = () => {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) {
        throw new UsageError(`${flag}: missing value`);
      }
      i++;
      return value;
    };
    switch (flag) {
      case '--n':
        options.n = numberFlag(flag, takeValue(), (v) => isInt(v) && v >= 2, 'an integer >= 2');
        break;
      case '--sd':
        options.sd = numberFlag(flag, takeValue(), (v) => v >= 0, 'a number >= 0');
        break;
      case '--per-essay':
        options.perEssay = numberFlag(flag, takeValue(), (v) => v > 0, 'a number > 0');
        break;
      case '--budget':
        options.budget = numberFlag(
          flag,
          takeValue(),
          (v) => isInt(v) && v >= 1,
          'an integer >= 1',
        );
        break;
      case '--strategy': {
        const value = takeValue();
        if (value !== 'adaptive' && value !== 'random') {
          throw new UsageError(`--strategy: expected adaptive or random, got "${value}"`);
        }
        options.strategy = value;
        break;
      }
      case '--profile': {
        const value = takeValue();
        if (!(MOCK_PROFILE_NAMES as string[]).includes(value)) {
          throw new UsageError(
            `--profile: unknown profile "${value}" (one of ${MOCK_PROFILE_NAMES.join(', ')})`,
          );
        }
        options.profile = value as MockProfileName;
        break;
      }
      case '--failure-rate':
        options.failureRate = numberFlag(
          flag,
          takeValue(),
          (v) => v >= 0 && v <= 1,
          'a number in [0, 1]',
        );
        break;
      case '--seed':
        options.seed = numberFlag(flag, takeValue(), (v) => isInt(v) && v >= 0, 'an integer >= 0');
        break;
      case '--runs':
        options.runs = numberFlag(flag, takeValue(), (v) => isInt(v) && v >= 1, 'an integer >= 1');
        break;
      case '--set': {
        const [name, value] = parseConfigAssignment(takeValue());
        options.overrides[name] = value;
        break;
      }
      case '--json':
        options.json = true;
        break;
      default:
        throw new UsageError(`unknown flag "${flag}"`);
    }
  }
  if (options.n === undefined) throw new UsageError('--n: required');
  if (options.perEssay !== undefined && options.budget !== undefined) {
    throw new UsageError('--per-essay and --budget: give at most one');
  }
  return {
    sd: DEFAULT_SIMULATION_SD,
    profile: 'default',
    seed: 1,
    runs: 1,
    ...options,
    n: options.n,
    json: options.json ?? false,
  };
}

export function runCli(options: CliOptions): {
  runs: SimulationRun[];
  summary: ReturnType<typeof summarizeRuns>;
} {
  const config = resolveConfig({
    ...options.overrides,
    ...(options.strategy ? { PAIRING_STRATEGY: options.strategy } : {}),
  });
  const budget =
    options.budget ??
    (options.perEssay === undefined ? undefined : Math.ceil((options.perEssay * options.n) / 2));
  const runs: SimulationRun[] = [];
  for (let i = 0; i < options.runs; i++) {
    const result = simulateBatch({
      n: options.n,
      config,
      seed: options.seed + i,
      sd: options.sd,
      profile: options.profile,
      ...(budget === undefined ? {} : { budget }),
      ...(options.failureRate === undefined ? {} : { failureRate: options.failureRate }),
    });
    runs.push(result.run);
  }
  return { runs, summary: summarizeRuns(runs) };
}

function main(argv: readonly string[]): number {
  let options: CliOptions;
  try {
    options = parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      const field = error instanceof ConfigError ? `--set ${error.field}: ` : '';
      process.stderr.write(`sim: ${field}${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const output = runCli(options);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(output)}\n`);
  } else {
    for (const run of output.runs) {
      process.stdout.write(
        `${run.status}${run.failure_reason ? ` (${run.failure_reason})` : ''} comparisons=${run.comparisons} spearman=${run.spearman?.toFixed(3)} true_r2=${run.true_r2?.toFixed(3)} split_half=${run.split_half?.toFixed(3)} ssr=${run.ssr?.toFixed(3)}\n`,
      );
    }
    process.stdout.write(`summary ${JSON.stringify(output.summary)}\n`);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
