/**
 * A batch's wave history (`GET /batches/{id}/waves`, contract in `#messages/waves.ts`), derived
 * from what the store already keeps: each comparison's wave, kind, status, deadline and the time
 * its callback was recorded. A wave was planned at its comparisons' deadline minus the batch's
 * COMPARISON_DEADLINE_SECONDS (the continuation sets one deadline per wave). The decision and
 * reason of a wave come from the engine's per-wave ledger where the store has one; without it they
 * are null and the wave's kind says what it was for.
 */
import { resolveConfig } from '#domain/config.ts';
import type { BatchWaves, PendingPoint, WaveSummary } from '#messages/waves.ts';
import { type Caller, visibleBatch } from './access.ts';
import type { BatchStore, HistoryStore } from './ports.ts';
import type { BatchMeta, BatchSettings, ComparisonHistoryRow } from './store-records.ts';

export interface WavesDeps {
  store: Pick<BatchStore, 'getBatch' | 'getSettings'> & HistoryStore;
}

/** One change of the pending count: +1 when a request is sent, −1 when its callback is recorded. */
interface PendingStep {
  at: number;
  delta: number;
  waveStart: boolean;
}

/**
 * Pending callbacks over time, thinned to at most `maxPoints`: every wave start is kept, and
 * within each equal time slice between them only the highest count (so a peak is never lost).
 */
export function pendingTimeline(
  steps: readonly PendingStep[],
  maxPoints: number,
): Array<{ at: number; pending: number; waveStart: boolean }> {
  const sorted = [...steps].sort((x, y) => x.at - y.at || y.delta - x.delta);
  // Collapse steps at the same instant: the count just after the instant.
  const points: Array<{ at: number; pending: number; waveStart: boolean }> = [];
  let pending = 0;
  for (const step of sorted) {
    pending += step.delta;
    const last = points.at(-1);
    if (last && last.at === step.at) {
      last.pending = pending;
      last.waveStart ||= step.waveStart;
    } else {
      points.push({ at: step.at, pending, waveStart: step.waveStart });
    }
  }
  if (points.length <= maxPoints) return points;
  const kept = points.filter((point) => point.waveStart);
  const slots = Math.max(1, maxPoints - kept.length - 1);
  const first = points[0]?.at ?? 0;
  const span = Math.max(1, (points.at(-1)?.at ?? first) - first);
  const best = new Map<number, (typeof points)[number]>();
  for (const point of points) {
    if (point.waveStart) continue;
    const slot = Math.min(slots - 1, Math.floor(((point.at - first) / span) * slots));
    const current = best.get(slot);
    if (!current || point.pending > current.pending) best.set(slot, point);
  }
  const last = points.at(-1);
  const thinned = [...kept, ...best.values()];
  if (last && !thinned.includes(last)) thinned.push(last);
  return thinned.sort((x, y) => x.at - y.at);
}

/** The wave history of one batch from its META, its config overrides and its comparison rows. */
export function waveHistory(
  batch: BatchMeta,
  overrides: BatchSettings['config'],
  comparisons: readonly ComparisonHistoryRow[],
): BatchWaves {
  const config = resolveConfig(overrides);
  const deadlineMs = config.COMPARISON_DEADLINE_SECONDS * 1000;
  const waves = new Map<number, WaveSummary & { plannedMs: number | null; settledMs: number }>();
  const steps: PendingStep[] = [];
  // Comparisons of a wave above current_iteration were left by an interrupted planWave: not sent.
  for (const row of comparisons) {
    if (row.iteration > batch.current_iteration) continue;
    let wave = waves.get(row.iteration);
    if (!wave) {
      const deadline = Date.parse(row.deadline);
      const plannedMs = Number.isNaN(deadline) ? null : deadline - deadlineMs;
      wave = {
        iteration: row.iteration,
        kind: row.kind,
        size: 0,
        completed: 0,
        failed: 0,
        timed_out: 0,
        pending: 0,
        planned_at: plannedMs === null ? null : new Date(plannedMs).toISOString(),
        settled_at: null,
        decision: null,
        reason: null,
        plannedMs,
        settledMs: 0,
      };
      waves.set(row.iteration, wave);
    }
    wave.size += 1;
    if (row.status === 'PENDING') wave.pending += 1;
    else if (row.status === 'COMPLETED') wave.completed += 1;
    else {
      wave.failed += 1;
      if (row.failure_kind === 'timeout') wave.timed_out += 1;
    }
    if (wave.plannedMs !== null) steps.push({ at: wave.plannedMs, delta: 1, waveStart: true });
    const recorded = row.recorded_at ? Date.parse(row.recorded_at) : Number.NaN;
    if (row.status !== 'PENDING' && !Number.isNaN(recorded)) {
      steps.push({ at: recorded, delta: -1, waveStart: false });
      wave.settledMs = Math.max(wave.settledMs, recorded);
    }
  }
  const ordered = [...waves.values()].sort((x, y) => x.iteration - y.iteration);
  const timeline: PendingPoint[] = pendingTimeline(steps, config.WAVE_HISTORY_MAX_POINTS).map(
    (point) => ({ at: new Date(point.at).toISOString(), pending: point.pending }),
  );
  return {
    v: 1,
    batch_id: batch.batch_id,
    status: batch.status,
    failure_reason: batch.failure_reason ?? null,
    created_at: batch.created_at,
    finalized_at: batch.finalized_at ?? null,
    waves: ordered.map(({ plannedMs: _planned, settledMs, ...wave }) => ({
      ...wave,
      settled_at: wave.pending === 0 && settledMs > 0 ? new Date(settledMs).toISOString() : null,
    })),
    pending_timeline: timeline,
  };
}

/** `GET /batches/{id}/waves` (its owner's or an admin's; anyone else's is a 404). */
export async function getWaves(
  deps: WavesDeps,
  batchId: string,
  caller: Caller,
): Promise<{ status: number; body: BatchWaves }> {
  const batch = visibleBatch(caller, batchId, await deps.store.getBatch(batchId, false));
  const [settings, comparisons] = await Promise.all([
    deps.store.getSettings(batchId),
    deps.store.listComparisonHistory(batchId),
  ]);
  return { status: 200, body: waveHistory(batch, settings?.config ?? {}, comparisons) };
}
