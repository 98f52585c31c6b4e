/**
 * Core domain shapes shared by every part of the engine (pure TypeScript, no AWS imports).
 *
 * Essays inside the engine are addressed by their index 0..n-1 in the batch; ids (strings chosen by
 * the client) are mapped to indices at the edges (store, API, CLI). Essay text never enters here.
 */
import type { ComparisonUsage } from './judge-usage.ts';

/*
 * The engine's vocabularies are declared once here, as constant lists; the zod contracts of
 * `shared/messages` build their enums from them, so a value added here is accepted on the wire.
 */

/** Which essay the judge preferred, in the order the pair was shown: `A` is the first-shown essay. */
export const WINNERS = ['A', 'B'] as const;
export type Winner = (typeof WINNERS)[number];

/** Why a comparison failed. `timeout` is set by the sweeper; the rest come from the judge. */
export const FAILURE_KINDS = [
  'timeout',
  'rate_limited',
  'malformed_answer',
  'refusal',
  'provider_error',
  'invalid_request',
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

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

const ACTIVE_STATUSES = ['PENDING_ESSAYS', 'RUNNING'] as const;
/** Success statuses say why the batch stopped. */
const SUCCESS_STATUSES = [
  'COMPLETE_STABLE',
  'COMPLETE_BUDGET_EXHAUSTED',
  'COMPLETE_COVERAGE_CAP',
] as const;
export const BATCH_STATUSES = [
  ...ACTIVE_STATUSES,
  ...SUCCESS_STATUSES,
  'FAILED',
  'CANCELLED',
] as const;
export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];
export type SuccessStatus = (typeof SUCCESS_STATUSES)[number];
export type FailureStatus = 'FAILED';
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/** The machine-readable reason of a FAILED batch. */
export const FAILURE_REASONS = [
  'no_successful_comparisons',
  'low_success_rate',
  'iteration_cap_without_success',
  'no_plannable_pairs',
  'internal_error',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const TERMINAL_STATUSES: ReadonlySet<BatchStatus> = new Set<BatchStatus>([
  ...SUCCESS_STATUSES,
  'FAILED',
  'CANCELLED',
]);

/** Final: the batch plans nothing more (finalized with scores, failed, or cancelled). */
export function isTerminal(status: string): boolean {
  return TERMINAL_STATUSES.has(status as BatchStatus);
}

/** Finalized with scores (the status also says why it stopped). */
export function isSuccess(status: string): boolean {
  return (SUCCESS_STATUSES as readonly string[]).includes(status);
}
