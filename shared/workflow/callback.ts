/**
 * Callback processing (docs/data-model.md, "recordCallback outcomes" and "Crash safety"): record
 * each callback in one atomic store step and count it, then re-check the gate on a fresh META
 * read — once per batch after all the callbacks of an invocation, and also after duplicates, so a
 * crash between the write and the trigger is repaired by the redelivery.
 *
 * One META read per batch per invocation, not per callback, is as safe: counters only grow while
 * a wave is open, so a read taken after the last write of the invocation sees every state an
 * earlier read would have acted on (a wave submitted in between was submitted by a continuation
 * that someone already triggered).
 */
import type { Callback } from '#messages/queue.ts';
import { recheckGate } from './gate.ts';
import type { CallbackStore, Queues } from './ports.ts';
import type { RecordOutcome } from './store-records.ts';
import { MetricName, type Telemetry } from './telemetry.ts';

export interface CallbackDeps {
  store: CallbackStore;
  messaging: Pick<Queues, 'sendContinuationTrigger'>;
  telemetry: Telemetry;
  now: () => Date;
}

export interface CallbackResult {
  outcome: RecordOutcome;
  triggered: boolean;
}

/** Records one callback exactly once and counts it; the caller re-checks its batch's gate after. */
export async function recordCallback(
  deps: CallbackDeps,
  callback: Callback,
): Promise<RecordOutcome> {
  const { telemetry } = deps;
  const outcome = await deps.store.recordCallback(callback, deps.now());
  telemetry.count(MetricName.CallbacksReceived);
  const fields = {
    batch_id: callback.batch_id,
    comparison_id: callback.comparison_id,
    outcome: callback.outcome,
    ...(callback.outcome === 'failure' ? { failure_kind: callback.failure_kind } : {}),
  };
  if (outcome === 'recorded' && callback.outcome === 'failure') {
    telemetry.count(MetricName.CallbacksFailed);
  } else if (outcome === 'duplicate') {
    telemetry.count(MetricName.DuplicateCallbacks);
  } else if (outcome === 'late') {
    telemetry.count(MetricName.LateCallbacks);
  }
  telemetry.info('callback_recorded', { ...fields, record_outcome: outcome });
  if (outcome === 'unknown_comparison') {
    telemetry.warn('callback_for_unknown_comparison', fields);
  }
  return outcome;
}

/**
 * Re-checks a batch's gate on a fresh META read after its callbacks were recorded; sends the
 * continuation trigger when the gate says proceed. Returns whether it did.
 */
export async function recheckGateAfterCallbacks(
  deps: CallbackDeps,
  batchId: string,
): Promise<boolean> {
  const batch = await deps.store.getBatch(batchId);
  if (!batch) return false;
  return recheckGate(deps, batch, 'callbacks_drained');
}

/** One callback on its own: recorded, then its batch's gate re-checked. */
export async function processCallback(
  deps: CallbackDeps,
  callback: Callback,
): Promise<CallbackResult> {
  const outcome = await recordCallback(deps, callback);
  const triggered = await recheckGateAfterCallbacks(deps, callback.batch_id);
  return { outcome, triggered };
}
