/**
 * Callback processing (docs/data-model.md, "recordCallback outcomes" and "Crash safety"): record the callback in one atomic store step, count it,
 * then re-check the gate on the fresh batch state — also for duplicates, so a crash between the
 * write and the trigger is repaired by the redelivery.
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

export async function processCallback(
  deps: CallbackDeps,
  callback: Callback,
): Promise<CallbackResult> {
  const { telemetry } = deps;
  const { outcome, batch } = await deps.store.recordCallback(callback, deps.now());
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
  if (!batch) return { outcome, triggered: false };
  const triggered = await recheckGate(deps, batch, 'callbacks_drained');
  return { outcome, triggered };
}
