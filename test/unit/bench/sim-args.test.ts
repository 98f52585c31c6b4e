import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseSimulatorArgs } from '#bench/sim-args.ts';
import { UsageError } from '#cli/errors.ts';
import { ConfigError } from '#domain/config.ts';
import { runSimulations } from '#domain/simulator.ts';

const RUN_KEYS = [
  'status',
  'failure_reason',
  'comparisons',
  'completed',
  'failed',
  'resampling_pass_count',
  'completion_denominator',
  'decisions',
  'spearman',
  'kendall',
  'ssr',
  'split_half',
  'true_r2',
  'waves',
  'simulated_wall_s',
  'timed_out',
  'eap_reliability',
  'coverage',
  'order_effect',
  'order_effect_se',
  'grades',
];

/** Parses the flags and returns the error it raised (undefined when none). */
function parseError(args: string[]): Error | undefined {
  try {
    parseSimulatorArgs(args);
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

describe('parseSimulatorArgs', () => {
  it('reads every flag of the contract', () => {
    // Act
    const options = parseSimulatorArgs([
      '--n',
      '40',
      '--sd',
      '1.5',
      '--per-essay',
      '10',
      '--strategy',
      'random',
      '--profile',
      'flaky_half',
      '--failure-rate',
      '0.25',
      '--seed',
      '9',
      '--runs',
      '3',
      '--set',
      'MIN_RESAMPLING_NET_SIZE=5',
      '--json',
    ]);
    // Assess
    expect(options).toEqual({
      n: 40,
      sd: 1.5,
      perEssay: 10,
      strategy: 'random',
      profile: 'flaky_half',
      failureRate: 0.25,
      seed: 9,
      runs: 3,
      overrides: { MIN_RESAMPLING_NET_SIZE: 5 },
      json: true,
    });
  });

  it.each([
    [['--n', '1'], '--n'],
    [['--n', '5', '--sd', 'x'], '--sd'],
    [['--n', '5', '--per-essay', '3', '--budget', '9'], '--per-essay and --budget'],
    [['--n', '5', '--budget', '2.5'], '--budget'],
    [['--n', '5', '--strategy', 'greedy'], '--strategy'],
    [['--n', '5', '--profile', 'nope'], '--profile'],
    [['--n', '5', '--failure-rate', '2'], '--failure-rate'],
    [['--n', '5', '--runs', '0'], '--runs'],
    [['--n', '5', '--seed'], '--seed'],
    [['--n', '5', '--mock-position-bias', '11'], '--mock-position-bias'],
    [['--n', '5', '--anchors', '0', '--grades', '4'], '--anchors'],
    [['--n', '5', '--anchors', '2', '--grades', '1'], '--grades'],
    [['--n', '5', '--anchors', '2'], '--anchors and --grades'],
    [['--n', '5', '--frobnicate'], '--frobnicate'],
    [['--json'], '--n'],
    [['--n', '5', '--judge-latency', 'lognormal:3'], '--judge-latency'],
    [['--n', '5', '--judge-latency', 'lognormal:30:3'], '--judge-latency'],
    [['--n', '5', '--judge-latency', 'gamma:1:2'], '--judge-latency'],
    [['--n', '5', '--drop-rate', '1.5'], '--drop-rate'],
    [['--n', '5', '--judge-concurrency', '0'], '--judge-concurrency'],
    [['--n', '5', '--sweeper-period-s', '0'], '--sweeper-period-s'],
    [['--n', '5', '--step-s', '-1'], '--step-s'],
  ])('rejects %j naming %s', (args, named) => {
    // Act
    const error = parseError(args);
    // Assess
    expect(error).toBeInstanceOf(UsageError);
    expect(error?.message).toContain(named);
  });

  it('reads the simulated-time flags of the issue command', () => {
    // Act
    const options = parseSimulatorArgs([
      '--n',
      '20',
      '--budget',
      '100',
      '--judge-latency',
      'lognormal:3:30',
      '--drop-rate',
      '0.2',
      '--judge-concurrency',
      '10',
      '--sweeper-period-s',
      '30',
      '--step-s',
      '0.5',
      '--set',
      'COMPARISON_DEADLINE_SECONDS=60',
    ]);
    // Assess
    expect(options.time).toEqual({
      latency: { kind: 'lognormal', median: 3, p99: 30 },
      lossRate: 0.2,
      concurrency: 10,
      sweeperPeriodSeconds: 30,
      stepSeconds: 0.5,
    });
    expect(options.overrides).toEqual({ COMPARISON_DEADLINE_SECONDS: 60 });
    expect(parseSimulatorArgs(['--n', '5', '--judge-latency', 'fixed:2']).time).toEqual({
      latency: { kind: 'fixed', seconds: 2 },
    });
  });

  it.each([
    ['NOT_A_NAME=1', 'NOT_A_NAME'],
    ['MIN_SUCCESS_RATE=7', 'MIN_SUCCESS_RATE'],
    ['RESAMPLING_ENABLED=maybe', 'RESAMPLING_ENABLED'],
  ])('rejects --set %s naming the config field', (assignment, field) => {
    // Act
    const error = parseError(['--n', '5', '--set', assignment]);
    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
  });
});

describe('runSimulations', () => {
  it('runs R batches, run i with seed X+i, and budgets ceil(K·n/2) for --per-essay', () => {
    // Prepare
    const options = parseSimulatorArgs([
      '--n',
      '7',
      '--per-essay',
      '3',
      '--seed',
      '10',
      '--runs',
      '2',
    ]);
    const second = parseSimulatorArgs(['--n', '7', '--per-essay', '3', '--seed', '11']);
    // Act
    const output = runSimulations(options);
    const alone = runSimulations(second);
    // Assess
    expect(output.runs).toHaveLength(2);
    expect(Object.keys(output.runs[0] ?? {}).sort()).toEqual([...RUN_KEYS].sort());
    expect(output.runs.map((r) => r.comparisons)).toEqual([11, 11]);
    expect(output.runs[1]).toEqual(alone.runs[0]);
    expect(output.summary.comparisons).toBe(11);
  });

  it('reads the position-bias, both-orders and grade flags', () => {
    // Act
    const options = parseSimulatorArgs([
      '--n',
      '50',
      '--mock-position-bias',
      '0.5',
      '--judge-both-orders',
      '--anchors',
      '3',
      '--grades',
      '6',
    ]);
    // Assess
    expect(options).toMatchObject({
      positionBias: 0.5,
      judgeBothOrders: true,
      anchors: 3,
      grades: 6,
    });
  });

  it('reports grade agreement with anchors and how the order effect recovered the bias', {
    timeout: 60_000,
  }, () => {
    // Prepare
    const options = parseSimulatorArgs(
      '--n 60 --per-essay 10 --anchors 2 --grades 4 --mock-position-bias 0.8 --runs 2'.split(' '),
    );
    // Act
    const output = runSimulations(options);
    // Assess: 2 anchors of each of 4 grades; the rest graded, far better than chance (1/4).
    const [run] = output.runs;
    expect(run?.grades?.anchors).toBe(8);
    expect(run?.grades?.graded).toBe(52);
    expect(output.grades?.exact).toBeGreaterThan(0.5);
    expect(output.grades?.adjacent).toBeGreaterThan(0.9);
    expect(output.grades?.brier).toBeLessThan(0.6);
    expect(output.order_effect?.injected).toBe(0.8);
    expect(output.order_effect?.median_estimate).toBeGreaterThan(0.4);
    expect(output.order_effect?.median_estimate).toBeLessThan(1.2);
  });

  it('applies --set names, --strategy and --budget', () => {
    // Prepare
    const options = parseSimulatorArgs([
      '--n',
      '5',
      '--profile',
      'eng5_lower5_gpt51_low',
      '--set',
      'MIN_RESAMPLING_NET_SIZE=5',
      '--set',
      'MAX_RESAMPLING_PASSES_FOR_SMALL_NET=3',
      '--set',
      'SCORE_STABILITY_THRESHOLD=0',
      '--strategy',
      'random',
      '--budget',
      '30',
    ]);
    // Act
    const [run] = runSimulations(options).runs;
    // Assess
    expect(run).toMatchObject({ comparisons: 30, completion_denominator: 30 });
  });
});

describe('npm run sim (process)', () => {
  function sim(...args: string[]) {
    return spawnSync(process.execPath, ['--import', 'tsx', 'bench/sim.ts', ...args], {
      encoding: 'utf8',
    });
  }

  it('prints exactly one JSON object on stdout', { timeout: 60_000 }, () => {
    // Act
    const out = sim('--n', '4', '--runs', '2', '--json');
    // Assess
    expect(out.status).toBe(0);
    const parsed = JSON.parse(out.stdout);
    expect(Object.keys(parsed)).toEqual(['runs', 'summary']);
    expect(parsed.runs).toHaveLength(2);
  });

  it('exits non-zero naming a bad config name', { timeout: 60_000 }, () => {
    // Act
    const out = sim('--n', '4', '--set', 'NOT_A_NAME=1', '--json');
    // Assess
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('NOT_A_NAME');
    expect(out.stdout).toBe('');
  });
});
