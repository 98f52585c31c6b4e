/**
 * The shared provider rate limiter's logic (docs/judges.md, "Rate limits"): pure, so the judge, the
 * store adapter and the benchmark all run the same arithmetic on one small state per limiter key
 * (a provider or named endpoint).
 *
 * Requests and tokens are each paced by GCRA (the "virtual scheduling" form of a token bucket):
 * one number per bucket, the theoretical arrival time `tat`, the end of the last slot handed out.
 * A request costing c units gets the slot starting at `max(tat − tolerance, now)` and moves `tat`
 * on by c × interval, where interval = 60,000 ms / (limit per minute × utilization × adaptive
 * factor). The tolerance allows a burst of `burst` requests (and of `burst` seconds of tokens).
 *
 * Every request learns its real turn, so a request that cannot be served soon is re-queued once
 * for the time it will be served, not polled (each poll costs a store write and a queue message):
 * - slot within `maxWaitMs`: admitted; the caller sleeps until the slot and calls.
 * - slot within `reserveAheadMs`: the slot is booked and handed to the request as a reservation;
 *   the caller re-queues the request to come back shortly before it, and the request that comes
 *   back with it is admitted for that slot without a store write (`admitReserved`).
 * - later: not booked (so a batch arriving later waits at most `reserveAheadMs` behind bookings);
 *   the request is told to come back when its turn is within the reservation horizon, the batch's
 *   overflow returning one per (interval × sharing batches), in order.
 *
 * Adaptive back-off: a 429 multiplies the pace by RATE_LIMIT_BACKOFF_FACTOR (never below
 * RATE_LIMIT_MIN_FACTOR) and blocks the key until the provider's retry-after (reservations inside
 * the block are void); the pace then recovers linearly in time, to full within
 * RATE_LIMIT_RECOVERY_MS of a factor of 0 (additive increase, multiplicative decrease), with no
 * write per answer.
 *
 * Fair sharing: while another batch is waiting (was refused or booked ahead within the active
 * window), a batch may use at most an equal share of the rate: its own GCRA bucket at interval ×
 * (sharing batches). With nobody else waiting a batch may use the whole rate, so sharing never
 * wastes capacity.
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
  /** Milliseconds for the adaptive factor to climb from 0 to 1 (linear in time). */
  recoveryMs: number;
  /** A batch counts as waiting this long after it was last refused (ms). */
  activeWindowMs: number;
  /** Longest wait for a slot the caller sleeps for in process (ms). */
  maxWaitMs: number;
  /** Slots up to this far ahead are booked for a re-queued request (ms). */
  reserveAheadMs: number;
}

interface BatchShare {
  /** GCRA time of the batch's own share bucket (ms). */
  tat: number;
  /** Last time the batch was refused (ms), or 0. */
  refusedAt: number;
  /** When the batch's next request beyond the reservation horizon is told to come back (ms). */
  overflowAt?: number;
}

/** What is stored per limiter key. */
export interface RateLimiterState {
  requestTat: number;
  tokenTat: number;
  /** Adaptive factor in [minFactor, 1] as of `limitedAt`; it recovers with time from there. */
  factor: number;
  /** Time of the last 429 (ms), from which the factor recovers. */
  limitedAt?: number;
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

/** A slot booked for a re-queued request: it may call at `at` (epoch ms). */
export interface Reservation {
  at: number;
}

export interface AdmitRequest {
  batchId: string;
  /** Estimated tokens of the call(s) (input + max output), for the token bucket. */
  tokens: number;
  /** Provider calls this admission covers (2 for a comparison judged in both orders); default 1. */
  calls?: number;
  now: number;
}

export type AdmitRefusal = 'requests' | 'tokens' | 'share' | 'retry_after';

export type AdmitResult =
  /**
   * Call after `waitMs` (0: at once), and not after `startBy` (epoch ms): a caller that wakes
   * later than that (a stalled process) would crowd the next slot, and takes a new one instead.
   */
  | { admitted: true; waitMs: number; startBy: number; state: RateLimiterState }
  /**
   * Come back after `waitMs`: with `reservation` (its slot is booked: present it then), or
   * without (its turn is not within the horizon yet; `reason` says which limit holds it back).
   */
  | {
      admitted: false;
      waitMs: number;
      reason: AdmitRefusal;
      reservation?: Reservation;
      state: RateLimiterState;
    };

/** The adaptive factor at `now`: the factor set by the last 429, recovered linearly since. */
export function currentFactor(
  state: RateLimiterState,
  now: number,
  options: RateLimiterOptions,
): number {
  if (state.factor >= 1) return 1;
  const elapsed = Math.max(0, now - (state.limitedAt ?? 0));
  return Math.min(1, state.factor + elapsed / Math.max(1, options.recoveryMs));
}

/**
 * Batches waiting (other than `batchId`): refused within the active window, or with turned-away
 * requests still due back; and the entries still of use (stale ones dropped).
 */
function otherWaiting(
  batches: Record<string, BatchShare>,
  batchId: string,
  now: number,
  windowMs: number,
): { waiting: number; kept: Record<string, BatchShare> } {
  let waiting = 0;
  const kept: Record<string, BatchShare> = {};
  for (const [id, share] of Object.entries(batches)) {
    const recent =
      now - share.refusedAt <= windowMs || share.tat > now || (share.overflowAt ?? 0) > now;
    if (!recent && id !== batchId) continue;
    kept[id] = share;
    if (id !== batchId && (now - share.refusedAt <= windowMs || (share.overflowAt ?? 0) > now)) {
      waiting++;
    }
  }
  return { waiting, kept };
}

/**
 * The pace at `share` of the limit: ms per request, per token, and how long one such request holds
 * the provider (its calls or its tokens, whichever is longer).
 */
function paceOf(
  request: AdmitRequest,
  limit: RateLimit,
  share: number,
): { interval: number; perToken: number; hold: number } {
  const interval = 60_000 / (limit.requestsPerMinute * share);
  const perToken =
    limit.tokensPerMinute === undefined ? 0 : 60_000 / (limit.tokensPerMinute * share);
  const hold = Math.max(
    interval * Math.max(1, request.calls ?? 1),
    perToken * Math.max(0, request.tokens),
  );
  return { interval, perToken, hold };
}

/**
 * How late after its slot a call may still start: the headroom between the limiter's pace and the
 * provider's, over one request's hold or one second, whichever is longer (providers enforce
 * per-minute limits over periods as short as a second).
 */
function lateToleranceMs(hold: number, utilization: number): number {
  return Math.max(hold, 1000) * Math.max(0, 1 - utilization);
}

/** How far ahead of a reserved slot a re-queued request is due back (queue delays are whole seconds). */
export function reservationLeadMs(options: RateLimiterOptions): number {
  return Math.floor(options.maxWaitMs / 2);
}

/**
 * Admits one request at once or at a slot up to `maxWaitMs` ahead (the caller sleeps `waitMs`,
 * then calls), books a slot up to `reserveAheadMs` ahead for it to come back to, or says when its
 * turn will be near. The returned state is what to store either way.
 */
export function admit(
  state: RateLimiterState,
  request: AdmitRequest,
  limit: RateLimit,
  options: RateLimiterOptions,
): AdmitResult {
  const { now, batchId } = request;
  const { waiting, kept } = otherWaiting(state.batches, batchId, now, options.activeWindowMs);
  const own: BatchShare = kept[batchId] ?? { tat: 0, refusedAt: 0 };
  const calls = Math.max(1, request.calls ?? 1);
  const factor = currentFactor(state, now, options);
  const { interval, perToken, hold } = paceOf(request, limit, options.utilization * factor);
  const tolerance = interval * Math.max(0, options.burst - 1);
  const tokenTolerance = Math.max(0, options.burst - 1) * 1000;
  const sharing = waiting + 1;

  const horizon = Math.max(options.reserveAheadMs, options.maxWaitMs);
  // The earliest start the provider's buckets allow (slots are always booked at the frontier, so
  // none is left idle between bookings).
  const starts: [AdmitRefusal, number][] = [
    ['retry_after', state.blockedUntil],
    ['requests', state.requestTat - tolerance],
    ['tokens', perToken === 0 ? 0 : state.tokenTat - tokenTolerance],
  ];
  let [reason, startAt] = starts[0] as [AdmitRefusal, number];
  for (const [r, s] of starts) if (s > startAt) [reason, startAt] = [r, s];
  startAt = Math.max(now, startAt);
  // While another batch waits, the batch books at most an equal share: its own bucket at hold ×
  // sharing batches may run one share interval ahead of the slots it books. A batch ahead of its
  // share waits until its share turn, unbooked (no slot is left idle between bookings for it),
  // unless that turn is close enough to sleep for.
  const shareTurn = waiting > 0 ? own.tat - hold * (sharing - 1) : 0;
  let slotAt = startAt;
  let shareLimited = false;
  if (shareTurn > startAt) {
    if (shareTurn - now <= options.maxWaitMs) slotAt = shareTurn;
    else shareLimited = true;
  }
  const wait = slotAt - now;

  if (wait > horizon || shareLimited) {
    // Not booked. The batch's turned-away requests are due back in order, one per hold × sharing
    // batches, shortly before the slot each should find free then (so most are admitted on their
    // return).
    const turn = Math.max(own.overflowAt ?? 0, startAt, shareTurn);
    const back = Math.max(turn - reservationLeadMs(options), now + 1);
    return {
      admitted: false,
      waitMs: Math.ceil(back - now),
      reason: shareLimited ? 'share' : reason,
      state: {
        ...state,
        batches: {
          ...kept,
          [batchId]: { ...own, refusedAt: now, overflowAt: turn + hold * sharing },
        },
      },
    };
  }
  const reserved = wait > options.maxWaitMs;
  const booked: RateLimiterState = {
    ...state,
    requestTat: Math.max(state.requestTat, slotAt) + interval * calls,
    tokenTat:
      perToken === 0
        ? state.tokenTat
        : Math.max(state.tokenTat, slotAt) + perToken * Math.max(0, request.tokens),
    batches: {
      ...kept,
      [batchId]: {
        ...own,
        tat: Math.max(own.tat, slotAt) + hold * sharing,
        refusedAt: reserved ? now : own.refusedAt,
      },
    },
  };
  if (!reserved) {
    const startBy = slotAt + lateToleranceMs(hold, options.utilization * factor);
    return { admitted: true, waitMs: Math.ceil(wait), startBy, state: booked };
  }
  return {
    admitted: false,
    waitMs: Math.max(1, Math.floor(wait - reservationLeadMs(options))),
    reason,
    reservation: { at: Math.ceil(slotAt) },
    state: booked,
  };
}

/**
 * A request that comes back with a reservation: admitted for its booked slot (the state is
 * unchanged: nothing to write), unless the slot is void — inside a retry-after block, passed by
 * more than a late call may start (its neighbours are booked: calling later could crowd one), or
 * not booked in this state — or still too far off. `null`: void, take a slot as a new request.
 */
export function admitReserved(
  state: RateLimiterState,
  reservation: Reservation,
  request: AdmitRequest,
  limit: RateLimit,
  options: RateLimiterOptions,
): AdmitResult | null {
  const { now } = request;
  const factor = currentFactor(state, now, options);
  const { hold } = paceOf(request, limit, options.utilization * factor);
  const startBy = reservation.at + lateToleranceMs(hold, options.utilization * factor);
  // Void: inside a retry-after block, passed, or not booked in this state (the frontier of booked
  // slots has not passed it: the limiter's item was reset).
  if (reservation.at < state.blockedUntil || startBy < now || reservation.at >= state.requestTat) {
    return null;
  }
  const wait = Math.max(0, reservation.at - now);
  if (wait > Math.max(options.reserveAheadMs, options.maxWaitMs)) return null;
  if (wait > options.maxWaitMs) {
    return {
      admitted: false,
      waitMs: Math.max(1, Math.floor(wait - reservationLeadMs(options))),
      reason: 'requests',
      reservation,
      state,
    };
  }
  return { admitted: true, waitMs: Math.ceil(wait), startBy, state };
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
    factor: Math.max(options.minFactor, currentFactor(state, now, options) * options.backoffFactor),
    limitedAt: now,
    blockedUntil: Math.max(state.blockedUntil, now + Math.max(0, retryAfterMs ?? 0)),
  };
}

/** The limiter's options from the config module. */
export function rateLimiterOptions(config: EngineConfig): RateLimiterOptions {
  return {
    utilization: config.RATE_LIMIT_UTILIZATION,
    burst: config.RATE_LIMIT_BURST,
    backoffFactor: config.RATE_LIMIT_BACKOFF_FACTOR,
    minFactor: config.RATE_LIMIT_MIN_FACTOR,
    recoveryMs: config.RATE_LIMIT_RECOVERY_MS,
    activeWindowMs: config.RATE_LIMIT_ACTIVE_WINDOW_MS,
    maxWaitMs: config.RATE_LIMIT_MAX_WAIT_MS,
    reserveAheadMs: config.RATE_LIMIT_RESERVE_AHEAD_MS,
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
