/**
 * The continuation decision (SPEC §3): a pure function from a batch snapshot to what happens next.
 *
 * Contract for callers (continuation step, simulator):
 * - call it only after the gate said proceed, or with `submitted == 0` to plan the first wave;
 * - apply the decision, then store `decision.scores` as the next `previousScores` (unless it is
 *   `WAIT`, whose `scores` is null: nothing was evaluated) and `decision.resamplingPassCount` as
 *   the batch's `resampling_pass_count`;
 * - a wave's comparisons get `iteration = currentIteration + 1`, `kind`, `attempt` and
 *   `resamplePass` from the pairs.
 */
import type { CompletionProgress } from '#domain/batch-state.ts';
import type { EngineConfig } from '#domain/config.ts';
import type {
  BatchStatus,
  ComparisonRecord,
  Counters,
  FailureReason,
  PlannedPair,
  SuccessStatus,
} from '#domain/types.ts';

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
  /** Fresh Bradley–Terry fit on the successful comparisons (null for WAIT or before any success). */
  scores: Float64Array | null;
  se: Float64Array | null;
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
