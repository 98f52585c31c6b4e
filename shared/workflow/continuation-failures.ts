/**
 * A continuation step that keeps failing still ends its batch (docs/engine-rules.md, "Failure
 * reasons"): every step that throws is logged and counted on the batch, and the
 * MAX_CONTINUATION_FAILURES-th failure finalizes it FAILED internal_error with its one event, so a
 * bug or a damaged item can neither leave a batch RUNNING until its items expire nor make the
 * sweeper re-trigger it forever. Below the limit the error is thrown again, so SQS redelivers the
 * trigger (a transient fault heals on its own).
 */
import type { ContinuationTrigger } from '#messages/queue.ts';
import {
  type ContinuationDeps,
  type ContinuationOutcome,
  publishIfUnpublished,
  runContinuation,
} from './continuation.ts';
import { MetricName } from './telemetry.ts';

/** What the processing metadata of a batch ended by failing steps says. */
function failureReport(failures: number, error: Error): Record<string, unknown> {
  return {
    failure_reason: 'internal_error',
    continuation_failures: failures,
    // The error's class only: a message could carry data the logs already have with context.
    last_error: error.name,
  };
}

export async function runGuardedContinuation(
  deps: ContinuationDeps,
  trigger: ContinuationTrigger,
): Promise<ContinuationOutcome | 'failed_internal_error'> {
  try {
    return await runContinuation(deps, trigger);
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    const { telemetry } = deps;
    const fields = { batch_id: trigger.batch_id, trigger_iteration: trigger.iteration };
    telemetry.error('continuation_failed', {
      ...fields,
      error: error.name,
      error_message: error.message.slice(0, 300),
    });
    const now = deps.now();
    let batch: Awaited<ReturnType<typeof deps.store.recordContinuationFailure>>;
    try {
      batch = await deps.store.recordContinuationFailure(trigger.batch_id, now);
    } catch (countError) {
      // The table is unreachable too: SQS redelivers the trigger, and the next failure counts.
      telemetry.error('continuation_failure_not_counted', {
        ...fields,
        error: (countError as Error).name,
      });
      throw error;
    }
    // Not RUNNING (final but its event not yet published, cancelled, unknown): retry as before.
    if (!batch) throw error;
    const failures = batch.continuation_failures ?? 0;
    telemetry.count(MetricName.ContinuationFailures);
    if (failures < deps.config.MAX_CONTINUATION_FAILURES) throw error;

    const result = await deps.store.finalizeBatch(trigger.batch_id, {
      expectedIteration: batch.current_iteration,
      status: 'FAILED',
      failureReason: 'internal_error',
      processingMetadata: failureReport(failures, error),
      resamplingPassCount: batch.resampling_pass_count,
      results: [],
      now,
    });
    if (result.outcome === 'not_found') return 'unknown_batch';
    // The batch moved on between the count and the finalization: that step will be retried.
    if (result.outcome === 'stale') throw error;
    if (result.outcome === 'finalized') {
      telemetry.countWithDimension(MetricName.BatchesFinalized, 'Outcome', 'FAILED');
      telemetry.error('batch_failed', {
        ...fields,
        status: 'FAILED',
        failure_reason: 'internal_error',
        continuation_failures: failures,
      });
    }
    await publishIfUnpublished(deps, result.batch);
    return 'failed_internal_error';
  }
}
