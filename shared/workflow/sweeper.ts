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
import { parseComparisonId } from '#messages/common.ts';
import type { Callback } from '#messages/queue.ts';
import { gateOf, logGate, recheckGate } from './gate.ts';
import { providerBatchOf } from './judge-mode.ts';
import type { BatchStore, CallbackStore, Queues, SweepStore } from './ports.ts';
import type { BatchMeta, ExpiredComparison } from './store-records.ts';
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

/** Index entries taken out at once (each one conditional UpdateItem). */
const LEAVE_INDEX_CONCURRENCY = 8;

/**
 * Whether a callback could still be recorded for an expired entry: its batch exists and has
 * committed the entry's wave (docs/data-model.md, "recordCallback outcomes").
 */
function recordable(comparison: ExpiredComparison, batches: Map<string, BatchMeta>): boolean {
  const batch = batches.get(comparison.batch_id);
  const parsed = parseComparisonId(comparison.comparison_id);
  return batch !== undefined && parsed !== undefined && parsed.iteration <= batch.current_iteration;
}

/** Runs `work` on every item, at most `concurrency` at once. */
async function inTurn<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
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
  const timedOutBatches = new Set<string>();

  const listed = await store.listExpiredPending(now, deps.config.SWEEPER_MAX_TIMEOUTS_PER_RUN);
  // Entries no callback can record (their batch is gone, their wave was never committed) leave
  // the index at once, a few at a time: no transaction and no META read each, so a run with
  // hundreds of them stays well inside its timeout (one request each, plus one read per 100).
  const batches = await store.getBatches(listed.map((comparison) => comparison.batch_id));
  const unrecordable = listed.filter((comparison) => !recordable(comparison, batches));
  const expired = listed.filter((comparison) => recordable(comparison, batches));
  await inTurn(unrecordable, LEAVE_INDEX_CONCURRENCY, async (comparison) => {
    try {
      if (await store.leavePendingIndex(comparison)) summary.left_index += 1;
    } catch (error) {
      summary.errors += 1;
      telemetry.error('sweeper_leave_index_failed', {
        batch_id: comparison.batch_id,
        comparison_id: comparison.comparison_id,
        error: (error as Error).name,
      });
    }
  });
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
      const outcome = await store.recordCallback(timeout, now);
      timedOutBatches.add(comparison.batch_id);
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
    } catch (error) {
      summary.errors += 1;
      telemetry.error('sweeper_timeout_failed', {
        batch_id: comparison.batch_id,
        comparison_id: comparison.comparison_id,
        error: (error as Error).name,
      });
    }
  }
  // One fresh META read and gate check per batch, after all of its timeouts were recorded.
  for (const batchId of timedOutBatches) {
    try {
      const batch = await store.getBatch(batchId);
      if (batch && (await recheckGate(deps, batch, 'sweeper'))) triggered.add(batchId);
    } catch (error) {
      summary.errors += 1;
      telemetry.error('sweeper_batch_failed', { batch_id: batchId, error: (error as Error).name });
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
