/**
 * Gate evaluation with its structured log line (docs/engine-rules.md, "The gate"): every evaluation writes
 * `gate_evaluation` with the four counters and the completion denominator.
 */
import type { DecisionType } from '#domain/decide.ts';
import { checkWorkflowContinuation, type GateResult, withEngineDecision } from '#domain/gate.ts';
import type { ContinuationCause } from '#messages/queue.ts';
import type { Queues } from './ports.ts';
import type { BatchMeta } from './store-records.ts';
import type { Telemetry } from './telemetry.ts';

/** The gate on a META read. Not logged: the caller logs it once, maybe with the engine decision. */
export function gateOf(batch: BatchMeta): GateResult {
  return checkWorkflowContinuation({
    batchId: batch.batch_id,
    counters: batch,
    completionDenominator: batch.completion_denominator,
  });
}

export function logGate(
  deps: { telemetry: Telemetry },
  gate: GateResult,
  engineDecision?: DecisionType,
): void {
  const { message, ...fields } =
    engineDecision === undefined ? gate.log : withEngineDecision(gate.log, engineDecision);
  deps.telemetry.info(message, fields);
}

/**
 * Re-checks the gate on a fresh META read and, when it says proceed, sends the continuation
 * trigger for the batch's current iteration. Returns whether a trigger was sent.
 */
export async function recheckGate(
  deps: { telemetry: Telemetry; messaging: Pick<Queues, 'sendContinuationTrigger'> },
  batch: BatchMeta,
  cause: ContinuationCause,
): Promise<boolean> {
  if (batch.status !== 'RUNNING') return false;
  const gate = gateOf(batch);
  logGate(deps, gate);
  if (!gate.proceed) return false;
  await deps.messaging.sendContinuationTrigger({
    v: 1,
    batch_id: batch.batch_id,
    iteration: batch.current_iteration,
    cause,
  });
  return true;
}
