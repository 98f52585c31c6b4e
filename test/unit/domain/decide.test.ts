import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import * as batchState from '#domain/batch-state.ts';
import { type Decision, type DecisionSnapshot, decide, type WavePair } from '#domain/decide.ts';
import { checkWorkflowContinuation } from '#domain/gate.ts';
import { pairKey, type WavePlanRequest } from '#domain/pairing.ts';
import type { ComparisonRecord, PlannedPair } from '#domain/types.ts';
import { maxAppearances } from '#domain/wave-sizing.ts';
import {
  countersOf,
  fullCoverage,
  makeComparison,
  makeConfig,
  makeSnapshot,
} from '#test/helpers/domain-factories.ts';

// Passthrough spies: lets a test prove that every completion check goes through this module.
vi.mock('#domain/batch-state.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('#domain/batch-state.ts')>();
  return { ...actual, completionProgress: vi.fn(actual.completionProgress) };
});

function pairsOf(decision: Decision): WavePair[] {
  return decision.type === 'REQUEST_MORE_COMPARISONS' || decision.type === 'RESAMPLE'
    ? decision.pairs
    : [];
}

function expectEachEssayOnce(pairs: readonly PlannedPair[]) {
  const essays = pairs.flatMap((p) => [p.a, p.b]);
  expect(new Set(essays).size).toBe(essays.length);
}

/** Each essay at most `rounds` times and each pair at most once in one wave. */
function expectWaveShape(pairs: readonly PlannedPair[], rounds: number) {
  expect(maxAppearances(pairs)).toBeLessThanOrEqual(rounds);
  expect(new Set(pairs.map((p) => pairKey(p.a, p.b))).size).toBe(pairs.length);
}

/** The one-appearance-per-wave rule: one matching per wave. */
const ONE_MATCHING = { WAVE_MAX_APPEARANCES_PER_ESSAY: 1 } as const;

describe('decide: wave sizing', () => {
  /** One judged pair of 20 essays: the batch has a success, so waves may have several rounds. */
  const judged = [makeComparison({ a: 0, b: 1 })];
  /** Growth that never binds, for the tests of the other limits. */
  const GROW = { WAVE_GROWTH_FACTOR: 1000 } as const;

  it('plans one matching while the batch has no success (a failing judge spends no more than before)', () => {
    // Prepare
    const failed = [makeComparison({ a: 0, b: 1, status: 'FAILED', winner: undefined })];
    // Act
    const first = pairsOf(decide(makeSnapshot({ essayCount: 20 })));
    const afterFailure = pairsOf(decide(makeSnapshot({ essayCount: 20, comparisons: failed })));
    // Assess
    expect(first).toHaveLength(10);
    expectEachEssayOnce(first);
    expectEachEssayOnce(afterFailure);
  });

  it('grows a wave to at most WAVE_GROWTH_FACTOR times the successes so far', () => {
    // Prepare: 12 successes among 20 essays; every essay in every round, so a round is 10 pairs
    const twelve = Array.from({ length: 12 }, (_, i) => makeComparison({ a: i, b: (i + 7) % 20 }));
    const snapshot = (factor: number) =>
      makeSnapshot({
        essayCount: 20,
        comparisons: twelve,
        config: makeConfig({ WAVE_GROWTH_FACTOR: factor, PAIRING_FOCUS_FRACTION: 1 }),
      });
    // Act
    const half = pairsOf(decide(snapshot(0.5)));
    const double = pairsOf(decide(snapshot(2)));
    // Assess: a round holds up to 10 pairs; 6 needs one round, 24 needs three
    expect(maxAppearances(half)).toBe(1);
    expect(double.length).toBeGreaterThanOrEqual(24);
    expect(maxAppearances(double)).toBe(3);
  });

  it('plans rounds until the wave holds WAVE_MIN_COMPARISONS, each essay at most WAVE_MAX_APPEARANCES_PER_ESSAY times', () => {
    // Prepare
    const config = makeConfig({
      ...GROW,
      WAVE_MIN_COMPARISONS: 25,
      WAVE_MAX_APPEARANCES_PER_ESSAY: 4,
    });
    const snapshot = makeSnapshot({ essayCount: 20, comparisons: judged, config });
    // Act
    const decision = decide(snapshot);
    // Assess: up to 10 pairs a round, so a third round reaches 25 and a fourth is not planned
    const pairs = pairsOf(decision);
    expect(pairs.length).toBeGreaterThanOrEqual(25);
    expect(pairs.length).toBeLessThanOrEqual(30);
    expect(maxAppearances(pairs)).toBe(3);
    expectWaveShape(pairs, 3);
    expect(pairs.every((p) => p.kind === 'coverage' && p.attempt === 1)).toBe(true);
  });

  it('stops at WAVE_MAX_APPEARANCES_PER_ESSAY rounds when the wave is still small', () => {
    // Prepare
    const config = makeConfig({
      ...GROW,
      WAVE_MIN_COMPARISONS: 1000,
      WAVE_MAX_APPEARANCES_PER_ESSAY: 2,
    });
    const snapshot = makeSnapshot({ essayCount: 20, comparisons: judged, config });
    // Act
    const pairs = pairsOf(decide(snapshot));
    // Assess
    expect(pairs.length).toBeGreaterThan(10);
    expect(pairs.length).toBeLessThanOrEqual(20);
    expectWaveShape(pairs, 2);
  });

  it('later rounds plan with the wave so far counted as information, so the focus moves on', () => {
    // Prepare: 40 verdicts among 20 essays (essay i beats j when i < j), adaptive pairing past its
    // exploration phase, four rounds of the focused 12 essays wanted
    const history = Array.from({ length: 40 }, (_, k) => {
      const a = k % 20;
      const b = (a + 1 + Math.floor(k / 20) * 3) % 20;
      return makeComparison({ a, b, winner: a < b ? 'A' : 'B' });
    });
    const snapshot = (weight: number) =>
      makeSnapshot({
        essayCount: 20,
        comparisons: history,
        config: makeConfig({
          ...GROW,
          WAVE_MIN_COMPARISONS: 24,
          WAVE_MAX_APPEARANCES_PER_ESSAY: 4,
          PAIRING_EXPLORATION_COMPARISONS_PER_ESSAY: 0,
          WAVE_PENDING_INFORMATION: weight,
        }),
      });
    const essaysIn = (pairs: readonly PlannedPair[]) =>
      new Set(pairs.flatMap((p) => [p.a, p.b])).size;
    // Act
    const sameSe = pairsOf(decide(snapshot(0)));
    const pendingAware = pairsOf(decide(snapshot(1)));
    // Assess: without it every round focuses on the same 12 essays; with it later rounds reach others
    expect(maxAppearances(sameSe)).toBeGreaterThanOrEqual(3);
    expect(maxAppearances(pendingAware)).toBeGreaterThanOrEqual(3);
    expect(essaysIn(sameSe)).toBe(12);
    expect(essaysIn(pendingAware)).toBeGreaterThan(12);
    expectWaveShape(pendingAware, 4);
  });

  it('plans one matching when one round already holds WAVE_MIN_COMPARISONS (large batches as before)', () => {
    // Prepare
    const config = makeConfig({ ...GROW, WAVE_MIN_COMPARISONS: 9 });
    const snapshot = makeSnapshot({ essayCount: 20, comparisons: judged, config });
    // Act
    const pairs = pairsOf(decide(snapshot));
    // Assess
    expect(pairs.length).toBeGreaterThanOrEqual(9);
    expectEachEssayOnce(pairs);
  });

  it('never plans beyond the remaining budget, however many rounds are allowed', () => {
    // Prepare
    const snapshot = makeSnapshot({
      essayCount: 20,
      comparisons: judged,
      totalBudget: 14,
      config: makeConfig(GROW),
    });
    // Act
    const pairs = pairsOf(decide(snapshot));
    // Assess
    expect(pairs).toHaveLength(13);
    expectWaveShape(pairs, 2);
  });

  it('adds coverage rounds after a round of retries, never repeating a pair of the wave', () => {
    // Prepare: pair (0, 1) failed once and may be retried
    const comparisons = [
      makeComparison({ a: 0, b: 1, status: 'FAILED', winner: undefined }),
      makeComparison({ a: 2, b: 3 }),
    ];
    const config = makeConfig({ ...GROW, WAVE_MIN_COMPARISONS: 25 });
    const snapshot = makeSnapshot({ essayCount: 20, comparisons, config });
    // Act
    const pairs = pairsOf(decide(snapshot));
    // Assess
    expect(pairs.filter((p) => p.kind === 'retry')).toEqual([
      expect.objectContaining({ attempt: 2 }),
    ]);
    expect(pairs.length).toBeGreaterThanOrEqual(25);
    expectWaveShape(pairs, config.WAVE_MAX_APPEARANCES_PER_ESSAY);
    const coverage = pairs.filter((p) => p.kind === 'coverage');
    expect(coverage.some((p) => pairKey(p.a, p.b) === pairKey(0, 1))).toBe(false);
  });

  it('finishes a resampling pass of a small net in one wave when rounds allow it', () => {
    // Prepare
    const config = makeConfig({
      MIN_RESAMPLING_NET_SIZE: 5,
      MAX_RESAMPLING_PASSES_FOR_SMALL_NET: 3,
      SCORE_STABILITY_THRESHOLD: 0,
      WAVE_MAX_APPEARANCES_PER_ESSAY: 8,
      ...GROW,
    });
    const snapshot = makeSnapshot({ essayCount: 5, comparisons: fullCoverage(5), config });
    // Act
    const decision = decide(snapshot);
    // Assess: all 10 pairs of pass 1, flipped, in one wave
    expect(decision).toMatchObject({ type: 'RESAMPLE', resamplePass: 1 });
    const pairs = pairsOf(decision);
    expect(pairs).toHaveLength(10);
    expectWaveShape(pairs, 8);
    expect(pairs.every((p) => p.a > p.b && p.resamplePass === 1 && p.attempt === 1)).toBe(true);
  });

  it('keeps a planner stub that ignores the history from repeating pairs in a wave', () => {
    // Prepare: the stub returns the same two pairs every round
    const stub = (req: WavePlanRequest): PlannedPair[] =>
      req.kind === 'coverage'
        ? [
            { a: 0, b: 1, kind: 'coverage' },
            { a: 2, b: 3, kind: 'coverage' },
          ]
        : [];
    const snapshot = makeSnapshot({
      essayCount: 6,
      comparisons: [makeComparison({ a: 4, b: 5 })],
      config: makeConfig(GROW),
    });
    let rounds = 0;
    const counting = (req: WavePlanRequest) => {
      if (req.kind === 'coverage') rounds++;
      return stub(req);
    };
    // Act
    const pairs = pairsOf(decide(snapshot, { planWave: counting }));
    // Assess: a second round was asked for and added nothing new
    expect(pairs).toHaveLength(2);
    expect(rounds).toBe(2);
  });
});

describe('decide: when nothing may happen', () => {
  it('waits while callbacks are pending', () => {
    // Prepare
    const comparisons = [makeComparison(), makeComparison({ a: 2, b: 3, status: 'PENDING' })];
    const snapshot = makeSnapshot({ comparisons });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision.type).toBe('WAIT');
    expect(decision.reason).toBe('pending_callbacks');
    expect(decision.scores).toBeNull();
  });

  it('plans nothing for a cancelled batch, whatever its history', () => {
    // Prepare
    const snapshot = makeSnapshot({ comparisons: [makeComparison()], status: 'CANCELLED' });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision).toMatchObject({ type: 'WAIT', reason: 'batch_not_running' });
  });

  it('plans nothing for a finished batch or one still receiving essays', () => {
    // Act
    const finished = decide(makeSnapshot({ status: 'COMPLETE_STABLE' }));
    const notStarted = decide(makeSnapshot({ status: 'PENDING_ESSAYS' }));
    // Assess
    expect(finished).toMatchObject({ type: 'WAIT', reason: 'batch_not_running' });
    expect(notStarted).toMatchObject({ type: 'WAIT', reason: 'batch_not_started' });
  });
});

describe('decide: waves', () => {
  it('plans a first coverage wave with every essay at most once under one matching per wave', () => {
    // Prepare
    const snapshot = makeSnapshot({ essayCount: 9, config: makeConfig(ONE_MATCHING) });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision.type).toBe('REQUEST_MORE_COMPARISONS');
    const pairs = pairsOf(decision);
    expect(pairs).toHaveLength(4);
    expectEachEssayOnce(pairs);
    expect(pairs.every((p) => p.kind === 'coverage' && p.attempt === 1)).toBe(true);
  });

  it('never plans more pairs than the budget has left', () => {
    // Prepare
    const comparisons = [makeComparison({ a: 0, b: 1 }), makeComparison({ a: 2, b: 3 })];
    const snapshot = makeSnapshot({ essayCount: 20, comparisons, totalBudget: 3 });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(pairsOf(decision)).toHaveLength(1);
  });

  it('cuts a planner that overshoots down to the remaining budget', () => {
    // Prepare
    const greedy = (req: WavePlanRequest): PlannedPair[] =>
      req.kind === 'coverage'
        ? Array.from({ length: 10 }, (_, i) => ({ a: 2 * i, b: 2 * i + 1, kind: 'coverage' }))
        : [];
    const snapshot = makeSnapshot({ essayCount: 20, totalBudget: 4 });
    // Act
    const decision = decide(snapshot, { planWave: greedy });
    // Assess
    expect(pairsOf(decision)).toHaveLength(4);
  });

  it('retries a failed pair with its next attempt number', () => {
    // Prepare
    const comparisons = [
      makeComparison({ a: 0, b: 1, status: 'FAILED', winner: undefined, failureKind: 'timeout' }),
      makeComparison({ a: 2, b: 3 }),
    ];
    const snapshot = makeSnapshot({ essayCount: 4, comparisons });
    // Act
    const decision = decide(snapshot);
    // Assess
    const retry = pairsOf(decision).find((p) => p.kind === 'retry');
    expect(retry).toBeDefined();
    expect(pairKey(retry?.a ?? -1, retry?.b ?? -1)).toBe(pairKey(0, 1));
    expect(retry).toMatchObject({ attempt: 2 });
  });

  it('stops retrying a pair after MAX_ATTEMPTS_PER_PAIR failures', () => {
    // Prepare
    const failed = (iteration: number) =>
      makeComparison({ a: 0, b: 1, status: 'FAILED', winner: undefined, iteration });
    const comparisons = [failed(1), failed(2), makeComparison({ a: 2, b: 3, iteration: 2 })];
    const config = makeConfig({ MAX_ATTEMPTS_PER_PAIR: 2 });
    const snapshot = makeSnapshot({ essayCount: 4, comparisons, config });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(pairsOf(decision).some((p) => p.kind === 'retry')).toBe(false);
  });

  it('resamples a small net after full coverage, flipping orientation, as pass 1', () => {
    // Prepare
    const config = makeConfig({
      MIN_RESAMPLING_NET_SIZE: 5,
      MAX_RESAMPLING_PASSES_FOR_SMALL_NET: 3,
      SCORE_STABILITY_THRESHOLD: 0,
      ...ONE_MATCHING,
    });
    const comparisons = fullCoverage(5);
    const snapshot = makeSnapshot({ essayCount: 5, comparisons, config });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision).toMatchObject({ type: 'RESAMPLE', resamplePass: 1, resamplingPassCount: 1 });
    const pairs = pairsOf(decision);
    expect(pairs.length).toBeGreaterThan(0);
    expectEachEssayOnce(pairs);
    // fullCoverage shows the lower index first; a flipped resample shows it second.
    expect(pairs.every((p) => p.a > p.b && p.kind === 'resample' && p.resamplePass === 1)).toBe(
      true,
    );
  });

  it('moves to the next pass once a pass has judged every pair', () => {
    // Prepare
    const config = makeConfig({
      MIN_RESAMPLING_NET_SIZE: 5,
      MAX_RESAMPLING_PASSES_FOR_SMALL_NET: 3,
      SCORE_STABILITY_THRESHOLD: 0,
    });
    const pass1 = fullCoverage(5, 2).map((c) => ({
      ...c,
      a: c.b,
      b: c.a,
      winner: 'B' as const,
      kind: 'resample' as const,
      resamplePass: 1,
    }));
    const comparisons = [...fullCoverage(5), ...pass1];
    const snapshot = makeSnapshot({ essayCount: 5, comparisons, config, resamplingPassCount: 1 });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision).toMatchObject({ type: 'RESAMPLE', resamplePass: 2, resamplingPassCount: 2 });
  });
  it('re-asks a failed resample within its pass with the next attempt number', () => {
    // Prepare
    const config = makeConfig({
      MIN_RESAMPLING_NET_SIZE: 3,
      MAX_RESAMPLING_PASSES_FOR_SMALL_NET: 2,
      SCORE_STABILITY_THRESHOLD: 0,
    });
    const settledInPass1 = (a: number, b: number) =>
      makeComparison({ a, b, kind: 'resample', resamplePass: 1, iteration: 2 });
    const comparisons: ComparisonRecord[] = [
      ...fullCoverage(3),
      settledInPass1(2, 0),
      settledInPass1(2, 1),
      makeComparison({
        a: 1,
        b: 0,
        status: 'FAILED',
        winner: undefined,
        kind: 'resample',
        resamplePass: 1,
        iteration: 2,
      }),
    ];
    const snapshot = makeSnapshot({ essayCount: 3, comparisons, config, resamplingPassCount: 1 });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision).toMatchObject({ type: 'RESAMPLE', resamplePass: 1, resamplingPassCount: 1 });
    const again = pairsOf(decision).find((p) => pairKey(p.a, p.b) === pairKey(0, 1));
    expect(again).toMatchObject({ attempt: 2, resamplePass: 1 });
  });

  it('never resamples a net larger than MIN_RESAMPLING_NET_SIZE', () => {
    // Prepare
    const config = makeConfig({ MIN_RESAMPLING_NET_SIZE: 3, SCORE_STABILITY_THRESHOLD: 0 });
    const snapshot = makeSnapshot({ essayCount: 4, comparisons: fullCoverage(4), config });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision).toMatchObject({ type: 'FINALIZE_SCORING', status: 'COMPLETE_COVERAGE_CAP' });
    expect(decision.resamplingPassCount).toBe(0);
  });
});

describe('decide: finalizing', () => {
  it('finalizes at the coverage cap when a large net has judged every pair', () => {
    // Prepare
    const config = makeConfig({ RESAMPLING_ENABLED: false });
    const snapshot = makeSnapshot({ essayCount: 4, comparisons: fullCoverage(4), config });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision).toMatchObject({
      type: 'FINALIZE_SCORING',
      status: 'COMPLETE_COVERAGE_CAP',
      reason: 'completion_denominator_reached',
    });
    expect(decision.completion.completion_denominator).toBe(6);
    expect(decision.scores).toHaveLength(4);
  });

  it('finalizes with the budget exhausted', () => {
    // Prepare
    const comparisons = fullCoverage(6).slice(0, 8);
    const snapshot = makeSnapshot({ essayCount: 6, comparisons, totalBudget: 8 });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision).toMatchObject({
      type: 'FINALIZE_SCORING',
      status: 'COMPLETE_BUDGET_EXHAUSTED',
      reason: 'budget_exhausted',
    });
  });

  it('finalizes at the iteration cap', () => {
    // Prepare
    const config = makeConfig({ MAX_ITERATIONS: 1 });
    const snapshot = makeSnapshot({ essayCount: 6, comparisons: [makeComparison()], config });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision).toMatchObject({ type: 'FINALIZE_SCORING', reason: 'iteration_cap' });
  });

  it('finalizes instead of asking for a zero-pair wave', () => {
    // Prepare
    const nothing = (): PlannedPair[] => [];
    const snapshot = makeSnapshot({ essayCount: 6, comparisons: [makeComparison()] });
    // Act
    const decision = decide(snapshot, { planWave: nothing });
    // Assess
    expect(decision).toMatchObject({
      type: 'FINALIZE_SCORING',
      status: 'COMPLETE_COVERAGE_CAP',
      reason: 'coverage_exhausted',
    });
  });

  it('finalizes as stable when no score moved since the previous evaluation', () => {
    // Prepare
    const comparisons = [...fullCoverage(5, 1), ...fullCoverage(5, 2)].map((c, i) =>
      i % 3 === 0 ? { ...c, winner: 'B' as const } : c,
    );
    const first = decide(makeSnapshot({ essayCount: 8, comparisons, totalBudget: 500 }));
    const snapshot = makeSnapshot({
      essayCount: 8,
      comparisons,
      totalBudget: 500,
      previousScores: first.scores,
    });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(first.type).toBe('REQUEST_MORE_COMPARISONS');
    expect(decision).toMatchObject({ type: 'FINALIZE_SCORING', status: 'COMPLETE_STABLE' });
  });

  it('does not call a batch stable when its latest wave only failed', () => {
    // Prepare
    const judged = [...fullCoverage(5, 1), ...fullCoverage(5, 2)];
    const failedWave = [
      makeComparison({ a: 0, b: 1, status: 'FAILED', winner: undefined, iteration: 3 }),
    ];
    const comparisons = [...judged, ...failedWave];
    const previous = decide(makeSnapshot({ essayCount: 8, comparisons: judged, totalBudget: 500 }));
    const snapshot = makeSnapshot({
      essayCount: 8,
      comparisons,
      totalBudget: 500,
      previousScores: previous.scores,
    });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision.type).toBe('REQUEST_MORE_COMPARISONS');
  });

  it('does not assess stability before MIN_COMPARISONS_FOR_STABILITY_CHECK successes', () => {
    // Prepare
    const comparisons = fullCoverage(5);
    const config = makeConfig({ MIN_COMPARISONS_FOR_STABILITY_CHECK: 11 });
    const previous = decide(makeSnapshot({ essayCount: 8, comparisons, config, totalBudget: 500 }));
    const snapshot = makeSnapshot({
      essayCount: 8,
      comparisons,
      config,
      totalBudget: 500,
      previousScores: previous.scores,
    });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision.type).toBe('REQUEST_MORE_COMPARISONS');
  });

  it('does not assess stability before MIN_COMPARISONS_PER_ESSAY_FOR_STABILITY per essay', () => {
    // Prepare: 20 successes over 8 essays is 5 per essay; demand 6
    const judged = [...fullCoverage(5, 1), ...fullCoverage(5, 2)];
    const config = makeConfig({ MIN_COMPARISONS_PER_ESSAY_FOR_STABILITY: 6 });
    const previous = decide(
      makeSnapshot({ essayCount: 8, comparisons: judged, config, totalBudget: 500 }),
    );
    const snapshot = makeSnapshot({
      essayCount: 8,
      comparisons: judged,
      config,
      totalBudget: 500,
      previousScores: previous.scores,
    });
    // Act
    const tooFew = decide(snapshot);
    const enough = decide({
      ...snapshot,
      config: makeConfig({ MIN_COMPARISONS_PER_ESSAY_FOR_STABILITY: 5 }),
    });
    // Assess
    expect(tooFew.type).toBe('REQUEST_MORE_COMPARISONS');
    expect(enough).toMatchObject({ type: 'FINALIZE_SCORING', status: 'COMPLETE_STABLE' });
  });

  it('fails with no_successful_comparisons when every attempt failed', () => {
    // Prepare
    const comparisons = [
      makeComparison({ status: 'FAILED', winner: undefined, failureKind: 'rate_limited' }),
    ];
    const snapshot = makeSnapshot({ essayCount: 2, comparisons, totalBudget: 1 });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision).toMatchObject({
      type: 'FINALIZE_FAILURE',
      failureReason: 'no_successful_comparisons',
    });
    expect(decision.scores).toBeNull();
  });

  it('gives up on a judge that failed every call for MAX_WAVES_WITHOUT_SUCCESS waves', () => {
    // Prepare
    const comparisons = [1, 2, 3].map((iteration) =>
      makeComparison({ a: 0, b: iteration, status: 'FAILED', winner: undefined, iteration }),
    );
    const snapshot = makeSnapshot({ essayCount: 20, comparisons, totalBudget: 1000 });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision).toMatchObject({
      type: 'FINALIZE_FAILURE',
      failureReason: 'no_successful_comparisons',
      reason: 'no_success_after_max_waves; no successful comparisons',
    });
  });

  it('fails with low_success_rate when it would finalize below MIN_SUCCESS_RATE', () => {
    // Prepare
    const comparisons: ComparisonRecord[] = [
      ...fullCoverage(4),
      ...fullCoverage(4, 2).map((c) => ({ ...c, status: 'FAILED' as const, winner: undefined })),
    ];
    const config = makeConfig({ RESAMPLING_ENABLED: false });
    const snapshot = makeSnapshot({ essayCount: 4, comparisons, config, totalBudget: 12 });
    // Act
    const decision = decide(snapshot);
    // Assess
    expect(decision).toMatchObject({ type: 'FINALIZE_FAILURE', failureReason: 'low_success_rate' });
  });

  it('finalizes a batch with fewer than two essays as a failure', () => {
    // Act
    const decision = decide(makeSnapshot({ essayCount: 1 }));
    // Assess
    expect(decision).toMatchObject({
      type: 'FINALIZE_FAILURE',
      failureReason: 'no_plannable_pairs',
    });
  });
});

describe('the completion denominator is the only completion math', () => {
  it('is what both the gate and the decision use, through completionProgress', () => {
    // Prepare
    const progress = vi.mocked(batchState.completionProgress);
    const config = makeConfig({ RESAMPLING_ENABLED: false });
    const comparisons = fullCoverage(4);
    const counters = countersOf(comparisons);
    const expected = batchState.completionDenominator({ essayCount: 4, totalBudget: 120, config });
    progress.mockClear();
    // Act
    const gate = checkWorkflowContinuation({
      batchId: 'b',
      counters,
      essayCount: 4,
      totalBudget: 120,
      config,
    });
    const afterGate = progress.mock.calls.length;
    const decision = decide(makeSnapshot({ essayCount: 4, comparisons, config }));
    // Assess
    expect(afterGate).toBe(1);
    expect(progress).toHaveBeenCalledTimes(2);
    expect(gate.log.completion_denominator).toBe(expected);
    expect(decision.completion.completion_denominator).toBe(expected);
  });
});

/** A random history: each comparison of a random pair ends COMPLETED, FAILED or PENDING. */
const historyArbitrary = fc
  .integer({ min: 2, max: 12 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      comparisons: fc.array(
        fc.record({
          a: fc.integer({ min: 0, max: n - 1 }),
          offset: fc.integer({ min: 1, max: n - 1 }),
          status: fc.constantFrom('COMPLETED', 'FAILED', 'PENDING'),
          winner: fc.constantFrom('A', 'B'),
          iteration: fc.integer({ min: 1, max: 6 }),
        }),
        { maxLength: 60 },
      ),
    }),
  )
  .map(({ n, comparisons }) => ({
    n,
    comparisons: comparisons.map(
      (c): ComparisonRecord => ({
        a: c.a,
        b: (c.a + c.offset) % n,
        status: c.status as ComparisonRecord['status'],
        ...(c.status === 'COMPLETED' ? { winner: c.winner as 'A' | 'B' } : {}),
        kind: 'coverage',
        iteration: c.iteration,
      }),
    ),
  }));

describe('decide: properties', () => {
  it('never finalizes or plans while a callback is pending', () => {
    fc.assert(
      fc.property(
        historyArbitrary,
        fc.integer({ min: 1, max: 500 }),
        ({ n, comparisons }, extra) => {
          // Prepare
          const pending = makeComparison({ a: 0, b: 1, status: 'PENDING', winner: undefined });
          const history = [...comparisons, pending];
          const snapshot: DecisionSnapshot = makeSnapshot({
            essayCount: n,
            comparisons: history,
            totalBudget: history.length + extra,
          });
          // Act
          const decision = decide(snapshot);
          // Assess
          expect(decision.type).toBe('WAIT');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('with every callback in: never a zero-pair wave, never beyond the budget, never a success without successes', () => {
    fc.assert(
      fc.property(
        historyArbitrary,
        fc.integer({ min: 0, max: 40 }),
        fc.boolean(),
        ({ n, comparisons }, extra, resampling) => {
          // Prepare
          const settled = comparisons.filter((c) => c.status !== 'PENDING');
          const config = makeConfig({ RESAMPLING_ENABLED: resampling, MIN_RESAMPLING_NET_SIZE: 6 });
          const snapshot = makeSnapshot({
            essayCount: n,
            comparisons: settled,
            totalBudget: settled.length + extra,
            config,
          });
          // Act
          const decision = decide(snapshot);
          // Assess
          expect(decision.type).not.toBe('WAIT');
          if (decision.type === 'REQUEST_MORE_COMPARISONS' || decision.type === 'RESAMPLE') {
            expect(decision.pairs.length).toBeGreaterThan(0);
            expect(decision.pairs.length).toBeLessThanOrEqual(extra);
            expectWaveShape(decision.pairs, config.WAVE_MAX_APPEARANCES_PER_ESSAY);
          }
          const { completed_comparisons: completed, failed_comparisons: failed } =
            countersOf(settled);
          if (decision.type === 'FINALIZE_SCORING') {
            expect(completed).toBeGreaterThan(0);
            expect(completed / (completed + failed)).toBeGreaterThanOrEqual(
              config.MIN_SUCCESS_RATE,
            );
          }
          if (extra === 0) expect(decision.type).toMatch(/^FINALIZE_/);
        },
      ),
      { numRuns: 150 },
    );
  });
});
