/**
 * The sweeper (every minute; docs/data-model.md, "The sweeper" and "Crash safety"). It walks the
 * RUNNING batches: for one whose current wave is past its deadline with callbacks still pending,
 * the wave's PENDING comparisons past their deadline become `timeout` failures through the same
 * atomic path as callbacks (one transaction per batch for them, then the gate, then maybe a
 * trigger), each overdue batch taking an equal share of the run's quota; RUNNING batches with
 * nothing pending are re-triggered (the FIFO dedup id makes a repeat harmless), so a lost trigger
 * never strands a batch; and the total of pending callbacks is emitted as a gauge.
 */
import { pendingCallbacks } from '#domain/batch-state.ts';
import type { EngineConfig } from '#domain/config.ts';
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
  /** RUNNING batches whose current wave was past its deadline with callbacks pending. */
  overdue_batches: number;
  retriggered: number;
  active_batches: number;
  pending_callbacks: number;
  /** Of those, the callbacks of batches judged in provider batches (expected to wait hours). */
  pending_provider_batch_callbacks: number;
  errors: number;
}

/** Whether a RUNNING batch's current wave may hold comparisons past their deadline. */
function overdue(batch: BatchMeta, now: Date): boolean {
  if (pendingCallbacks(batch) <= 0) return false;
  // META written before wave_deadline existed: look (each comparison's own deadline decides).
  if (batch.wave_deadline === undefined) return true;
  return Date.parse(batch.wave_deadline) < now.getTime();
}

/**
 * The overdue batches in the order one run serves them: a different first batch each minute, so
 * no batch is always served last when the quota runs out.
 */
export function batchOrder<T>(now: Date, batches: readonly T[]): T[] {
  if (batches.length === 0) return [];
  const first = Math.floor(now.getTime() / 60_000) % batches.length;
  return batches.map((_, offset) => batches[(first + offset) % batches.length] as T);
}

function timeoutOf(comparison: ExpiredComparison): Callback {
  return {
    v: 1,
    batch_id: comparison.batch_id,
    comparison_id: comparison.comparison_id,
    outcome: 'failure',
    failure_kind: 'timeout',
    reason: 'deadline_passed',
  };
}

/**
 * Times out up to `limit` expired comparisons of one batch's current wave in one store call;
 * returns how many it listed (the batch had more when that equals `limit`).
 */
async function timeOutWave(
  deps: SweeperDeps,
  batch: BatchMeta,
  now: Date,
  limit: number,
  summary: SweepSummary,
): Promise<number> {
  const { store, telemetry } = deps;
  const expired = await store.listExpiredInWave(
    batch.batch_id,
    batch.current_iteration,
    now,
    limit,
  );
  if (expired.length === 0) return 0;
  const outcomes = await store.recordCallbacks(expired.map(timeoutOf), now);
  expired.forEach((comparison, index) => {
    const outcome = outcomes[index];
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
  });
  return expired.length;
}

/**
 * The run's quota over the overdue batches: first an equal share each, taken in turn (batchOrder),
 * then what the batches that had fewer left over, to the batches that had more, in the same order.
 * So one batch with thousands of lost callbacks never starves another's few. Returns the batches
 * whose timeouts were recorded.
 */
async function timeOutOverdue(
  deps: SweeperDeps,
  batches: readonly BatchMeta[],
  now: Date,
  summary: SweepSummary,
): Promise<Set<string>> {
  const limit = deps.config.SWEEPER_MAX_TIMEOUTS_PER_RUN;
  const order = batchOrder(now, batches);
  // Rounded down, so every batch gets its share before any gets more (at least one each).
  const quota = Math.max(1, Math.floor(limit / Math.max(1, order.length)));
  const touched = new Set<string>();
  const full: BatchMeta[] = [];
  let taken = 0;
  const serve = async (batch: BatchMeta, take: number): Promise<number> => {
    try {
      const listed = await timeOutWave(deps, batch, now, take, summary);
      if (listed > 0) touched.add(batch.batch_id);
      return listed;
    } catch (error) {
      summary.errors += 1;
      deps.telemetry.error('sweeper_timeout_failed', {
        batch_id: batch.batch_id,
        error: (error as Error).name,
      });
      return 0;
    }
  };
  for (const batch of order) {
    const take = Math.min(quota, limit - taken);
    if (take <= 0) break;
    const listed = await serve(batch, take);
    taken += listed;
    if (listed === take) full.push(batch);
  }
  for (const batch of full) {
    const left = limit - taken;
    if (left <= 0) break;
    // The first share is timed out already (strongly consistent: not listed again).
    taken += await serve(batch, left);
  }
  return touched;
}

export async function runSweep(deps: SweeperDeps): Promise<SweepSummary> {
  const { store, telemetry } = deps;
  const now = deps.now();
  const summary: SweepSummary = {
    timed_out: 0,
    overdue_batches: 0,
    retriggered: 0,
    active_batches: 0,
    pending_callbacks: 0,
    pending_provider_batch_callbacks: 0,
    errors: 0,
  };

  const activeIds = await store.listActiveBatches();
  const read = await store.getBatches(activeIds);
  const running = activeIds
    .map((batchId) => read.get(batchId))
    .filter((batch): batch is BatchMeta => batch?.status === 'RUNNING');
  const late = running.filter((batch) => overdue(batch, now));
  summary.overdue_batches = late.length;
  const timedOut = await timeOutOverdue(deps, late, now, summary);

  const triggered = new Set<string>();
  for (const listed of running) {
    const batchId = listed.batch_id;
    try {
      // After timeouts, one fresh META read for the gate; the others use the read above.
      const batch = timedOut.has(batchId) ? await store.getBatch(batchId) : listed;
      if (batch?.status !== 'RUNNING') continue;
      summary.active_batches += 1;
      const pending = Math.max(0, pendingCallbacks(batch));
      summary.pending_callbacks += pending;
      // Settings never change and are cached per container: read only for a batch that waits.
      const judge = pending > 0 ? (await store.getSettings(batchId))?.judge : undefined;
      if (judge && providerBatchOf(judge) !== null) {
        summary.pending_provider_batch_callbacks += pending;
      }
      if (timedOut.has(batchId)) {
        if (await recheckGate(deps, batch, 'sweeper')) triggered.add(batchId);
        continue;
      }
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
