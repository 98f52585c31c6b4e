/**
 * The continuation step (docs/engine-rules.md, "Decisions"; docs/data-model.md, "Crash safety"):
 * META → gate → snapshot → decide → close the latest wave in the ledger → plan a wave and send its
 * requests, or finalize and publish the completion/failure event. Nothing beyond META is read
 * unless the gate is open, and the snapshot reads the latest wave's comparisons plus the packed
 * verdicts of the closed ones (docs/data-model.md, "Per-wave ledger").
 *
 * Every external call is safe to repeat, so a crash between any two of them is completed by the
 * FIFO redelivery of the same trigger without counting anything twice:
 * - closing a wave writes the same verdicts again; scores are saved per evaluated iteration;
 * - planWave is idempotent per iteration; requests are sent in chunks and the wave's ledger record
 *   notes how far sending got, so a trigger for the iteration just planned (a redelivery, a
 *   duplicate, a stale sweeper re-trigger) sends only what was never sent — each request once;
 * - finalizeBatch is a conditional write from RUNNING; the event is published while the batch is
 *   not marked published, then marked (consumers deduplicate a re-publish by batch_id).
 *
 * With judge.mode provider_batch a committed wave is not sent to the judge queue: its first
 * provider batch part is planned (idempotently) and the provider-batches step submits it; its
 * comparisons' deadline is the provider's completion window plus PROVIDER_BATCH_DEADLINE_MARGIN.
 */
import type { EngineConfig } from '#domain/config.ts';
import type { Decision } from '#domain/decide.ts';
import { hashSeed } from '#domain/random.ts';
import { isTerminal } from '#domain/types.ts';
import type { JudgeChoice } from '#messages/api.ts';
import { parseComparisonId } from '#messages/common.ts';
import type { BatchFinishedEvent } from '#messages/events.ts';
import type { ComparisonRequest, ContinuationTrigger } from '#messages/queue.ts';
import { gateOf, logGate } from './gate.ts';
import { providerBatchOf, waveDeadline } from './judge-mode.ts';
import type {
  BatchStore,
  Engine,
  EventPublisher,
  FinalizationStore,
  LedgerStore,
  ProviderBatchStore,
  Queues,
  SnapshotStore,
  WaveStore,
} from './ports.ts';
import type { BatchMeta, BatchSettings } from './store-records.ts';
import { MetricName, type Telemetry } from './telemetry.ts';
import type { PendingComparison } from './wave-records.ts';

/** What publishing a final batch's event needs (the continuation, and a cancel). */
export interface PublishDeps {
  store: Pick<FinalizationStore, 'markEventPublished'>;
  messaging: EventPublisher;
  telemetry: Telemetry;
  now: () => Date;
}

export interface ContinuationDeps {
  store: SnapshotStore &
    WaveStore &
    LedgerStore &
    FinalizationStore &
    Pick<BatchStore, 'getBatch' | 'getEssayIds' | 'getEssayDirectory' | 'getSettings'> &
    Pick<ProviderBatchStore, 'planProviderBatchPart'>;
  messaging: Pick<Queues, 'sendComparisonRequests'> & EventPublisher;
  telemetry: Telemetry;
  engine: Engine;
  /** Deployment-wide settings (WAVE_SEND_CHUNK). */
  config: Pick<EngineConfig, 'WAVE_SEND_CHUNK' | 'MAX_CONTINUATION_FAILURES'>;
  now: () => Date;
}

export type ContinuationOutcome =
  | 'unknown_batch'
  | 'final'
  | 'not_running'
  | 'stale_trigger'
  | 'resumed_wave'
  | 'gate_closed'
  | 'waiting'
  | 'planned'
  | 'finalized';

export function batchFinishedEvent(batch: BatchMeta): BatchFinishedEvent {
  return {
    v: 1,
    batch_id: batch.batch_id,
    status: batch.status,
    failure_reason: batch.failure_reason ?? null,
    counters: {
      submitted_comparisons: batch.submitted_comparisons,
      completed_comparisons: batch.completed_comparisons,
      failed_comparisons: batch.failed_comparisons,
    },
    completion_denominator: batch.completion_denominator,
    finalized_at: batch.finalized_at ?? batch.updated_at,
  };
}

/** Publishes the event of a final batch unless it is marked published; returns whether it did. */
export async function publishIfUnpublished(deps: PublishDeps, batch: BatchMeta): Promise<boolean> {
  if (!isTerminal(batch.status) || batch.event_published === true) return false;
  await deps.messaging.publishBatchEvent(batchFinishedEvent(batch));
  const marked = await deps.store.markEventPublished(batch.batch_id, deps.now());
  deps.telemetry.info('batch_event_published', {
    batch_id: batch.batch_id,
    status: batch.status,
    marked,
  });
  return true;
}

function toRequest(batchId: string, pending: PendingComparison): ComparisonRequest {
  return {
    v: 1,
    batch_id: batchId,
    comparison_id: pending.comparison_id,
    iteration: pending.iteration,
    a: pending.a,
    b: pending.b,
    attempt: pending.attempt,
    deadline: pending.deadline,
  };
}

/**
 * Hands a committed wave to its judge. To the judge queue: the requests of `pending` (comparisons
 * of wave `iteration`, in index order) in chunks, recording after each chunk that everything up to
 * its last comparison was sent. In provider-batch mode: its first provider batch part, to the
 * provider-batches step (a no-op when planned already; later parts are planned as each part is
 * recorded).
 */
async function sendWave(
  deps: ContinuationDeps,
  batch: BatchMeta,
  judge: JudgeChoice,
  iteration: number,
  pending: readonly PendingComparison[],
): Promise<void> {
  const provider = providerBatchOf(judge);
  if (provider === null) {
    const size = deps.config.WAVE_SEND_CHUNK;
    for (let start = 0; start < pending.length; start += size) {
      const chunk = pending.slice(start, start + size);
      await deps.messaging.sendComparisonRequests(chunk.map((p) => toRequest(batch.batch_id, p)));
      const last = chunk.at(-1);
      const index = last ? parseComparisonId(last.comparison_id)?.index : undefined;
      if (index !== undefined) {
        await deps.store.markSent(batch.batch_id, iteration, index + 1, deps.now());
      }
    }
    return;
  }
  const deadline = pending[0]?.deadline;
  if (deadline === undefined) return;
  await deps.store.planProviderBatchPart({
    batchId: batch.batch_id,
    iteration,
    part: 0,
    provider,
    fromIndex: 0,
    deadline,
    now: deps.now(),
  });
}

/** The batch's settings: its judge choice and grade scale (fixed at creation, cached by the store). */
async function settingsOf(deps: ContinuationDeps, batchId: string): Promise<BatchSettings> {
  const settings = await deps.store.getSettings(batchId);
  if (!settings) throw new Error(`batch ${batchId} has no settings item`);
  return settings;
}

function logDecision(deps: ContinuationDeps, batch: BatchMeta, decision: Decision): void {
  const waveSize =
    decision.type === 'REQUEST_MORE_COMPARISONS' || decision.type === 'RESAMPLE'
      ? decision.pairs.length
      : 0;
  const status =
    decision.type === 'FINALIZE_SCORING'
      ? decision.status
      : decision.type === 'FINALIZE_FAILURE'
        ? 'FAILED'
        : batch.status;
  deps.telemetry.info('continuation_decision', {
    batch_id: batch.batch_id,
    iteration: batch.current_iteration,
    decision: decision.type,
    reason: decision.reason,
    wave_size: waveSize,
    status,
    failure_reason: decision.type === 'FINALIZE_FAILURE' ? decision.failureReason : null,
  });
}

export async function runContinuation(
  deps: ContinuationDeps,
  trigger: ContinuationTrigger,
): Promise<ContinuationOutcome> {
  const { store, telemetry } = deps;
  const batchId = trigger.batch_id;
  const noop = (outcome: ContinuationOutcome, batch?: BatchMeta): ContinuationOutcome => {
    telemetry.info('continuation_noop', {
      batch_id: batchId,
      trigger_iteration: trigger.iteration,
      cause: trigger.cause,
      outcome,
      ...(batch ? { status: batch.status, current_iteration: batch.current_iteration } : {}),
    });
    return outcome;
  };

  const batch = await store.getBatch(batchId);
  if (!batch) return noop('unknown_batch');
  telemetry.count(MetricName.ContinuationRuns);

  if (isTerminal(batch.status)) {
    await publishIfUnpublished(deps, batch);
    return noop('final', batch);
  }
  if (batch.status !== 'RUNNING') return noop('not_running', batch);
  const settings = await settingsOf(deps, batchId);
  const { judge } = settings;

  if (trigger.iteration + 1 === batch.current_iteration) {
    // The wave this trigger planned is committed; a crash may have cut its sending short. Only
    // requests never sent go out (the ledger notes how far sending got).
    const pending = await store.listUnsent(batchId, batch.current_iteration);
    await sendWave(deps, batch, judge, batch.current_iteration, pending);
    telemetry.info('continuation_resumed_wave', {
      batch_id: batchId,
      iteration: batch.current_iteration,
      resent: pending.length,
    });
    return 'resumed_wave';
  }
  if (trigger.iteration !== batch.current_iteration) return noop('stale_trigger', batch);

  const gate = gateOf(batch);
  const firstWave = batch.submitted_comparisons === 0 && batch.current_iteration === 0;
  if (!gate.proceed && !firstWave) {
    logGate(deps, gate);
    return noop('gate_closed', batch);
  }

  const snapshot = await store.loadSnapshot(batchId, batch);
  if (!snapshot) return noop('unknown_batch');
  const decision = deps.engine.decide({
    ...snapshot,
    seed: hashSeed('plan', batchId, batch.current_iteration),
  });
  logGate(deps, gate, decision.type);
  logDecision(deps, batch, decision);
  const now = deps.now();
  const { lastWave } = snapshot;
  if (lastWave?.complete && decision.type !== 'WAIT') {
    await store.closeWave(batchId, {
      iteration: lastWave.iteration,
      createdAt: batch.created_at,
      records: lastWave.records,
      lastCallbackAt: lastWave.lastCallbackAt,
      timedOut: lastWave.timedOut,
      nextDecision: decision.type,
      nextReason: decision.reason,
      keepVerdicts: decision.type === 'REQUEST_MORE_COMPARISONS' || decision.type === 'RESAMPLE',
      now,
    });
  }

  switch (decision.type) {
    case 'WAIT':
      return 'waiting';
    case 'REQUEST_MORE_COMPARISONS':
    case 'RESAMPLE': {
      if (decision.scores) {
        await store.saveScores(batchId, batch.current_iteration, decision.scores, now);
      }
      const deadline = waveDeadline(judge, snapshot.config, now);
      const planned = await store.planWave(batchId, {
        expectedIteration: batch.current_iteration,
        pairs: decision.pairs,
        resamplingPassCount: decision.resamplingPassCount,
        deadline,
        now,
        decision: { type: decision.type, reason: decision.reason },
        batch,
      });
      if (!('pending' in planned)) {
        if (planned.outcome === 'stale') return noop('stale_trigger', planned.batch ?? batch);
        telemetry.error('wave_over_budget', {
          batch_id: batchId,
          wave_size: decision.pairs.length,
        });
        throw new Error(`planned wave for batch ${batchId} exceeds its budget`);
      }
      if (planned.outcome === 'planned') {
        telemetry.count(MetricName.ComparisonsSubmitted, decision.pairs.length);
      }
      await sendWave(deps, batch, judge, planned.iteration, planned.pending);
      return 'planned';
    }
    case 'FINALIZE_SCORING':
    case 'FINALIZE_FAILURE': {
      // A batch with a grade scale needs the anchors' grades (kept in the id chunks only).
      const scale = settings.grade_scale;
      const directory =
        scale === undefined
          ? { ids: await store.getEssayIds(batchId), anchorGrades: null }
          : await store.getEssayDirectory(batchId);
      const finalization = deps.engine.finalization(
        { ...snapshot, seed: hashSeed('plan', batchId, batch.current_iteration) },
        decision,
        directory.ids,
        providerBatchOf(judge) === null ? 'sync' : 'provider_batch',
        scale === undefined || directory.anchorGrades === null
          ? null
          : { scale, anchorGrades: directory.anchorGrades },
      );
      const result = await store.finalizeBatch(batchId, {
        expectedIteration: batch.current_iteration,
        status: decision.type === 'FINALIZE_SCORING' ? decision.status : 'FAILED',
        failureReason: decision.type === 'FINALIZE_FAILURE' ? decision.failureReason : null,
        processingMetadata: finalization.processingMetadata,
        resamplingPassCount: decision.resamplingPassCount,
        results: finalization.results,
        now,
      });
      if (result.outcome === 'not_found') return noop('unknown_batch');
      if (result.outcome === 'stale') return noop('stale_trigger', result.batch);
      if (result.outcome === 'finalized') {
        telemetry.countWithDimension(MetricName.BatchesFinalized, 'Outcome', result.batch.status);
        const fields = {
          batch_id: batchId,
          status: result.batch.status,
          failure_reason: result.batch.failure_reason ?? null,
        };
        if (result.batch.status === 'FAILED') telemetry.error('batch_failed', fields);
        else telemetry.info('batch_finalized', fields);
      }
      await publishIfUnpublished(deps, result.batch);
      return 'finalized';
    }
  }
}
