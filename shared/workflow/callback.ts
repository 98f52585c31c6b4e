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
 *
 * The callbacks of one invocation are recorded together (InvocationRecording): one transaction per
 * batch for all of them, instead of one per callback (docs/data-model.md, "recordCallback
 * outcomes").
 */
import type { SQSRecord } from 'aws-lambda';
import { type Callback, callbackSchema } from '#messages/queue.ts';
import { recheckGate } from './gate.ts';
import { InvocationGroup } from './invocation-group.ts';
import { parseRecord } from './parse.ts';
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

/**
 * The callbacks of one invocation, recorded together (InvocationGroup): all of them go to the
 * store in one `recordCallbacks` call, at the time the first of them asked (the time a lone
 * callback would have had). Each record settles with ITS outcome, or with the error of the call
 * (every record of the invocation then fails and is redelivered: a transaction is all or nothing,
 * so no callback was counted, and the redeliveries count once).
 */
export class InvocationRecording {
  private readonly group: InvocationGroup<{ callback: Callback; now: Date }, RecordOutcome>;

  constructor(store: Pick<CallbackStore, 'recordCallbacks'>, records: number) {
    this.group = new InvocationGroup(
      (entries) =>
        store.recordCallbacks(
          entries.map((entry) => entry.callback),
          entries[0]?.now ?? new Date(),
        ),
      records,
    );
  }

  /** A record's callback: settles with its outcome once the invocation's callbacks are recorded. */
  readonly record = (callback: Callback, now: Date): Promise<RecordOutcome> =>
    this.group.ask({ callback, now });

  /** A record finished (whatever it did): it will ask for nothing more. */
  settled(): void {
    this.group.settled();
  }
}

/** Callback deps for one invocation of `records` records: their callbacks are recorded together. */
export function withInvocationRecording(
  deps: CallbackDeps,
  records: number,
): { deps: CallbackDeps; recording: InvocationRecording } {
  const recording = new InvocationRecording(deps.store, records);
  return {
    deps: { ...deps, store: { ...deps.store, recordCallback: recording.record } },
    recording,
  };
}

/**
 * The callback function's record handler for one invocation of `records` records: each record is
 * parsed and its callback recorded with the others'; it yields its batch id (the follow-up key).
 */
export function callbackRecords(
  deps: CallbackDeps,
  records: number,
): (record: SQSRecord) => Promise<string> {
  const { deps: invocation, recording } = withInvocationRecording(deps, records);
  return async (record) => {
    try {
      const callback = parseRecord(callbackSchema, record, 'callback', deps.telemetry);
      await recordCallback(invocation, callback);
      return callback.batch_id;
    } finally {
      recording.settled();
    }
  };
}
