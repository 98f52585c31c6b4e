/**
 * The continuation decision (docs/engine-rules.md, "Decisions"): a pure function from a batch snapshot to what happens next.
 *
 * Contract for callers (continuation step, simulator):
 * - call it only after the gate said proceed, or with `submitted == 0` to plan the first wave;
 * - apply the decision, then store `decision.scores` as the next `previousScores` (unless it is
 *   `WAIT`, whose `scores` is null: nothing was evaluated) and `decision.resamplingPassCount` as
 *   the batch's `resampling_pass_count`;
 * - a wave's comparisons get `iteration = currentIteration + 1`, `kind`, `attempt` and
 *   `resamplePass` from the pairs.
 */
import {
  allowedResamplingPasses,
  type CompletionProgress,
  completionProgress,
  pendingCallbacks,
} from '#domain/batch-state.ts';
import type { EngineConfig } from '#domain/config.ts';
import { pairKey, planWave, type WavePlanRequest } from '#domain/pairing.ts';
import type { OrderEffect, PosteriorData, PosteriorFit } from '#domain/posterior.ts';
import { engineFit, successData } from '#domain/prior.ts';
import { hashSeed } from '#domain/random.ts';
import type {
  BatchStatus,
  ComparisonRecord,
  Counters,
  FailureReason,
  PlannedPair,
  SuccessStatus,
} from '#domain/types.ts';
import { extendWave, pendingAwareSe, waveTarget } from '#domain/wave-sizing.ts';

export interface DecisionSnapshot {
  essayCount: number;
  counters: Counters;
  totalBudget: number;
  /** Waves planned so far (0 before the first wave). The latest wave's comparisons carry this iteration. */
  currentIteration: number;
  /** Resampling passes begun so far (see `Decision.resamplingPassCount`). */
  resamplingPassCount: number;
  status: BatchStatus;
  /** The batch's full comparison history, every status. */
  comparisons: readonly ComparisonRecord[];
  /** Scores stored at the previous evaluation (null before the first success). */
  previousScores: Float64Array | null;
  config: EngineConfig;
  /** Seeds the planner so a redelivered continuation plans the same wave. */
  seed: number;
}

/** A pair of the next wave with what its comparison record needs. */
export interface WavePair extends PlannedPair {
  /** 1 for a first attempt, 2.. for retries of a pair whose earlier attempts all failed. */
  attempt: number;
  /** For `kind === 'resample'`: the (1-based) resampling pass. */
  resamplePass?: number;
}

interface DecisionBase {
  /** Machine-readable why, for the `continuation_decision` log line (e.g. `budget_exhausted`). */
  reason: string;
  /**
   * Fresh Bradley–Terry posterior of the successful comparisons (posterior means and SDs; null for
   * WAIT or before any success).
   */
  scores: Float64Array | null;
  se: Float64Array | null;
  /** The fit's order (first-shown) effect, prior variance and EAP reliability (null when not evaluated). */
  orderEffect: OrderEffect | null;
  priorVariance: number | null;
  reliability: number | null;
  /** The completion check this decision was based on (from `completionProgress`). */
  completion: CompletionProgress;
  /** Value to store as `resampling_pass_count` after applying this decision. */
  resamplingPassCount: number;
}

export type Decision =
  | (DecisionBase & { type: 'WAIT' })
  | (DecisionBase & { type: 'REQUEST_MORE_COMPARISONS'; pairs: WavePair[] })
  | (DecisionBase & { type: 'RESAMPLE'; pairs: WavePair[]; resamplePass: number })
  | (DecisionBase & { type: 'FINALIZE_SCORING'; status: SuccessStatus })
  | (DecisionBase & { type: 'FINALIZE_FAILURE'; failureReason: FailureReason });

export type DecisionType = Decision['type'];

/** Seams for tests; production uses the real planner and fitter. */
export interface DecideDependencies {
  planWave?: (request: WavePlanRequest) => PlannedPair[];
  fit?: (data: PosteriorData, config: EngineConfig) => PosteriorFit;
}

/** Largest resampling pass begun so far, from the stored count and the history. */
function passesBegun(snapshot: DecisionSnapshot): number {
  let pass = snapshot.resamplingPassCount;
  for (const c of snapshot.comparisons) {
    if (c.kind === 'resample' && c.resamplePass !== undefined && c.resamplePass > pass) {
      pass = c.resamplePass;
    }
  }
  return pass;
}

function fitSuccesses(
  snapshot: DecisionSnapshot,
  completed: number,
  fitModel: NonNullable<DecideDependencies['fit']>,
): PosteriorFit {
  // One posterior (#domain/prior.ts) steers the planner, checks stability and is reported.
  return fitModel(
    successData(snapshot.essayCount, snapshot.comparisons, completed),
    snapshot.config,
  );
}

/**
 * Stability (docs/engine-rules.md, "Decisions"), judged on successful comparisons only: at least
 * MIN_COMPARISONS_FOR_STABILITY_CHECK successes and MIN_COMPARISONS_PER_ESSAY_FOR_STABILITY per essay
 * (stricter than a bare count of successes: small batches otherwise looked stable after ~2 per essay), the latest wave added at least one success (a wave
 * that only failed leaves the fit unchanged and must not look stable), and every score moved by
 * less than SCORE_STABILITY_THRESHOLD since the previous evaluation.
 */
export function isStable(snapshot: DecisionSnapshot, scores: Float64Array | null): boolean {
  const { previousScores, config, comparisons, counters } = snapshot;
  if (scores === null || previousScores === null || previousScores.length !== scores.length) {
    return false;
  }
  if (counters.completed_comparisons < config.MIN_COMPARISONS_FOR_STABILITY_CHECK) return false;
  const perEssay = (2 * counters.completed_comparisons) / snapshot.essayCount;
  if (perEssay < config.MIN_COMPARISONS_PER_ESSAY_FOR_STABILITY) return false;
  let latestWave = 0;
  for (const c of comparisons) if (c.iteration > latestWave) latestWave = c.iteration;
  const latestWaveSucceeded = comparisons.some(
    (c) => c.iteration === latestWave && c.status === 'COMPLETED',
  );
  if (!latestWaveSucceeded) return false;
  let maxChange = 0;
  for (let i = 0; i < scores.length; i++) {
    maxChange = Math.max(maxChange, Math.abs((scores[i] ?? 0) - (previousScores[i] ?? 0)));
  }
  return maxChange < config.SCORE_STABILITY_THRESHOLD;
}

/** Adds `attempt` (and `resamplePass`) to planned pairs from the history of each pair. */
function withAttempts(
  pairs: PlannedPair[],
  comparisons: readonly ComparisonRecord[],
  resamplePass?: number,
): WavePair[] {
  const needsHistory = pairs.some((p) => p.kind !== 'coverage');
  const prior = new Map<number, number>();
  if (needsHistory) {
    for (const c of comparisons) {
      const countsTowards =
        resamplePass === undefined
          ? c.kind !== 'resample'
          : c.kind === 'resample' && c.resamplePass === resamplePass;
      if (countsTowards) prior.set(pairKey(c.a, c.b), (prior.get(pairKey(c.a, c.b)) ?? 0) + 1);
    }
  }
  return pairs.map((p) => {
    const attempt = p.kind === 'coverage' ? 1 : 1 + (prior.get(pairKey(p.a, p.b)) ?? 0);
    return resamplePass === undefined ? { ...p, attempt } : { ...p, attempt, resamplePass };
  });
}

/**
 * docs/engine-rules.md, "Decisions". Order of rules once every callback is in:
 * 1. not RUNNING (cancelled, finished, not started) → WAIT: no more waves, ever, for a cancelled batch;
 * 2. pending > 0 → WAIT;
 * 3. no success after MAX_WAVES_WITHOUT_SUCCESS waves → FAILED no_successful_comparisons;
 * 4. stable → finalize COMPLETE_STABLE;
 * 5. successes reached the completion denominator, or the budget is spent → finalize
 *    (COMPLETE_BUDGET_EXHAUSTED when the budget is spent, else COMPLETE_COVERAGE_CAP);
 * 6. MAX_ITERATIONS waves planned → finalize COMPLETE_BUDGET_EXHAUSTED (reason iteration_cap);
 * 7. a wave of retries (failed pairs, within MAX_ATTEMPTS_PER_PAIR) plus new coverage pairs, and
 *    further rounds of coverage pairs while the wave is small (wave-sizing.ts) →
 *    REQUEST_MORE_COMPARISONS;
 * 8. full coverage, small net with passes left → RESAMPLE (pass p re-judges every judged pair once,
 *    flipped; a pass may take several waves since each essay appears at most once per round and a
 *    wave has at most WAVE_MAX_APPEARANCES_PER_ESSAY rounds);
 * 9. nothing plannable → finalize COMPLETE_COVERAGE_CAP (never a zero-pair wave).
 * Every finalize goes through the guards: completed == 0 → FAILED no_successful_comparisons;
 * success rate < MIN_SUCCESS_RATE → FAILED low_success_rate.
 *
 * `resampling_pass_count` counts passes begun: a pass is counted by its first wave (so a pass cut
 * short by the budget still counts).
 */
export function decide(snapshot: DecisionSnapshot, deps: DecideDependencies = {}): Decision {
  const plan = deps.planWave ?? planWave;
  const fitter = deps.fit ?? engineFit;
  const { config, counters, essayCount } = snapshot;
  const completion = completionProgress({
    essayCount,
    totalBudget: snapshot.totalBudget,
    counters,
    config,
  });
  const passCount = passesBegun(snapshot);
  const nothingEvaluated = {
    scores: null,
    se: null,
    orderEffect: null,
    priorVariance: null,
    reliability: null,
    completion,
    resamplingPassCount: passCount,
  };

  if (snapshot.status !== 'RUNNING') {
    const reason = snapshot.status === 'PENDING_ESSAYS' ? 'batch_not_started' : 'batch_not_running';
    return { type: 'WAIT', reason, ...nothingEvaluated };
  }
  if (pendingCallbacks(counters) !== 0) {
    return { type: 'WAIT', reason: 'pending_callbacks', ...nothingEvaluated };
  }

  const completed = counters.completed_comparisons;
  const fit = completed > 0 ? fitSuccesses(snapshot, completed, fitter) : null;
  const scores = fit?.scores ?? null;
  const se = fit?.se ?? null;
  const evaluated = {
    scores,
    se,
    orderEffect: fit?.orderEffect ?? null,
    priorVariance: fit?.priorVariance ?? null,
    reliability: fit?.reliability ?? null,
    completion,
    resamplingPassCount: passCount,
  };

  const finalize = (status: SuccessStatus, reason: string): Decision => {
    if (completed === 0) {
      return {
        type: 'FINALIZE_FAILURE',
        failureReason: 'no_successful_comparisons',
        reason: `${reason}; no successful comparisons`,
        ...evaluated,
      };
    }
    const rate = completed / (completed + counters.failed_comparisons);
    if (rate < config.MIN_SUCCESS_RATE) {
      return {
        type: 'FINALIZE_FAILURE',
        failureReason: 'low_success_rate',
        reason: `${reason}; success rate ${rate.toFixed(3)} below ${config.MIN_SUCCESS_RATE}`,
        ...evaluated,
      };
    }
    return { type: 'FINALIZE_SCORING', status, reason, ...evaluated };
  };

  if (essayCount < 2) {
    return {
      type: 'FINALIZE_FAILURE',
      failureReason: 'no_plannable_pairs',
      reason: 'fewer_than_two_essays',
      ...evaluated,
    };
  }
  if (completed === 0 && snapshot.currentIteration >= config.MAX_WAVES_WITHOUT_SUCCESS) {
    return finalize('COMPLETE_COVERAGE_CAP', 'no_success_after_max_waves');
  }
  if (isStable(snapshot, scores)) return finalize('COMPLETE_STABLE', 'scores_stable');
  if (completion.budget_exhausted) return finalize('COMPLETE_BUDGET_EXHAUSTED', 'budget_exhausted');
  if (completion.denominator_reached) {
    return finalize('COMPLETE_COVERAGE_CAP', 'completion_denominator_reached');
  }
  if (snapshot.currentIteration >= config.MAX_ITERATIONS) {
    return finalize('COMPLETE_BUDGET_EXHAUSTED', 'iteration_cap');
  }

  const maxPairs = completion.budget_remaining;
  const iteration = snapshot.currentIteration + 1;
  const common = {
    n: essayCount,
    comparisons: snapshot.comparisons,
    scores,
    se,
    strategy: config.PAIRING_STRATEGY,
    seed: hashSeed(snapshot.seed, snapshot.currentIteration),
    config,
  };
  const retries = plan({ ...common, kind: 'retry', maxPairs });
  const busyEssays = new Set<number>();
  for (const p of retries) busyEssays.add(p.a).add(p.b);
  const coverage =
    maxPairs > retries.length
      ? plan({ ...common, kind: 'coverage', maxPairs: maxPairs - retries.length, busyEssays })
      : [];
  // Further rounds of new coverage pairs while the wave is small (wave-sizing.ts).
  const sizing = {
    comparisons: snapshot.comparisons,
    maxPairs,
    iteration,
    ...waveTarget(config, completed),
  };
  // Later rounds see the wave so far as pending and as information already asked for.
  const wave = extendWave(
    [...retries, ...coverage],
    (history, pairs) =>
      plan({
        ...common,
        se: pendingAwareSe(
          scores,
          se,
          history.slice(snapshot.comparisons.length),
          config.WAVE_PENDING_INFORMATION,
        ),
        comparisons: history,
        kind: 'coverage',
        maxPairs: pairs,
      }),
    sizing,
  );
  if (wave.length > 0) {
    const reason = coverage.length === 0 ? 'retry_failed_pairs' : 'coverage_incomplete';
    return {
      type: 'REQUEST_MORE_COMPARISONS',
      pairs: withAttempts(wave, snapshot.comparisons),
      reason,
      ...evaluated,
    };
  }

  const allowedPasses = allowedResamplingPasses(essayCount, config);
  for (let pass = Math.max(1, passCount); pass <= allowedPasses; pass++) {
    const planPass = (history: readonly ComparisonRecord[], pairs: number) =>
      plan({
        ...common,
        comparisons: history,
        kind: 'resample',
        resamplePass: pass,
        maxPairs: pairs,
      });
    const pairs = extendWave(planPass(snapshot.comparisons, maxPairs), planPass, sizing);
    if (pairs.length > 0) {
      return {
        type: 'RESAMPLE',
        pairs: withAttempts(pairs, snapshot.comparisons, pass),
        resamplePass: pass,
        reason: `small_net_resampling_pass_${pass}`,
        ...evaluated,
        resamplingPassCount: Math.max(passCount, pass),
      };
    }
  }
  return finalize(
    'COMPLETE_COVERAGE_CAP',
    allowedPasses > 0 ? 'coverage_and_resampling_exhausted' : 'coverage_exhausted',
  );
}
