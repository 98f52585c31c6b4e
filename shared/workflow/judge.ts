/**
 * Judging one comparison request (docs/judges.md; docs/api.md, "What happens behind the API"): read the two essays from the table (never from
 * the message), ask the batch's provider, and send exactly one callback — a verdict, or a failure
 * with a reason. Retryable failures are retried in process with backoff, then left to SQS
 * redelivery; the last delivery sends a failure callback instead of giving up silently.
 * For a mock batch the seeded delivery faults apply: a dropped callback (the sweeper times it
 * out) or extra copies (the callback function counts one).
 */

import type { EngineConfig } from '#domain/config.ts';
import type { JudgeChoice } from '#messages/api.ts';
import type { Callback, ComparisonRequest } from '#messages/queue.ts';
import { retryDelayMs } from '#shared/judges/http.ts';
import { MockJudgeProvider } from '#shared/judges/mock.ts';
import type {
  JudgeFailure,
  JudgeProvider,
  JudgeRequest,
  JudgeResult,
} from '#shared/judges/port.ts';
import { type PacedCall, pacedCall, reportAnswer, takeSlot } from './judge-pacing.ts';
import type { JudgeStore, Queues, RateLimitStore, Sleep } from './ports.ts';
import type { StoredEssay } from './store-records.ts';
import { MetricName, type Telemetry } from './telemetry.ts';

export interface JudgeDeps {
  store: JudgeStore & RateLimitStore;
  /** `sendCallbackBatch`: the handler sends an invocation's callbacks together (callback-batch.ts). */
  messaging: Pick<Queues, 'sendCallback' | 'sendCallbackBatch' | 'deferComparisonRequest'>;
  telemetry: Telemetry;
  config: EngineConfig;
  now: () => Date;
  sleep: Sleep;
  /** Uniform in [0, 1), for backoff jitter. */
  random: () => number;
  providerFor: (choice: JudgeChoice) => JudgeProvider;
}

/** Thrown to leave a request to SQS redelivery after the in-process retries ran out. */
export class RetryLaterError extends Error {
  constructor(readonly failure: JudgeFailure) {
    super(`judge failed (${failure.kind}: ${failure.reason}); leaving the request to redelivery`);
    this.name = 'RetryLaterError';
  }
}

/**
 * `skipped`: the comparison already had its result (or does not exist); nothing was called.
 * `claimed_elsewhere`: another copy of the request holds a live lease on the comparison (it is
 * judging it and sends the callback); nothing was called, and this copy was re-sent to return when
 * that lease ends, so the comparison is still judged if the holder dies.
 * `deferred`: the shared rate limiter had no slot soon enough; the request was re-sent with a delay.
 */
export type JudgeOutcome =
  | 'verdict'
  | 'failure'
  | 'dropped'
  | 'unknown_batch'
  | 'skipped'
  | 'claimed_elsewhere'
  | 'deferred';

/** The limiter could not serve the request soon enough: re-send it after `waitMs`. */
interface Deferral {
  outcome: 'deferred';
  waitMs: number;
  reason: string;
  /** The provider-call slot booked for it (epoch ms), carried by the re-sent request. */
  slotAt?: number;
}

function failureCallback(
  request: ComparisonRequest,
  failure: Pick<JudgeFailure, 'kind' | 'reason'>,
): Callback {
  return {
    v: 1,
    batch_id: request.batch_id,
    comparison_id: request.comparison_id,
    outcome: 'failure',
    failure_kind: failure.kind,
    reason: failure.reason,
  };
}

function toCallback(request: ComparisonRequest, result: JudgeResult): Callback {
  if (result.outcome === 'failure') return failureCallback(request, result);
  return {
    v: 1,
    batch_id: request.batch_id,
    comparison_id: request.comparison_id,
    outcome: 'verdict',
    winner: result.winner,
    ...(result.confidence === undefined ? {} : { confidence: result.confidence }),
    ...(result.usage === undefined ? {} : { usage: result.usage }),
  };
}

/**
 * Up to JUDGE_INPROCESS_ATTEMPTS provider calls, each after a slot from the shared rate limiter
 * (when the provider has a configured limit); a deferral when the limiter has none soon enough.
 */
async function judgeWithRetries(
  deps: JudgeDeps,
  provider: JudgeProvider,
  request: JudgeRequest,
  paced: PacedCall,
  slotAt: number | undefined,
): Promise<JudgeResult | Deferral> {
  const { config } = deps;
  let result: JudgeResult = {
    outcome: 'failure',
    kind: 'provider_error',
    reason: 'not_called',
    retryable: true,
  };
  for (let attempt = 1; attempt <= config.JUDGE_INPROCESS_ATTEMPTS; attempt += 1) {
    // The slot booked for a deferred request serves its first attempt only.
    const slot = await takeSlot(
      deps,
      paced,
      attempt === 1 && slotAt !== undefined ? { at: slotAt } : undefined,
    );
    if (slot !== null && !slot.go) {
      return {
        outcome: 'deferred',
        waitMs: slot.waitMs,
        reason: slot.reason,
        ...(slot.reservation ? { slotAt: slot.reservation.at } : {}),
      };
    }
    try {
      result = await provider.judge(request);
    } catch (error) {
      // Unexpected provider errors are retryable; only the error's name is kept (no payloads).
      result = {
        outcome: 'failure',
        kind: 'provider_error',
        reason: `exception_${(error as Error).name ?? 'Error'}`.slice(0, 64),
        retryable: true,
      };
    }
    await reportAnswer(deps, paced, slot, result);
    if (result.outcome === 'verdict' || !result.retryable) return result;
    if (attempt < config.JUDGE_INPROCESS_ATTEMPTS) {
      await deps.sleep(retryDelayMs(attempt, result, config, deps.random));
    }
  }
  return result;
}

/** An essay as the provider sees it: id, text and metadata (never its index or grade). */
function judgedEssay(essay: StoredEssay): JudgeRequest['essayA'] {
  return {
    id: essay.id,
    text: essay.text,
    ...(essay.metadata ? { metadata: essay.metadata } : {}),
  };
}

export async function processComparisonRequest(
  deps: JudgeDeps,
  request: ComparisonRequest,
  receiveCount: number,
): Promise<JudgeOutcome> {
  const { store, telemetry, messaging } = deps;
  const fields = {
    batch_id: request.batch_id,
    comparison_id: request.comparison_id,
    attempt: request.attempt,
    receive_count: receiveCount,
  };
  const send = async (callback: Callback, copies = 1): Promise<JudgeOutcome> => {
    for (let copy = 0; copy < copies; copy += 1) await messaging.sendCallback(callback);
    telemetry.info('judge_callback_sent', {
      ...fields,
      outcome: callback.outcome,
      copies,
      ...(callback.outcome === 'failure' ? { failure_kind: callback.failure_kind } : {}),
      ...(callback.outcome === 'verdict' && callback.usage ? { usage: callback.usage } : {}),
    });
    return callback.outcome;
  };

  const context = await store.loadJudgeContext(request.batch_id, request.comparison_id, [
    request.a,
    request.b,
  ]);
  const { batch } = context;
  if (!batch) {
    telemetry.warn('judge_request_for_unknown_batch', fields);
    return 'unknown_batch';
  }
  // Already answered (a re-sent request, an SQS duplicate): the provider is not called again.
  if (context.comparisonStatus !== 'PENDING') {
    telemetry.info('judge_request_skipped', {
      ...fields,
      comparison_status: context.comparisonStatus ?? 'unknown',
    });
    return 'skipped';
  }
  if (batch.status !== 'RUNNING') {
    return send(failureCallback(request, { kind: 'invalid_request', reason: 'batch_not_running' }));
  }
  if (deps.now().getTime() > Date.parse(request.deadline)) {
    return send(failureCallback(request, { kind: 'timeout', reason: 'deadline_passed' }));
  }
  const essayA = context.essays.get(request.a);
  const essayB = context.essays.get(request.b);
  if (!essayA || !essayB) {
    return send(failureCallback(request, { kind: 'invalid_request', reason: 'essay_missing' }));
  }

  let provider: JudgeProvider;
  try {
    if (!context.settings) throw new Error('batch settings missing');
    provider = deps.providerFor(context.settings.judge);
  } catch {
    return send(
      failureCallback(request, { kind: 'invalid_request', reason: 'invalid_judge_settings' }),
    );
  }
  // One conditional write before the provider call: a lease as long as a judge invocation, so a
  // copy of this request (an SQS duplicate, a re-sent wave, a crashed holder's redelivery) never
  // calls the provider while a live delivery may still be judging it.
  const claim = await store.claimComparison(request.batch_id, request.comparison_id, {
    until: new Date(deps.now().getTime() + deps.config.JUDGE_CLAIM_SECONDS * 1000),
    now: deps.now(),
  });
  if (claim.outcome === 'held') {
    // Not acknowledged without a successor: this copy comes back when the lease ends, and then
    // skips the comparison if the holder answered it, or takes the lease over if the holder died.
    const delaySeconds = Math.max(
      1,
      Math.ceil((claim.claimedUntil.getTime() - deps.now().getTime()) / 1000) + 1,
    );
    await messaging.deferComparisonRequest(request, delaySeconds);
    telemetry.info('judge_request_claimed_elsewhere', {
      ...fields,
      claimed_until: claim.claimedUntil.toISOString(),
      delay_s: delaySeconds,
    });
    return 'claimed_elsewhere';
  }
  // The request goes back to the queue without a callback (retry later, deferral, an error):
  // give the claim up so its next delivery may claim it at once.
  const release = () =>
    store.releaseClaim(request.batch_id, request.comparison_id, claim.token, deps.now());
  // An error after the claim: give it up if the store answers, and surface the error itself.
  const releaseAndRethrow = async (error: unknown): Promise<never> => {
    await release().catch(() => undefined);
    throw error;
  };
  const key = {
    batchId: request.batch_id,
    comparisonId: request.comparison_id,
    attempt: request.attempt,
  };
  const paced = pacedCall(
    deps.config,
    request.batch_id,
    context.settings.judge,
    essayA.text.length + essayB.text.length,
  );
  let result: JudgeResult | Deferral;
  try {
    result = await judgeWithRetries(
      deps,
      provider,
      { essayA: judgedEssay(essayA), essayB: judgedEssay(essayB), key },
      paced,
      request.rate_slot_at,
    );
  } catch (error) {
    return releaseAndRethrow(error);
  }
  if (result.outcome === 'deferred') {
    await release();
    const delaySeconds = Math.ceil(result.waitMs / 1000);
    // Back shortly before its turn, with the slot booked for it (if any) and no stale one.
    const { rate_slot_at: _stale, ...unslotted } = request;
    await messaging.deferComparisonRequest(
      result.slotAt === undefined ? unslotted : { ...unslotted, rate_slot_at: result.slotAt },
      delaySeconds,
    );
    telemetry.info('judge_request_deferred', {
      ...fields,
      limiter: paced.key,
      reason: result.reason,
      delay_s: delaySeconds,
      slot_booked: result.slotAt !== undefined,
    });
    telemetry.count(MetricName.JudgeRequestsDeferred);
    return 'deferred';
  }
  if (result.outcome === 'failure' && result.retryable) {
    const lastDelivery = receiveCount >= deps.config.QUEUE_MAX_RECEIVE_COUNT - 1;
    if (!lastDelivery) {
      telemetry.warn('judge_retry_later', {
        ...fields,
        failure_kind: result.kind,
        reason: result.reason,
      });
      await release();
      throw new RetryLaterError(result);
    }
  }

  const delivery =
    provider instanceof MockJudgeProvider
      ? provider.delivery(key)
      : { drop: false, extraCopies: 0 };
  if (delivery.drop) {
    telemetry.info('judge_callback_dropped_by_mock', fields);
    return 'dropped';
  }
  // The lease is left to expire (no second write): by then the callback is recorded, and a copy
  // that comes back finds the comparison answered.
  try {
    return await send(toCallback(request, result), 1 + delivery.extraCopies);
  } catch (error) {
    return releaseAndRethrow(error);
  }
}
