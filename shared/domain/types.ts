/**
 * Core domain shapes shared by every part of the engine (pure TypeScript, no AWS imports).
 *
 * Essays inside the engine are addressed by their index 0..n-1 in the batch; ids (strings chosen by
 * the client) are mapped to indices at the edges (store, API, CLI). Essay text never enters here.
 */
import type { ComparisonUsage } from './judge-usage.ts';

/** Which essay the judge preferred, in the order the pair was shown: `A` is the first-shown essay. */
export type Winner = 'A' | 'B';

/** Why a comparison failed. `timeout` is set by the sweeper; the rest come from the judge. */
export type FailureKind =
  | 'timeout'
  | 'rate_limited'
  | 'malformed_answer'
  | 'refusal'
  | 'provider_error'
  | 'invalid_request';

export type ComparisonStatus = 'PENDING' | 'COMPLETED' | 'FAILED';

/**
 * One submitted comparison as the engine sees it. `a` was shown as "Essay A", `b` as "Essay B".
 * `kind` tells how it was planned (coverage of a new pair, resampling of a judged pair, or a retry
 * of a pair whose earlier attempts all failed).
 */
export interface ComparisonRecord {
  a: number;
  b: number;
  status: ComparisonStatus;
  winner?: Winner;
  failureKind?: FailureKind;
  kind: WaveKind;
  iteration: number;
  /** For `kind === 'resample'`: which resampling pass (1-based) this comparison belongs to. */
  resamplePass?: number;
  /** 1 for the first attempt at this pair in this role, 2.. for retries of a failed pair. */
  attempt?: number;
  /** A verdict's tokens, estimated cost and order flip, when the judge reported them. */
  usage?: ComparisonUsage;
}

export type WaveKind = 'coverage' | 'resample' | 'retry';

/** A pair to judge, in display order (`a` shown as "Essay A"). */
export interface PlannedPair {
  a: number;
  b: number;
  kind: WaveKind;
}

export interface Counters {
  submitted_comparisons: number;
  completed_comparisons: number;
  failed_comparisons: number;
}

export type ActiveStatus = 'PENDING_ESSAYS' | 'RUNNING';
export type SuccessStatus =
  | 'COMPLETE_STABLE'
  | 'COMPLETE_BUDGET_EXHAUSTED'
  | 'COMPLETE_COVERAGE_CAP';
export type FailureStatus = 'FAILED';
export type BatchStatus = ActiveStatus | SuccessStatus | FailureStatus | 'CANCELLED';

export type FailureReason =
  | 'no_successful_comparisons'
  | 'low_success_rate'
  | 'iteration_cap_without_success'
  | 'no_plannable_pairs';

export const TERMINAL_STATUSES: ReadonlySet<BatchStatus> = new Set<BatchStatus>([
  'COMPLETE_STABLE',
  'COMPLETE_BUDGET_EXHAUSTED',
  'COMPLETE_COVERAGE_CAP',
  'FAILED',
  'CANCELLED',
]);

export function isTerminal(status: BatchStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}
