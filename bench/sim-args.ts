/**
 * The `npm run sim` flags (docs/engine-rules.md, "Simulator") → the simulator's options, through the
 * CLI's flag parser. Every error names the flag (UsageError) or the config name (ConfigError).
 */
import {
  booleanFlag,
  checkedNumberFlag,
  choiceFlag,
  type FlagSpecs,
  type ParsedArgs,
  parseArgs,
  stringFlag,
  stringListFlag,
} from '#cli/args.ts';
import { UsageError } from '#cli/errors.ts';
import { DEFAULT_CONFIG, parseConfigAssignment } from '#domain/config.ts';
import { MOCK_PROFILE_NAMES } from '#domain/mock-judge.ts';
import { parseLatency } from '#domain/sim-clock.ts';
import {
  DEFAULT_SIMULATION_SD,
  type SimulatedTime,
  type SimulationsOptions,
} from '#domain/simulator.ts';

export type SimulatorCliOptions = SimulationsOptions & { json: boolean };

export const SIM_FLAGS: FlagSpecs = {
  n: { type: 'number', valueName: 'N', description: 'essays per batch (required)' },
  sd: { type: 'number', valueName: 'S', description: 'SD of the true qualities, in logits' },
  'per-essay': { type: 'number', valueName: 'K', description: 'budget ceil(K·n/2)' },
  budget: { type: 'number', valueName: 'B', description: 'budget in comparisons' },
  strategy: { type: 'string', valueName: 'adaptive|random', description: 'pairing strategy' },
  profile: { type: 'string', valueName: 'NAME', description: 'mock judge profile' },
  'failure-rate': { type: 'number', valueName: 'F', description: 'mock judge failure rate' },
  'judge-latency': {
    type: 'string',
    valueName: 'lognormal:MEDIAN:P99|fixed:S',
    description: 'simulated judge latency in seconds (default: the profile latency)',
  },
  'drop-rate': { type: 'number', valueName: 'F', description: 'share of callbacks lost' },
  'judge-concurrency': { type: 'number', valueName: 'C', description: 'judge calls in flight' },
  'sweeper-period-s': { type: 'number', valueName: 'S', description: 'seconds between sweeps' },
  'step-s': { type: 'number', valueName: 'S', description: 'seconds per continuation step' },
  'mock-position-bias': {
    type: 'number',
    valueName: 'B',
    description: 'logit bonus of the essay shown first (the order effect to recover)',
  },
  'judge-both-orders': {
    type: 'boolean',
    description: 'judge every comparison in both orders (two calls each)',
  },
  anchors: { type: 'number', valueName: 'K', description: 'anchors per grade (with --grades)' },
  grades: { type: 'number', valueName: 'G', description: 'grades on the scale (with --anchors)' },
  seed: { type: 'number', valueName: 'X', description: 'seed of run 0 (run i uses X+i)' },
  runs: { type: 'number', valueName: 'R', description: 'batches to simulate' },
  set: { type: 'string', multiple: true, valueName: 'NAME=VALUE', description: 'config override' },
  json: { type: 'boolean', description: 'print one JSON object' },
};

const isInt = (value: number) => Number.isInteger(value);

export function parseSimulatorArgs(argv: readonly string[]): SimulatorCliOptions {
  const args = parseArgs(argv, SIM_FLAGS);
  const [extra] = args.positionals;
  if (extra !== undefined) throw new UsageError(extra, 'unexpected argument');
  const n = checkedNumberFlag(args, 'n', (v) => isInt(v) && v >= 2, 'an integer >= 2');
  if (n === undefined) throw new UsageError('--n', 'required');
  const perEssay = checkedNumberFlag(args, 'per-essay', (v) => v > 0, 'a number > 0');
  const budget = checkedNumberFlag(args, 'budget', (v) => isInt(v) && v >= 1, 'an integer >= 1');
  if (perEssay !== undefined && budget !== undefined) {
    throw new UsageError('--per-essay and --budget', 'give at most one');
  }
  const strategy = choiceFlag(args, 'strategy', ['adaptive', 'random'] as const);
  const failureRate = checkedNumberFlag(
    args,
    'failure-rate',
    (v) => v >= 0 && v <= 1,
    'a number in [0, 1]',
  );
  const time = parseSimulatedTime(args);
  const positionBias = checkedNumberFlag(
    args,
    'mock-position-bias',
    (v) => v >= -10 && v <= 10,
    'a number in [-10, 10]',
  );
  const anchors = checkedNumberFlag(args, 'anchors', (v) => isInt(v) && v >= 1, 'an integer >= 1');
  const grades = checkedNumberFlag(
    args,
    'grades',
    (v) => isInt(v) && v >= 2 && v <= DEFAULT_CONFIG.MAX_GRADES,
    `an integer in 2..${DEFAULT_CONFIG.MAX_GRADES}`,
  );
  if ((anchors === undefined) !== (grades === undefined)) {
    throw new UsageError('--anchors and --grades', 'give both or neither');
  }
  const overrides: Record<string, unknown> = {};
  for (const assignment of stringListFlag(args, 'set')) {
    const [name, value] = parseConfigAssignment(assignment);
    overrides[name] = value;
  }
  return {
    n,
    sd: checkedNumberFlag(args, 'sd', (v) => v >= 0, 'a number >= 0') ?? DEFAULT_SIMULATION_SD,
    ...(perEssay === undefined ? {} : { perEssay }),
    ...(budget === undefined ? {} : { budget }),
    ...(strategy === undefined ? {} : { strategy }),
    profile: choiceFlag(args, 'profile', MOCK_PROFILE_NAMES) ?? 'default',
    ...(failureRate === undefined ? {} : { failureRate }),
    ...(Object.keys(time).length === 0 ? {} : { time }),
    ...(positionBias === undefined ? {} : { positionBias }),
    ...(booleanFlag(args, 'judge-both-orders') ? { judgeBothOrders: true } : {}),
    ...(anchors === undefined ? {} : { anchors }),
    ...(grades === undefined ? {} : { grades }),
    seed: checkedNumberFlag(args, 'seed', (v) => isInt(v) && v >= 0, 'an integer >= 0') ?? 1,
    runs: checkedNumberFlag(args, 'runs', (v) => isInt(v) && v >= 1, 'an integer >= 1') ?? 1,
    overrides,
    json: booleanFlag(args, 'json'),
  };
}

/** The simulated-time flags (docs/engine-rules.md, "Simulator"); absent flags keep the defaults. */
function parseSimulatedTime(args: ParsedArgs): SimulatedTime {
  const spec = stringFlag(args, 'judge-latency');
  let latency: SimulatedTime['latency'];
  if (typeof spec === 'string') {
    try {
      latency = parseLatency(spec);
    } catch (error) {
      throw new UsageError('--judge-latency', (error as Error).message);
    }
  }
  const lossRate = checkedNumberFlag(
    args,
    'drop-rate',
    (v) => v >= 0 && v <= 1,
    'a number in [0, 1]',
  );
  const concurrency = checkedNumberFlag(
    args,
    'judge-concurrency',
    (v) => isInt(v) && v >= 1,
    'an integer >= 1',
  );
  const sweeper = checkedNumberFlag(args, 'sweeper-period-s', (v) => v > 0, 'a number > 0');
  const step = checkedNumberFlag(args, 'step-s', (v) => v >= 0, 'a number >= 0');
  return {
    ...(latency === undefined ? {} : { latency }),
    ...(lossRate === undefined ? {} : { lossRate }),
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(sweeper === undefined ? {} : { sweeperPeriodSeconds: sweeper }),
    ...(step === undefined ? {} : { stepSeconds: step }),
  };
}
