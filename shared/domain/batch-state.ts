/**
 * Batch counters, the completion denominator and the invariants (docs/engine-rules.md, "Counters
 * and completion").
 *
 * `completionDenominator` is the ONLY completion math in the engine: the gate's log line and the
 * decision function both obtain it through `completionProgress`, and nothing else computes how far
 * a batch is from done.
 */
import type { EngineConfig } from '#domain/config.ts';
import type { Counters } from '#domain/types.ts';

/** Callbacks still expected: `submitted - (completed + failed)`. */
export function pendingCallbacks(counters: Counters): number {
  return (
    counters.submitted_comparisons - (counters.completed_comparisons + counters.failed_comparisons)
  );
}

/** nC2: how many distinct unordered pairs `essayCount` essays form. */
export function maxPossiblePairs(essayCount: number): number {
  return essayCount < 2 ? 0 : (essayCount * (essayCount - 1)) / 2;
}

/** A small net (`n ≤ MIN_RESAMPLING_NET_SIZE`) with resampling enabled may be resampled. */
export function isResamplingNet(essayCount: number, config: EngineConfig): boolean {
  return config.RESAMPLING_ENABLED && essayCount <= config.MIN_RESAMPLING_NET_SIZE;
}

/** Resampling passes the batch may make after full coverage: the small-net cap, else 0. */
export function allowedResamplingPasses(essayCount: number, config: EngineConfig): number {
  return isResamplingNet(essayCount, config) ? config.MAX_RESAMPLING_PASSES_FOR_SMALL_NET : 0;
}

export interface CompletionInputs {
  essayCount: number;
  totalBudget: number;
  config: EngineConfig;
}

/**
 * `min(total_budget, nC2 × (1 + allowed_resampling_passes))`.
 * 4 essays, resampling off → 6; a 5-essay small net with a cap of 3 passes → min(budget, 40).
 */
export function completionDenominator({
  essayCount,
  totalBudget,
  config,
}: CompletionInputs): number {
  const cap = maxPossiblePairs(essayCount) * (1 + allowedResamplingPasses(essayCount, config));
  return Math.min(totalBudget, cap);
}

export interface CompletionProgress {
  /** `completionDenominator(...)` for this batch. */
  completion_denominator: number;
  /** Successful comparisons: the ones that count towards completion. */
  completed_comparisons: number;
  /** `completed / denominator` (1 when the denominator is 0). */
  fraction_complete: number;
  /** Comparisons the budget still allows: `total_budget - submitted`. */
  budget_remaining: number;
  /** Successful comparisons reached the denominator (the budget or the coverage cap, whichever binds). */
  denominator_reached: boolean;
  /** Nothing more may be submitted. */
  budget_exhausted: boolean;
}

/**
 * The one completion check, built on `completionDenominator`. Progress counts successful
 * comparisons only (failed ones add no information); the budget counts every submission.
 */
export function completionProgress(
  inputs: CompletionInputs & { counters: Counters },
): CompletionProgress {
  const denominator = completionDenominator(inputs);
  const completed = inputs.counters.completed_comparisons;
  const budgetRemaining = inputs.totalBudget - inputs.counters.submitted_comparisons;
  return {
    completion_denominator: denominator,
    completed_comparisons: completed,
    fraction_complete: denominator === 0 ? 1 : completed / denominator,
    budget_remaining: budgetRemaining,
    denominator_reached: completed >= denominator,
    budget_exhausted: budgetRemaining <= 0,
  };
}

/** What the invariants look at: the counters plus the batch's total and budget. */
export interface CounterState extends Counters {
  total_comparisons: number;
  total_budget: number;
}

/**
 * The counter invariants (docs/engine-rules.md). `previous` is the state before a change (null for the first observation);
 * returns one human-readable violation per broken rule, empty when all hold.
 */
export function checkInvariants(previous: CounterState | null, next: CounterState): string[] {
  const violations: string[] = [];
  const counterNames = [
    'submitted_comparisons',
    'completed_comparisons',
    'failed_comparisons',
    'total_comparisons',
  ] as const;
  for (const name of counterNames) {
    const value = next[name];
    if (!Number.isInteger(value) || value < 0) {
      violations.push(`${name} must be a non-negative integer, got ${value}`);
    }
    if (previous && value < previous[name]) {
      violations.push(`${name} decreased from ${previous[name]} to ${value}`);
    }
  }
  const processed = next.completed_comparisons + next.failed_comparisons;
  if (processed > next.submitted_comparisons) {
    violations.push(
      `completed + failed (${processed}) exceeds submitted_comparisons (${next.submitted_comparisons})`,
    );
  }
  if (next.total_comparisons !== next.submitted_comparisons) {
    violations.push(
      `total_comparisons (${next.total_comparisons}) differs from submitted_comparisons (${next.submitted_comparisons})`,
    );
  }
  if (next.submitted_comparisons > next.total_budget) {
    violations.push(
      `submitted_comparisons (${next.submitted_comparisons}) exceeds total_budget (${next.total_budget})`,
    );
  }
  return violations;
}
