/**
 * The continuation gate (docs/engine-rules.md, "The gate"): a batch may continue only when it has submitted something and
 * every submitted comparison has called back. Pure: it returns the structured log line and the
 * handler writes it, so every evaluation is visible with all four counters and the denominator.
 */
import { completionProgress, pendingCallbacks } from '#domain/batch-state.ts';
import type { EngineConfig } from '#domain/config.ts';
import type { DecisionType } from '#domain/decide.ts';
import type { Counters } from '#domain/types.ts';

/**
 * The batch's counters and what its completion denominator comes from: the inputs of
 * `completionDenominator`, or the value it gave when the batch was created (a stored batch keeps
 * it, since essay count, budget and config never change).
 */
export type GateState = { batchId: string; counters: Counters } & (
  | { essayCount: number; totalBudget: number; config: EngineConfig }
  | { completionDenominator: number }
);

/** The gate's own verdict. */
export type GateDecision = 'continue' | 'skipped_pending_callbacks' | 'skipped_nothing_submitted';

/** One gate evaluation, snake_case as logged. `decision` may be replaced by the engine decision. */
export interface GateLogLine {
  message: 'gate_evaluation';
  batch_id: string;
  submitted_comparisons: number;
  completed_comparisons: number;
  failed_comparisons: number;
  pending_callbacks: number;
  completion_denominator: number;
  decision: GateDecision | DecisionType;
}

export interface GateResult {
  proceed: boolean;
  log: GateLogLine;
}

export function checkWorkflowContinuation(state: GateState): GateResult {
  const { counters } = state;
  const pending = pendingCallbacks(counters);
  const completion_denominator =
    'completionDenominator' in state
      ? state.completionDenominator
      : completionProgress(state).completion_denominator;
  let decision: GateDecision = 'continue';
  if (counters.submitted_comparisons <= 0) decision = 'skipped_nothing_submitted';
  else if (pending !== 0) decision = 'skipped_pending_callbacks';
  return {
    proceed: decision === 'continue',
    log: {
      message: 'gate_evaluation',
      batch_id: state.batchId,
      submitted_comparisons: counters.submitted_comparisons,
      completed_comparisons: counters.completed_comparisons,
      failed_comparisons: counters.failed_comparisons,
      pending_callbacks: pending,
      completion_denominator,
      decision,
    },
  };
}

/** The gate line with the engine's decision in place of `continue`, for the continuation step. */
export function withEngineDecision(log: GateLogLine, decision: DecisionType): GateLogLine {
  return { ...log, decision };
}
