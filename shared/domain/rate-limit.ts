/**
 * The shared provider rate limiter's logic (docs/judges.md, "Rate limits"): pure, so the judge, the
 * store adapter and the benchmark all run the same arithmetic on one small state per limiter key
 * (a provider or named endpoint).
 *
 * Requests and tokens are each paced by GCRA (the "virtual scheduling" form of a token bucket):
 * one number per bucket, the theoretical arrival time `tat`. A request costing c units is admitted
 * when `max(tat, now) − now ≤ tolerance`, and then moves `tat` on by c × interval, where
 * interval = 60,000 ms / (limit per minute × utilization × adaptive factor). The tolerance allows a
 * burst of `burst` requests (and of `burst` seconds of tokens) and nothing more.
 *
 * Adaptive back-off: a 429 multiplies the adaptive factor by RATE_LIMIT_BACKOFF_FACTOR (never below
 * RATE_LIMIT_MIN_FACTOR) and blocks the key until the provider's retry-after; every admitted
 * success adds RATE_LIMIT_RECOVERY_STEP back (additive increase, multiplicative decrease).
 *
 * Fair sharing: while another batch is waiting (was refused within the active window), a batch may
 * use at most an equal share of the rate: its own GCRA bucket at interval × (active batches). With
 * nobody else waiting a batch may use the whole rate, so sharing never wastes capacity.
 */

import type { EngineConfig } from '#domain/config.ts';

/** A provider's or endpoint's limits. */
export interface RateLimit {
  requestsPerMinute: number;
  /** Input + output tokens per minute; absent: no token limit. */
  tokensPerMinute?: number;
}

export interface RateLimiterOptions {
  /** Share of the limit to aim at (headroom for clock skew and the provider's own counting). */
  utilization: number;
  /** Requests (and seconds of tokens) admitted at once above the steady pace. */
  burst: number;
  /** Multiplier of the adaptive factor on a 429. */
  backoffFactor: number;
  /** Floor of the adaptive factor. */
  minFactor: number;
  /** Added to the adaptive factor per admitted success (up to 1). */
  recoveryStep: number;
  /** A batch counts as waiting this long after it was last refused (ms). */
  activeWindowMs: number;
}

interface BatchShare {
  /** GCRA time of the batch's own share bucket (ms). */
  tat: number;
  /** Last time the batch was refused (ms), or 0. */
  refusedAt: number;
}

/** What is stored per limiter key. */
export interface RateLimiterState {
  requestTat: number;
  tokenTat: number;
  /** Adaptive factor in [minFactor, 1]. */
  factor: number;
  /** No request before this (ms): the provider's retry-after. */
  blockedUntil: number;
  batches: Record<string, BatchShare>;
}

export const INITIAL_RATE_LIMITER_STATE: RateLimiterState = Object.freeze({
  requestTat: 0,
  tokenTat: 0,
  factor: 1,
  blockedUntil: 0,
  batches: Object.freeze({}) as Record<string, BatchShare>,
});

export interface AdmitRequest {
  batchId: string;
  /** Estimated tokens of the call(s) (input + max output), for the token bucket. */
  tokens: number;
  /** Provider calls this admission covers (2 for a comparison judged in both orders); default 1. */
  calls?: number;
  now: number;
  /** Longest wait for a reserved slot the caller accepts (default 0: now or refused). */
  maxWaitMs?: number;
}

export type AdmitRefusal = 'requests' | 'tokens' | 'share' | 'retry_after';

export type AdmitResult =
  /** Call after `waitMs` (0: at once). */
  | { admitted: true; waitMs: number; state: RateLimiterState }
  | { admitted: false; waitMs: number; reason: AdmitRefusal; state: RateLimiterState };

/** Milliseconds per request at the current pace. */
function requestInterval(limit: RateLimit, options: RateLimiterOptions, factor: number): number {
  return 60_000 / (limit.requestsPerMinute * options.utilization * factor);
}

/** Batches refused within the active window (other than `batchId`), and stale entries dropped. */
function otherWaiting(
  batches: Record<string, BatchShare>,
  batchId: string,
  now: number,
  windowMs: number,
): { waiting: number; kept: Record<string, BatchShare> } {
  let waiting = 0;
  const kept: Record<string, BatchShare> = {};
  for (const [id, share] of Object.entries(batches)) {
    const recent = now - share.refusedAt <= windowMs || share.tat > now;
    if (!recent && id !== batchId) continue;
    kept[id] = share;
    if (id !== batchId && now - share.refusedAt <= windowMs) waiting++;
  }
  return { waiting, kept };
}

/**
 * Admits one request, at once or at a reserved time up to `maxWaitMs` ahead (the caller sleeps
 * `waitMs`, then calls), or refuses it saying how long to wait (the caller re-queues it). The
 * returned state is what to store either way.
 */
export function admit(
  state: RateLimiterState,
  request: AdmitRequest,
  limit: RateLimit,
  options: RateLimiterOptions,
): AdmitResult {
  const { now, batchId } = request;
  const { waiting, kept } = otherWaiting(state.batches, batchId, now, options.activeWindowMs);
  const own = kept[batchId] ?? { tat: 0, refusedAt: 0 };
  const calls = Math.max(1, request.calls ?? 1);
  const interval = requestInterval(limit, options, state.factor);
  const tolerance = interval * Math.max(0, options.burst - 1);
  const perToken =
    limit.tokensPerMinute === undefined
      ? 0
      : 60_000 / (limit.tokensPerMinute * options.utilization * state.factor);
  const tokenTolerance = options.burst * 1000;

  // The earliest start each bucket allows; equal shares only while someone else is waiting.
  const waits: [AdmitRefusal, number][] = [
    ['retry_after', state.blockedUntil - now],
    ['requests', state.requestTat - now - tolerance],
    ['tokens', perToken === 0 ? 0 : state.tokenTat - now - tokenTolerance],
    ['share', waiting > 0 ? own.tat - now - tolerance : 0],
  ];
  let [reason, wait] = waits[0] as [AdmitRefusal, number];
  for (const [r, w] of waits) if (w > wait) [reason, wait] = [r, w];
  wait = Math.max(0, wait);
  if (wait > (request.maxWaitMs ?? 0)) {
    return {
      admitted: false,
      waitMs: Math.max(1, Math.ceil(wait)),
      reason,
      state: { ...state, batches: { ...kept, [batchId]: { ...own, refusedAt: now } } },
    };
  }
  const startAt = now + wait;
  return {
    admitted: true,
    waitMs: Math.ceil(wait),
    state: {
      ...state,
      requestTat: Math.max(state.requestTat, startAt) + interval * calls,
      tokenTat:
        perToken === 0
          ? state.tokenTat
          : Math.max(state.tokenTat, startAt) + perToken * Math.max(0, request.tokens),
      batches: {
        ...kept,
        [batchId]: {
          tat: Math.max(own.tat, startAt) + interval * calls * (waiting + 1),
          refusedAt: own.refusedAt,
        },
      },
    },
  };
}

/** A 429 from the provider: slow down (multiplicatively) and wait out its retry-after. */
export function onRateLimited(
  state: RateLimiterState,
  now: number,
  retryAfterMs: number | undefined,
  options: RateLimiterOptions,
): RateLimiterState {
  return {
    ...state,
    factor: Math.max(options.minFactor, state.factor * options.backoffFactor),
    blockedUntil: Math.max(state.blockedUntil, now + Math.max(0, retryAfterMs ?? 0)),
  };
}

/** An answered call: recover the pace additively, up to the configured share. */
export function onAnswered(state: RateLimiterState, options: RateLimiterOptions): RateLimiterState {
  if (state.factor >= 1) return state;
  return { ...state, factor: Math.min(1, state.factor + options.recoveryStep) };
}

/** The limiter's options from the config module. */
export function rateLimiterOptions(config: EngineConfig): RateLimiterOptions {
  return {
    utilization: config.RATE_LIMIT_UTILIZATION,
    burst: config.RATE_LIMIT_BURST,
    backoffFactor: config.RATE_LIMIT_BACKOFF_FACTOR,
    minFactor: config.RATE_LIMIT_MIN_FACTOR,
    recoveryStep: config.RATE_LIMIT_RECOVERY_STEP,
    activeWindowMs: config.RATE_LIMIT_ACTIVE_WINDOW_MS,
  };
}

/** The configured limit of a provider or endpoint (PROVIDER_RATE_LIMITS), or null: not paced. */
export function rateLimitFor(config: EngineConfig, key: string): RateLimit | null {
  const entry = config.PROVIDER_RATE_LIMITS[key];
  if (entry === undefined) return null;
  return {
    requestsPerMinute: entry.requests_per_minute,
    ...(entry.tokens_per_minute === undefined ? {} : { tokensPerMinute: entry.tokens_per_minute }),
  };
}

/** Characters per token of the token estimate (the usual rule of thumb for English text). */
const CHARS_PER_TOKEN = 4;

/**
 * Tokens one call may count against a tokens-per-minute limit before it is made: its prompt's
 * characters / 4 (providers count input tokens on arrival) plus the output cap it asks for
 * (providers reserve max_tokens). Over-estimates rather than under: a 429 costs more than a
 * slightly slower pace.
 */
export function estimatedCallTokens(promptChars: number, maxOutputTokens: number): number {
  return Math.ceil(Math.max(0, promptChars) / CHARS_PER_TOKEN) + Math.max(0, maxOutputTokens);
}
