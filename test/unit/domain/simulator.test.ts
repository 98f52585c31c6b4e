import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkInvariants, pendingCallbacks } from '#domain/batch-state.ts';
import { decide } from '#domain/decide.ts';
import { checkWorkflowContinuation } from '#domain/gate.ts';
import { MOCK_PROFILE_NAMES } from '#domain/mock-judge.ts';
import type { WavePlanRequest } from '#domain/pairing.ts';
import { seededRandom, shuffleInPlace } from '#domain/random.ts';
import { type SimulationEvent, simulateBatch, summarizeRuns } from '#domain/simulator.ts';
import type { ComparisonRecord, Counters, PlannedPair } from '#domain/types.ts';
import { makeConfig } from '#test/helpers/domain-factories.ts';

/** Consecutive duplicates collapsed: the decision path as the log lines show it. */
function path(decisions: readonly string[]): string[] {
  return decisions.filter((d, i) => d !== decisions[i - 1]);
}

describe('the two 5-essay reference scenarios', () => {
  it('resampling off: exactly 10 comparisons, denominator 10, no passes, success', () => {
    // Prepare
    const config = makeConfig({ RESAMPLING_ENABLED: false });
    // Act
    const { run } = simulateBatch({ n: 5, config, seed: 1, profile: 'eng5_lower5_gpt51_low' });
    // Assess
    expect(run).toMatchObject({
      status: 'COMPLETE_COVERAGE_CAP',
      failure_reason: null,
      comparisons: 10,
      completed: 10,
      completion_denominator: 10,
      resampling_pass_count: 0,
    });
    expect(path(run.decisions)).toEqual(['REQUEST_MORE_COMPARISONS', 'FINALIZE_SCORING']);
  });

  it('small net with 3 passes and stability unreachable: 40 comparisons, 3 passes, REQUEST_MORE → RESAMPLE → FINALIZE_SCORING', () => {
    // Prepare
    const config = makeConfig({
      MIN_RESAMPLING_NET_SIZE: 5,
      MAX_RESAMPLING_PASSES_FOR_SMALL_NET: 3,
      SCORE_STABILITY_THRESHOLD: 0,
    });
    // Act
    const { run, history } = simulateBatch({
      n: 5,
      config,
      seed: 1,
      profile: 'eng5_lower5_gpt51_low',
    });
    // Assess
    expect(run).toMatchObject({
      status: 'COMPLETE_COVERAGE_CAP',
      comparisons: 40,
      completed: 40,
      completion_denominator: 40,
      resampling_pass_count: 3,
    });
    expect(path(run.decisions)).toEqual([
      'REQUEST_MORE_COMPARISONS',
      'RESAMPLE',
      'FINALIZE_SCORING',
    ]);
    for (const pass of [1, 2, 3]) {
      expect(history.filter((c) => c.resamplePass === pass)).toHaveLength(10);
    }
  });

  it('keeps the default budget floor out of the way of the 40-comparison scenario', () => {
    // Prepare
    const config = makeConfig({
      MIN_RESAMPLING_NET_SIZE: 5,
      MAX_RESAMPLING_PASSES_FOR_SMALL_NET: 3,
      SCORE_STABILITY_THRESHOLD: 0,
    });
    // Act
    const { run } = simulateBatch({ n: 5, config, seed: 2, budget: 25 });
    // Assess
    expect(run).toMatchObject({
      status: 'COMPLETE_BUDGET_EXHAUSTED',
      comparisons: 25,
      completion_denominator: 25,
    });
  });
});

describe('failure scenarios', () => {
  it('ends FAILED no_successful_comparisons when every call fails', () => {
    // Act
    const { run } = simulateBatch({ n: 12, config: makeConfig(), seed: 3, profile: 'always_fail' });
    // Assess
    expect(run).toMatchObject({
      status: 'FAILED',
      failure_reason: 'no_successful_comparisons',
      completed: 0,
    });
    expect(run.decisions.at(-1)).toBe('FINALIZE_FAILURE');
  });

  it('ends FAILED low_success_rate at 60 % failures', () => {
    // Act
    const { run } = simulateBatch({ n: 20, config: makeConfig(), seed: 4, failureRate: 0.6 });
    // Assess
    expect(run).toMatchObject({ status: 'FAILED', failure_reason: 'low_success_rate' });
    expect(run.completed).toBeGreaterThan(0);
  });

  it('never completes with half of the callbacks failing under the defaults', {
    timeout: 60_000,
  }, () => {
    // Act
    const runs = [5, 6, 7].map(
      (seed) => simulateBatch({ n: 16, config: makeConfig(), seed, profile: 'flaky_half' }).run,
    );
    // Assess
    expect(runs.map((r) => r.status)).toEqual(['FAILED', 'FAILED', 'FAILED']);
  });

  it('retries failed pairs and still completes with a few failures', () => {
    // Act
    const { run, history } = simulateBatch({
      n: 10,
      config: makeConfig({ RESAMPLING_ENABLED: false }),
      seed: 8,
      failureRate: 0.1,
    });
    // Assess
    expect(run.status).toMatch(/^COMPLETE_/);
    expect(history.some((c) => c.kind === 'retry')).toBe(true);
  });
});

describe('simulated ranking', () => {
  // Whole simulated batches: CPU-bound, so a generous timeout on a shared machine.
  it('recovers the true order of well-separated essays', { timeout: 60_000 }, () => {
    // Act
    const { run, report } = simulateBatch({
      n: 30,
      config: makeConfig(),
      seed: 11,
      sd: 3,
      budget: 450,
    });
    // Assess
    expect(run.spearman).toBeGreaterThan(0.9);
    expect(run.true_r2).toBeGreaterThan(0.8);
    expect(report.results).toHaveLength(30);
  });

  it('summarizes runs by the median of each numeric field, skipping missing values', () => {
    // Prepare
    const base = simulateBatch({ n: 4, config: makeConfig(), seed: 1 }).run;
    const runs = [
      { ...base, comparisons: 10, spearman: 0.5 },
      { ...base, comparisons: 30, spearman: null },
      { ...base, comparisons: 20, spearman: 0.7 },
    ];
    // Act
    const summary = summarizeRuns(runs);
    // Assess
    expect(summary.comparisons).toBe(20);
    expect(summary.spearman).toBeCloseTo(0.6, 12);
  });
});

describe('wave checks', () => {
  it('stops on a planner that repeats a covered pair', () => {
    // Prepare
    const repeating = (req: WavePlanRequest): PlannedPair[] =>
      req.kind === 'coverage' ? [{ a: 0, b: 1, kind: 'coverage' }] : [];
    // Act
    const run = () =>
      simulateBatch({
        n: 4,
        config: makeConfig(),
        seed: 1,
        decideDependencies: { planWave: repeating },
      });
    // Assess
    expect(run).toThrow('coverage pair (0, 1) does not fit its kind');
  });

  it('stops on a planner that uses an essay more often than WAVE_MAX_APPEARANCES_PER_ESSAY', () => {
    // Prepare
    const overlapping = (req: WavePlanRequest): PlannedPair[] =>
      req.kind === 'coverage'
        ? [
            { a: 0, b: 1, kind: 'coverage' },
            { a: 1, b: 2, kind: 'coverage' },
          ]
        : [];
    // Act
    const run = () =>
      simulateBatch({
        n: 4,
        config: makeConfig({ WAVE_MAX_APPEARANCES_PER_ESSAY: 1 }),
        seed: 1,
        decideDependencies: { planWave: overlapping },
      });
    // Assess
    expect(run).toThrow('essay 1 in more than 1 pairs of one wave');
  });

  it('stops on a planner that puts one pair twice in a wave', () => {
    // Prepare
    const repeating = (req: WavePlanRequest): PlannedPair[] =>
      req.kind === 'coverage'
        ? [
            { a: 0, b: 1, kind: 'coverage' },
            { a: 1, b: 0, kind: 'coverage' },
          ]
        : [];
    // Act
    const run = () =>
      simulateBatch({
        n: 4,
        config: makeConfig(),
        seed: 1,
        decideDependencies: { planWave: repeating },
      });
    // Assess
    expect(run).toThrow('pair (1, 0) twice in one wave');
  });
});

describe('simulated time', () => {
  it('a wave lasts its slowest callback: fixed latency, nothing lost, unbounded judge', () => {
    // Prepare
    const time = {
      latency: { kind: 'fixed', seconds: 2 } as const,
      concurrency: 1000,
      stepSeconds: 1,
    };
    // Act
    const { run } = simulateBatch({ n: 10, config: makeConfig(), seed: 3, budget: 30, time });
    // Assess: every step 1 s and every wave 2 s, the final step included
    expect(run.waves).toBeGreaterThan(0);
    expect(run.simulated_wall_s).toBeCloseTo(run.waves * 3 + 1, 6);
    expect(run.timed_out).toBe(0);
  });

  it('lost callbacks fail as timeouts at the first sweep after the deadline, and the batch still ends', () => {
    // Prepare
    const config = makeConfig({ COMPARISON_DEADLINE_SECONDS: 60 });
    const time = {
      latency: { kind: 'fixed', seconds: 1 } as const,
      lossRate: 1,
      sweeperPeriodSeconds: 60,
      stepSeconds: 0,
    };
    // Act
    const { run } = simulateBatch({ n: 6, config, seed: 2, time });
    // Assess: every wave waits for its deadline and the next sweep (60-120 s), nothing succeeds
    expect(run).toMatchObject({ status: 'FAILED', failure_reason: 'no_successful_comparisons' });
    expect(run.timed_out).toBe(run.comparisons);
    expect(run.waves).toBe(config.MAX_WAVES_WITHOUT_SUCCESS);
    expect(run.simulated_wall_s).toBeGreaterThan(60 * run.waves);
    expect(run.simulated_wall_s).toBeLessThanOrEqual(120 * run.waves);
  });

  it('the shipped wave sizing needs fewer waves and less simulated time than one matching per wave (n = 20, budget 100)', {
    timeout: 60_000,
  }, () => {
    // Prepare
    const time = { latency: { kind: 'lognormal', median: 3, p99: 30 } as const, lossRate: 0.2 };
    const base = { COMPARISON_DEADLINE_SECONDS: 60 };
    const simulate = (overrides: Record<string, unknown>) =>
      [1, 2, 3, 4, 5].map(
        (seed) =>
          simulateBatch({
            n: 20,
            budget: 100,
            seed,
            time,
            config: makeConfig({ ...base, ...overrides }),
          }).run,
      );
    // Act
    const shipped = summarizeRuns(simulate({}));
    const onePerWave = summarizeRuns(simulate({ WAVE_MAX_APPEARANCES_PER_ESSAY: 1 }));
    // Assess
    expect(shipped.waves as number).toBeLessThan((onePerWave.waves as number) / 2);
    // (the halving itself is a benchmark over many seeds: BENCHMARKS.md, "Wave sizing")
    expect(shipped.simulated_wall_s as number).toBeLessThan(
      0.75 * (onePerWave.simulated_wall_s as number),
    );
    expect(shipped.comparisons).toBe(onePerWave.comparisons);
  });
});

describe('simulator properties', () => {
  it('random runs keep every invariant, never plan an empty wave and never exceed the budget', {
    timeout: 60_000,
  }, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 30 }),
        fc.constantFrom(...MOCK_PROFILE_NAMES),
        fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 6 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        (n, profile, failureRate, budget, seed, adaptive, rounds, lossRate) => {
          // Prepare
          const config = makeConfig({
            PAIRING_STRATEGY: adaptive ? 'adaptive' : 'random',
            MIN_RESAMPLING_NET_SIZE: 6,
            WAVE_MAX_APPEARANCES_PER_ESSAY: rounds,
            COMPARISON_DEADLINE_SECONDS: 60,
          });
          const waveSizes: number[] = [];
          let previous: Counters | null = null;
          const violations: string[] = [];
          const observe = (event: SimulationEvent) => {
            const state = {
              ...event.counters,
              total_comparisons: event.counters.submitted_comparisons,
              total_budget: budget,
            };
            const before = previous && {
              ...previous,
              total_comparisons: previous.submitted_comparisons,
              total_budget: budget,
            };
            violations.push(...checkInvariants(before, state));
            previous = event.counters;
            if (event.type === 'submitted') waveSizes.push(event.waveSize);
          };
          // Act
          const { run } = simulateBatch({
            n,
            config,
            seed,
            profile,
            budget,
            splitHalf: false,
            observe,
            time: { latency: { kind: 'lognormal', median: 3, p99: 30 }, lossRate },
            ...(failureRate === undefined ? {} : { failureRate }),
          });
          // Assess
          expect(violations).toEqual([]);
          expect(waveSizes.every((size) => size > 0 && size <= (rounds * n) / 2)).toBe(true);
          expect(run.waves).toBe(waveSizes.length);
          expect(Number.isFinite(run.simulated_wall_s)).toBe(true);
          expect(run.timed_out).toBeLessThanOrEqual(run.failed);
          expect(run.comparisons).toBeLessThanOrEqual(budget);
          expect(run.comparisons).toBe(run.completed + run.failed);
          if (run.completed === 0) expect(run.status).toBe('FAILED');
          if (run.status !== 'FAILED') {
            expect(run.completed / run.comparisons).toBeGreaterThanOrEqual(config.MIN_SUCCESS_RATE);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('no order of callbacks lets the gate proceed, or the engine finalize, while callbacks are pending', {
    timeout: 60_000,
  }, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 14 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 0, max: 0.7, noNaN: true }),
        (n, seed, failureRate) => {
          // Prepare
          const config = makeConfig();
          const budget = 4 * n;
          const rng = seededRandom(seed);
          const history: ComparisonRecord[] = [];
          const counters: Counters = {
            submitted_comparisons: 0,
            completed_comparisons: 0,
            failed_comparisons: 0,
          };
          let previousScores: Float64Array | null = null;
          let iteration = 0;
          let finalized = false;
          // Act + Assess: deliver each wave's callbacks one by one in a random order, with
          // duplicates; evaluate the gate after every delivery and decide when it says proceed.
          for (let step = 0; step < 200 && !finalized; step++) {
            const decision = decide({
              essayCount: n,
              counters: { ...counters },
              totalBudget: budget,
              currentIteration: iteration,
              resamplingPassCount: 0,
              status: 'RUNNING',
              comparisons: history,
              previousScores,
              config,
              seed,
            });
            if (decision.type === 'FINALIZE_SCORING' || decision.type === 'FINALIZE_FAILURE') {
              expect(pendingCallbacks(counters)).toBe(0);
              finalized = true;
              break;
            }
            expect(decision.type).not.toBe('WAIT');
            if (decision.type === 'WAIT') break;
            previousScores = decision.scores;
            iteration++;
            const wave = decision.pairs.map(
              (p): ComparisonRecord => ({ ...p, status: 'PENDING', iteration }),
            );
            history.push(...wave);
            counters.submitted_comparisons += wave.length;
            const deliveries = shuffleInPlace([...wave, ...wave.filter(() => rng() < 0.3)], rng);
            for (const record of deliveries) {
              if (record.status === 'PENDING') {
                if (rng() < failureRate) {
                  record.status = 'FAILED';
                  counters.failed_comparisons++;
                } else {
                  record.status = 'COMPLETED';
                  record.winner = rng() < 0.5 ? 'A' : 'B';
                  counters.completed_comparisons++;
                }
              }
              const gate = checkWorkflowContinuation({
                batchId: 'b',
                counters,
                essayCount: n,
                totalBudget: budget,
                config,
              });
              const pending = pendingCallbacks(counters);
              expect(gate.proceed).toBe(pending === 0);
              if (pending > 0) {
                const early = decide({
                  essayCount: n,
                  counters: { ...counters },
                  totalBudget: budget,
                  currentIteration: iteration,
                  resamplingPassCount: 0,
                  status: 'RUNNING',
                  comparisons: history,
                  previousScores,
                  config,
                  seed,
                });
                expect(early.type).toBe('WAIT');
              }
            }
          }
          expect(finalized).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});
