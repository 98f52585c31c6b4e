import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { completionDenominator } from '#domain/batch-state.ts';
import { checkWorkflowContinuation, withEngineDecision } from '#domain/gate.ts';
import { makeConfig, makeCounters } from '#test/helpers/domain-factories.ts';

function gateState(counters: ReturnType<typeof makeCounters>) {
  return {
    batchId: 'batch-1',
    counters,
    essayCount: 4,
    totalBudget: 120,
    config: makeConfig({ RESAMPLING_ENABLED: false }),
  };
}

describe('checkWorkflowContinuation', () => {
  it('proceeds when everything submitted has called back, and logs every counter', () => {
    // Prepare
    const counters = makeCounters({
      submitted_comparisons: 6,
      completed_comparisons: 5,
      failed_comparisons: 1,
    });
    // Act
    const result = checkWorkflowContinuation(gateState(counters));
    // Assess
    expect(result).toEqual({
      proceed: true,
      log: {
        message: 'gate_evaluation',
        batch_id: 'batch-1',
        submitted_comparisons: 6,
        completed_comparisons: 5,
        failed_comparisons: 1,
        pending_callbacks: 0,
        completion_denominator: 6,
        decision: 'continue',
      },
    });
  });

  it('skips while callbacks are pending', () => {
    // Prepare
    const counters = makeCounters({ submitted_comparisons: 6, completed_comparisons: 5 });
    // Act
    const result = checkWorkflowContinuation(gateState(counters));
    // Assess
    expect(result.proceed).toBe(false);
    expect(result.log.decision).toBe('skipped_pending_callbacks');
    expect(result.log.pending_callbacks).toBe(1);
  });

  it('skips when nothing was submitted', () => {
    // Prepare
    const counters = makeCounters();
    // Act
    const result = checkWorkflowContinuation(gateState(counters));
    // Assess
    expect(result.proceed).toBe(false);
    expect(result.log.decision).toBe('skipped_nothing_submitted');
  });

  it('proceeds exactly when submitted > 0 and pending == 0, for any counters', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 1000 }),
        (submitted, completed, failed) => {
          // Prepare
          const counters = makeCounters({
            submitted_comparisons: submitted,
            completed_comparisons: completed,
            failed_comparisons: failed,
          });
          const state = { ...gateState(counters), totalBudget: 500 };
          // Act
          const result = checkWorkflowContinuation(state);
          // Assess
          expect(result.proceed).toBe(submitted > 0 && completed + failed === submitted);
          expect(result.log.pending_callbacks).toBe(submitted - completed - failed);
          expect(result.log.completion_denominator).toBe(completionDenominator(state));
        },
      ),
    );
  });

  it('carries the engine decision when the caller adds it', () => {
    // Prepare
    const counters = makeCounters({ submitted_comparisons: 6, completed_comparisons: 6 });
    const { log } = checkWorkflowContinuation(gateState(counters));
    // Act
    const line = withEngineDecision(log, 'FINALIZE_SCORING');
    // Assess
    expect(line.decision).toBe('FINALIZE_SCORING');
    expect(line.completion_denominator).toBe(6);
  });
});
