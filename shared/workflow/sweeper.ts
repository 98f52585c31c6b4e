/**
 * The sweeper (every minute; docs/data-model.md, "Crash safety"): comparisons past their deadline become `timeout` failures
 * through the same atomic path as a callback (then the gate, then maybe a trigger), and one that no
 * callback can record (its batch is gone, or its wave was never committed) leaves the pending
 * index; the shards of the index are read in turn with equal quotas (docs/data-model.md); RUNNING
 * batches with nothing pending are re-triggered (the FIFO dedup id makes a repeat harmless), so a
 * lost trigger never strands a batch; and the total of pending callbacks is emitted as a gauge.
 */
import { pendingCallbacks } from '#domain/batch-state.ts';
import type { EngineConfig } from '#domain/config.ts';
import type { Callback } from '#messages/queue.ts';
import { gateOf, logGate, recheckGate } from './gate.ts';
import { providerBatchOf } from './judge-mode.ts';
import type { BatchStore, CallbackStore, Queues, SweepStore } from './ports.ts';
import { MetricName, type Telemetry } from './telemetry.ts';

export interface SweeperDeps {
  store: SweepStore & CallbackStore & Pick<BatchStore, 'getBatch' | 'getSettings'>;
  messaging: Pick<Queues, 'sendContinuationTrigger'>;
  telemetry: Telemetry;
  now: () => Date;
  config: Pick<EngineConfig, 'SWEEPER_MAX_TIMEOUTS_PER_RUN'>;
}

export interface SweepSummary {
  timed_out: number;
  /** Expired entries no callback can record (no such batch, a wave never committed) removed. */
  left_index: number;
  retriggered: number;
  active_batches: number;
  pending_callbacks: number;
  /** Of those, the callbacks of batches judged in provider batches (expected to wait hours). */
  pending_provider_batch_callbacks: number;
  errors: number;
}

export async function runSweep(deps: SweeperDeps): Promise<SweepSummary> {
  const { store, telemetry } = deps;
  const now = deps.now();
  const summary: SweepSummary = {
    timed_out: 0,
    left_index: 0,
    retriggered: 0,
    active_batches: 0,
    pending_callbacks: 0,
    pending_provider_batch_callbacks: 0,
    errors: 0,
  };
  const triggered = new Set<string>();

  const expired = await store.listExpiredPending(now, deps.config.SWEEPER_MAX_TIMEOUTS_PER_RUN);
  for (const comparison of expired) {
    const timeout: Callback = {
      v: 1,
      batch_id: comparison.batch_id,
      comparison_id: comparison.comparison_id,
      outcome: 'failure',
      failure_kind: 'timeout',
      reason: 'deadline_passed',
    };
    try {
      const { outcome, batch } = await store.recordCallback(timeout, now);
      telemetry.info('comparison_timeout', {
        batch_id: comparison.batch_id,
        comparison_id: comparison.comparison_id,
        deadline: comparison.deadline,
        record_outcome: outcome,
      });
      if (outcome === 'recorded') {
        summary.timed_out += 1;
        telemetry.count(MetricName.ComparisonsTimedOut);
      }
      // Nothing will ever record it: out of the index, or it fills every later run's quota.
      if (outcome === 'unknown_comparison' && (await store.leavePendingIndex(comparison))) {
        summary.left_index += 1;
      }
      if (batch && !triggered.has(batch.batch_id) && (await recheckGate(deps, batch, 'sweeper'))) {
        triggered.add(batch.batch_id);
      }
    } catch (error) {
      summary.errors += 1;
      telemetry.error('sweeper_timeout_failed', {
        batch_id: comparison.batch_id,
        comparison_id: comparison.comparison_id,
        error: (error as Error).name,
      });
    }
  }

  for (const batchId of await store.listActiveBatches()) {
    try {
      const batch = await store.getBatch(batchId);
      if (batch?.status !== 'RUNNING') continue;
      summary.active_batches += 1;
      const pending = Math.max(0, pendingCallbacks(batch));
      summary.pending_callbacks += pending;
      // Settings never change and are cached per container: read only for a batch that waits.
      const judge = pending > 0 ? (await store.getSettings(batchId))?.judge : undefined;
      if (judge && providerBatchOf(judge) !== null) {
        summary.pending_provider_batch_callbacks += pending;
      }
      if (triggered.has(batchId)) continue;
      const gate = gateOf(batch);
      logGate(deps, gate);
      // Started but never planned (its first trigger was lost) counts as drained too.
      const neverPlanned = batch.submitted_comparisons === 0 && batch.current_iteration === 0;
      if (gate.proceed || neverPlanned) {
        await deps.messaging.sendContinuationTrigger({
          v: 1,
          batch_id: batchId,
          iteration: batch.current_iteration,
          cause: 'sweeper',
        });
        triggered.add(batchId);
        summary.retriggered += 1;
      }
    } catch (error) {
      summary.errors += 1;
      telemetry.error('sweeper_batch_failed', { batch_id: batchId, error: (error as Error).name });
    }
  }

  telemetry.gauge(MetricName.PendingCallbacks, summary.pending_callbacks);
  telemetry.gauge(
    MetricName.PendingProviderBatchCallbacks,
    summary.pending_provider_batch_callbacks,
  );
  telemetry.info('sweeper_run', { ...summary });
  return summary;
}
