/**
 * The provider-batches step (scheduled every minute) for batches with judge.mode provider_batch:
 * every open part of a committed wave is moved one step on — submitted as one provider batch,
 * recovered after a lost create, polled, collected into one callback per comparison once it has
 * ended — and provider batches of a batch that stopped running (cancelled, finalized) or that
 * outlived their comparisons' deadline are cancelled at the provider. Their late results still come
 * back through the callback path, which records them as late.
 *
 * A run starts no new part after PROVIDER_BATCH_RUN_SECONDS, so runs a minute apart rarely
 * overlap; when they do, the claims keep each part with one run. Every run publishes the
 * dashboard's gauges: provider batches in flight and the age of the oldest.
 */
import { ProviderBatchCallError } from '#shared/judges/batch/http.ts';
import type { ProviderBatchApi } from '#shared/judges/batch/port.ts';
import { collectPart } from './provider-batch-collect.ts';
import { type JudgedBatch, logFields, type ProviderBatchDeps } from './provider-batch-deps.ts';
import { recoverSubmission, submitPart } from './provider-batch-submit.ts';
import { type OpenPart, type ProviderBatchPart, partKeyOf } from './store-records.ts';
import { MetricName } from './telemetry.ts';

export interface ProviderBatchRunSummary {
  open_parts: number;
  oldest_age_seconds: number;
  submitted: number;
  collected: number;
  cancelled: number;
  errors: number;
}

/** Most open parts listed per run (the rest wait for the next run, oldest first). */
const MAX_PARTS_PER_RUN = 500;

export async function runProviderBatches(
  deps: ProviderBatchDeps,
): Promise<ProviderBatchRunSummary> {
  const started = deps.now().getTime();
  const open = await deps.store.listOpenProviderBatchParts(MAX_PARTS_PER_RUN);
  const planned = open.map((entry) => Date.parse(entry.plannedAt)).filter(Number.isFinite);
  const oldest = planned.length > 0 ? Math.min(...planned) : started;
  const summary: ProviderBatchRunSummary = {
    open_parts: open.length,
    oldest_age_seconds: Math.max(0, Math.round((started - oldest) / 1000)),
    submitted: 0,
    collected: 0,
    cancelled: 0,
    errors: 0,
  };
  // The gauges first: they must be published even when a part keeps failing.
  deps.telemetry.gauge(MetricName.ProviderBatchesInFlight, summary.open_parts);
  deps.telemetry.gauge(MetricName.ProviderBatchOldestAgeSeconds, summary.oldest_age_seconds);

  for (const entry of open) {
    const elapsed = deps.now().getTime() - started;
    if (
      elapsed > deps.config.PROVIDER_BATCH_RUN_SECONDS * 1000 ||
      deps.remainingMs() < deps.config.PROVIDER_BATCH_STOP_BEFORE_TIMEOUT_MS
    ) {
      break;
    }
    try {
      await advancePart(deps, entry, summary);
    } catch (error) {
      summary.errors += 1;
      deps.telemetry.error('provider_batch_step_failed', {
        batch_id: entry.batchId,
        iteration: entry.iteration,
        part: entry.part,
        error: error instanceof ProviderBatchCallError ? error.reason : (error as Error).name,
      });
    }
  }
  deps.telemetry.info('provider_batches_run', { ...summary });
  return summary;
}

async function advancePart(
  deps: ProviderBatchDeps,
  entry: OpenPart,
  summary: ProviderBatchRunSummary,
): Promise<void> {
  const part = await deps.store.getProviderBatchPart(entry);
  if (!part) return;
  const meta = await deps.store.getBatch(part.batch_id);
  const settings = meta ? await deps.store.getSettings(part.batch_id) : null;
  if (!meta || !settings) {
    await abandon(deps, part, 'batch_missing');
    return;
  }
  const batch: JudgedBatch = { ...meta, judge: settings.judge };
  const now = deps.now();
  switch (part.state) {
    case 'PLANNED': {
      // A batch that no longer runs gets no new provider batch (its comparisons are never needed),
      // nor does a part whose comparisons were timed out already.
      if (batch.status !== 'RUNNING') return abandon(deps, part, 'batch_not_running');
      if (now.getTime() > Date.parse(part.deadline)) return abandon(deps, part, 'deadline_passed');
      const api = await deps.apiFor(batch.judge);
      await submitPart(deps, part, batch, api);
      const after = await deps.store.getProviderBatchPart(entry);
      if (after?.state === 'SUBMITTED') summary.submitted += 1;
      return;
    }
    case 'SUBMITTING': {
      if (Date.parse(part.lease_until ?? part.planned_at) > now.getTime()) return;
      await recoverSubmission(deps, part, batch, await deps.apiFor(batch.judge));
      return;
    }
    case 'SUBMITTED':
    case 'COLLECTING': {
      const api = await deps.apiFor(batch.judge);
      if (await cancelIfUnwanted(deps, part, batch, api)) summary.cancelled += 1;
      const status = await api.retrieve(part.provider_batch_id ?? '');
      if (status.phase !== 'ended') return;
      if ((await collectPart(deps, part, batch, api, status)) === 'collected') {
        summary.collected += 1;
      }
      return;
    }
    default:
      return;
  }
}

/**
 * Cancels the provider batch of a part whose results are no longer wanted (the batch was cancelled
 * or finalized) or due (its comparisons' deadline passed: the sweeper times them out). Once.
 */
async function cancelIfUnwanted(
  deps: ProviderBatchDeps,
  part: ProviderBatchPart,
  batch: JudgedBatch,
  api: ProviderBatchApi,
): Promise<boolean> {
  if (part.cancel_requested_at || !part.provider_batch_id) return false;
  const pastDeadline = deps.now().getTime() > Date.parse(part.deadline);
  if (batch.status === 'RUNNING' && !pastDeadline) return false;
  const status = await api.cancel(part.provider_batch_id);
  await deps.store.markCancelRequested(partKeyOf(part), deps.now());
  deps.telemetry.info('provider_batch_cancel_requested', {
    ...logFields(part),
    batch_status: batch.status,
    past_deadline: pastDeadline,
    provider_status: status.providerStatus,
  });
  return true;
}

async function abandon(
  deps: ProviderBatchDeps,
  part: ProviderBatchPart,
  reason: string,
): Promise<void> {
  await deps.store.finishProviderBatchPart(partKeyOf(part), {
    state: 'ABANDONED',
    reason,
    now: deps.now(),
  });
  deps.telemetry.info('provider_batch_part_abandoned', { ...logFields(part), reason });
}
