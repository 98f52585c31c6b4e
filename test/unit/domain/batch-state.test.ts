import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allowedResamplingPasses,
  checkInvariants,
  completionDenominator,
  completionProgress,
  maxPossiblePairs,
  pendingCallbacks,
} from '#domain/batch-state.ts';
import { makeConfig, makeCounterState, makeCounters } from '#test/helpers/domain-factories.ts';

describe('completionDenominator', () => {
  it('is nC2 for 4 essays with resampling off', () => {
    // Prepare
    const config = makeConfig({ RESAMPLING_ENABLED: false });
    // Act
    const denominator = completionDenominator({ essayCount: 4, totalBudget: 120, config });
    // Assess
    expect(denominator).toBe(6);
  });

  it('is min(budget, 40) for a 5-essay small net with 3 passes', () => {
    // Prepare
    const config = makeConfig({
      MIN_RESAMPLING_NET_SIZE: 5,
      MAX_RESAMPLING_PASSES_FOR_SMALL_NET: 3,
    });
    // Act
    const roomy = completionDenominator({ essayCount: 5, totalBudget: 120, config });
    const tight = completionDenominator({ essayCount: 5, totalBudget: 25, config });
    // Assess
    expect(roomy).toBe(40);
    expect(tight).toBe(25);
  });

  it('ignores the pass cap when the net is larger than MIN_RESAMPLING_NET_SIZE', () => {
    // Prepare
    const config = makeConfig({
      MIN_RESAMPLING_NET_SIZE: 5,
      MAX_RESAMPLING_PASSES_FOR_SMALL_NET: 3,
    });
    // Act
    const denominator = completionDenominator({ essayCount: 6, totalBudget: 1000, config });
    // Assess
    expect(denominator).toBe(15);
    expect(allowedResamplingPasses(6, config)).toBe(0);
  });

  it('ignores the pass cap for a small net when resampling is disabled', () => {
    // Prepare
    const config = makeConfig({ MIN_RESAMPLING_NET_SIZE: 5, RESAMPLING_ENABLED: false });
    // Act
    const denominator = completionDenominator({ essayCount: 5, totalBudget: 1000, config });
    // Assess
    expect(denominator).toBe(10);
  });

  it('matches the documented formula for any size, budget and resampling setting', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 20_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 10 }),
        fc.boolean(),
        (n, budget, netSize, passes, enabled) => {
          // Prepare
          const config = makeConfig({
            MIN_RESAMPLING_NET_SIZE: netSize,
            MAX_RESAMPLING_PASSES_FOR_SMALL_NET: passes,
            RESAMPLING_ENABLED: enabled,
          });
          const allowed = enabled && n <= netSize ? passes : 0;
          // Act
          const denominator = completionDenominator({ essayCount: n, totalBudget: budget, config });
          // Assess
          expect(denominator).toBe(Math.min(budget, ((n * (n - 1)) / 2) * (1 + allowed)));
        },
      ),
    );
  });
});

describe('completionProgress', () => {
  it('counts successes against the denominator and submissions against the budget', () => {
    // Prepare
    const config = makeConfig({ RESAMPLING_ENABLED: false });
    const counters = makeCounters({
      submitted_comparisons: 8,
      completed_comparisons: 5,
      failed_comparisons: 3,
    });
    // Act
    const progress = completionProgress({ essayCount: 4, totalBudget: 8, counters, config });
    // Assess
    expect(progress).toEqual({
      completion_denominator: 6,
      completed_comparisons: 5,
      fraction_complete: 5 / 6,
      budget_remaining: 0,
      denominator_reached: false,
      budget_exhausted: true,
    });
  });

  it('reports the denominator reached once successes cover it', () => {
    // Prepare
    const config = makeConfig({ RESAMPLING_ENABLED: false });
    const counters = makeCounters({ submitted_comparisons: 6, completed_comparisons: 6 });
    // Act
    const progress = completionProgress({ essayCount: 4, totalBudget: 120, counters, config });
    // Assess
    expect(progress.denominator_reached).toBe(true);
    expect(progress.budget_exhausted).toBe(false);
  });
});

describe('pendingCallbacks and maxPossiblePairs', () => {
  it('subtracts completed and failed from submitted', () => {
    // Prepare
    const counters = makeCounters({
      submitted_comparisons: 10,
      completed_comparisons: 4,
      failed_comparisons: 2,
    });
    // Act
    const pending = pendingCallbacks(counters);
    // Assess
    expect(pending).toBe(4);
  });

  it('counts unordered pairs', () => {
    // Act + Assess
    expect(maxPossiblePairs(1)).toBe(0);
    expect(maxPossiblePairs(2)).toBe(1);
    expect(maxPossiblePairs(10_000)).toBe(49_995_000);
  });
});

describe('checkInvariants', () => {
  it('accepts a consistent sequence', () => {
    // Prepare
    const before = makeCounterState({ submitted_comparisons: 4, completed_comparisons: 1 });
    const after = makeCounterState({
      submitted_comparisons: 4,
      completed_comparisons: 2,
      failed_comparisons: 1,
    });
    // Act
    const violations = checkInvariants(before, after);
    // Assess
    expect(violations).toEqual([]);
  });

  it('flags more callbacks than submissions', () => {
    // Prepare
    const state = makeCounterState({
      submitted_comparisons: 2,
      completed_comparisons: 2,
      failed_comparisons: 1,
    });
    // Act
    const violations = checkInvariants(null, state);
    // Assess
    expect(violations).toEqual(['completed + failed (3) exceeds submitted_comparisons (2)']);
  });

  it('flags a decreasing counter', () => {
    // Prepare
    const before = makeCounterState({ submitted_comparisons: 4, completed_comparisons: 3 });
    const after = makeCounterState({ submitted_comparisons: 4, completed_comparisons: 2 });
    // Act
    const violations = checkInvariants(before, after);
    // Assess
    expect(violations).toEqual(['completed_comparisons decreased from 3 to 2']);
  });

  it('flags total_comparisons out of step with submitted', () => {
    // Prepare
    const state = makeCounterState({ submitted_comparisons: 4, total_comparisons: 5 });
    // Act
    const violations = checkInvariants(null, state);
    // Assess
    expect(violations).toEqual(['total_comparisons (5) differs from submitted_comparisons (4)']);
  });

  it('flags submissions beyond the budget', () => {
    // Prepare
    const state = makeCounterState({ submitted_comparisons: 11, total_budget: 10 });
    // Act
    const violations = checkInvariants(null, state);
    // Assess
    expect(violations).toEqual(['submitted_comparisons (11) exceeds total_budget (10)']);
  });

  it('flags negative or fractional counters', () => {
    // Prepare
    const state = makeCounterState({ submitted_comparisons: 3, failed_comparisons: -1 });
    const fractional = makeCounterState({ submitted_comparisons: 2.5 });
    // Act
    const negative = checkInvariants(null, state);
    const notInteger = checkInvariants(null, fractional);
    // Assess
    expect(negative).toContain('failed_comparisons must be a non-negative integer, got -1');
    expect(notInteger).toContain('submitted_comparisons must be a non-negative integer, got 2.5');
  });
});
