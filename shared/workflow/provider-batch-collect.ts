/**
 * Collecting an ended provider batch: its results are streamed line by line and every comparison
 * of the part gets exactly one callback through the callback queue (the same atomic path as a
 * synchronous judge's): a verdict, a failure with the provider's reason, or — for a request no line
 * answered — `provider_batch_missing`.
 *
 * Resumable: the part stores a cursor (result lines whose callbacks were sent) under a collection
 * claim. A run that stops (time budget, crash, a broken download) leaves the cursor; the next run
 * reads the file again from the start, rebuilds which comparisons were answered, and sends only
 * from the cursor on. A crash between sending and saving the cursor re-sends a few callbacks, which
 * the callback path records as duplicates (never counted twice).
 */
import { comparisonId, parseComparisonId } from '#messages/common.ts';
import type { Callback } from '#messages/queue.ts';
import { MISSING_REASON } from '#shared/judges/batch/outcomes.ts';
import { AnsweredSet } from '#shared/judges/batch/parts.ts';
import type {
  ProviderBatchApi,
  ProviderBatchStatus,
  ProviderResultOutcome,
} from '#shared/judges/batch/port.ts';
import { estimateCost } from '#shared/judges/pricing.ts';
import { confidenceFraction } from '#shared/judges/prompt.ts';
import { type JudgedBatch, logFields, type ProviderBatchDeps } from './provider-batch-deps.ts';
import { type ProviderBatchPart, partKeyOf } from './store-records.ts';
import { MetricName } from './telemetry.ts';

/** Callbacks sent per round (SendMessageBatch of 10, a few in parallel), then the cursor moves. */
const SEND_ROUND = 100;
/** The cursor is saved after this many sent lines (and whenever a run stops). */
const CURSOR_EVERY = 1_000;

export type CollectOutcome = 'collected' | 'paused' | 'not_claimed';

interface Counts {
  verdicts: number;
  failures: number;
  missing: number;
  foreign: number;
  unreadable: number;
  repeated: number;
}

/** A result line's callback: a verdict costed at the batch price, or the failure it reported. */
export function resultCallback(
  deps: Pick<ProviderBatchDeps, 'config'>,
  batch: JudgedBatch,
  customId: string,
  outcome: ProviderResultOutcome,
): Callback {
  const base = { v: 1 as const, batch_id: batch.batch_id, comparison_id: customId };
  if (!outcome.ok) {
    return { ...base, outcome: 'failure', failure_kind: outcome.kind, reason: outcome.reason };
  }
  const model = (outcome.tokens.model ?? (batch.judge as { model?: string }).model ?? '').slice(
    0,
    128,
  );
  const cost = estimateCost(
    model,
    outcome.tokens,
    deps.config.JUDGE_MODEL_PRICES_USD_PER_MTOK,
    'batch',
  );
  return {
    ...base,
    outcome: 'verdict',
    winner: outcome.answer.winner,
    confidence: confidenceFraction(outcome.answer.confidence),
    usage: {
      ...(outcome.tokens.input_tokens === undefined
        ? {}
        : { input_tokens: outcome.tokens.input_tokens }),
      ...(outcome.tokens.output_tokens === undefined
        ? {}
        : { output_tokens: outcome.tokens.output_tokens }),
      model,
      calls: 1,
      cost_usd: cost.cost_usd,
      ...(cost.price_unverified ? { price_unverified: true } : {}),
    },
  };
}

export async function collectPart(
  deps: ProviderBatchDeps,
  claimable: ProviderBatchPart,
  batch: JudgedBatch,
  api: ProviderBatchApi,
  status: ProviderBatchStatus,
): Promise<CollectOutcome> {
  const now = deps.now();
  const key = partKeyOf(claimable);
  const part = await deps.store.claimCollection(key, {
    token: deps.newToken(),
    now,
    leaseUntil: new Date(now.getTime() + deps.config.PROVIDER_BATCH_LEASE_SECONDS * 1000),
  });
  if (!part || part.to_index === undefined) return 'not_claimed';
  const token = part.claim_token ?? '';
  const answered = new AnsweredSet(part.from_index, part.to_index);
  const counts: Counts = {
    verdicts: 0,
    failures: 0,
    missing: 0,
    foreign: 0,
    unreadable: 0,
    repeated: 0,
  };
  let cursor = part.cursor ?? 0;
  let savedCursor = cursor;
  let round: Callback[] = [];
  let roundEnd = cursor;

  const flush = async (): Promise<void> => {
    if (round.length > 0) await deps.messaging.sendCallbacks(round);
    round = [];
    cursor = roundEnd;
    if (cursor - savedCursor >= CURSOR_EVERY) await save();
  };
  const save = async (release = false): Promise<void> => {
    if (cursor === savedCursor && !release) return;
    if (!(await deps.store.saveCursor(key, { token, cursor, release, now: deps.now() }))) {
      throw new Error('collection claim lost');
    }
    savedCursor = cursor;
  };
  const pause = async (): Promise<CollectOutcome> => {
    await flush();
    // Release the claim so the next run resumes at once instead of after the lease.
    await save(true);
    deps.telemetry.info('provider_batch_collection_paused', { ...logFields(part), cursor });
    return 'paused';
  };

  try {
    if (status.failure) {
      // Refused as a whole: no results exist; every comparison fails with the provider's reason.
      for (let index = part.from_index; index < part.to_index; index += 1) {
        answered.mark(index);
        const position = index - part.from_index;
        counts.failures += 1;
        if (position < cursor) continue;
        round.push({
          v: 1,
          batch_id: part.batch_id,
          comparison_id: comparisonId(part.iteration, index),
          outcome: 'failure',
          failure_kind: status.failure.kind,
          reason: status.failure.reason,
        });
        roundEnd = position + 1;
        if (round.length >= SEND_ROUND) await flush();
      }
    } else {
      for await (const line of api.results(status)) {
        if (line.customId === null) {
          counts.unreadable += 1;
          continue;
        }
        const id = parseComparisonId(line.customId);
        if (!id || id.iteration !== part.iteration || !answered.has(id.index)) {
          counts.foreign += 1;
          continue;
        }
        if (!answered.mark(id.index)) {
          counts.repeated += 1;
          continue;
        }
        if (line.outcome.ok) counts.verdicts += 1;
        else counts.failures += 1;
        if (line.position < cursor) continue;
        round.push(resultCallback(deps, batch, line.customId, line.outcome));
        roundEnd = line.position + 1;
        if (round.length >= SEND_ROUND) {
          await flush();
          if (deps.remainingMs() < deps.config.PROVIDER_BATCH_STOP_BEFORE_TIMEOUT_MS) {
            return await pause();
          }
        }
      }
    }
    await flush();
  } catch (error) {
    // Keep what was sent; the next run resumes from the saved cursor.
    round = [];
    await save(true).catch(() => undefined);
    throw error;
  }

  // Requests no line answered: one failure each. Sent after every line, so a crash here re-sends
  // them on the next run (duplicates the callback path ignores).
  const missing: Callback[] = [];
  for (const index of answered.missing()) {
    counts.missing += 1;
    missing.push({
      v: 1,
      batch_id: part.batch_id,
      comparison_id: comparisonId(part.iteration, index),
      outcome: 'failure',
      failure_kind: 'provider_error',
      reason: MISSING_REASON,
    });
  }
  await deps.messaging.sendCallbacks(missing);
  await deps.store.finishProviderBatchPart(key, {
    state: 'COLLECTED',
    token,
    outcomeCounts: { ...counts },
    now: deps.now(),
  });
  deps.telemetry.info('provider_batch_collected', {
    ...logFields(part),
    provider_status: status.providerStatus,
    ...counts,
  });
  deps.telemetry.count(MetricName.ProviderBatchesCollected);
  await api.cleanup(status);
  return 'collected';
}
