/**
 * The judge's side of the shared provider rate limiter (docs/judges.md, "Rate limits"): before each
 * provider call, a slot from the limiter of the batch's provider (one store update: read, apply the
 * pure `admit`, write back), taken at once or up to RATE_LIMIT_MAX_WAIT_MS ahead and slept for; a
 * request the limiter cannot serve that soon is deferred (re-sent to the queue delayed until
 * shortly before its turn), carrying the slot booked for it when there is one. A request that comes
 * back with its slot is admitted for it on one read, with no write. After the call, a 429 slows the
 * limiter down and blocks it for the provider's retry-after (the pace recovers with time, so an
 * answer writes nothing). A provider with no configured limit costs nothing here: no store call.
 */
import type { EngineConfig } from '#domain/config.ts';
import {
  admit,
  admitReserved,
  estimatedCallTokens,
  onRateLimited,
  type Reservation,
  rateLimiterOptions,
  rateLimitFor,
} from '#domain/rate-limit.ts';
import type { JudgeChoice } from '#messages/api.ts';
import type { JudgeResult } from '#shared/judges/port.ts';
import type { RateLimitStore, Sleep } from './ports.ts';

export interface PacingDeps {
  store: RateLimitStore;
  config: EngineConfig;
  now: () => Date;
  sleep: Sleep;
}

/** What the limiter needs to know about one comparison's provider call(s). */
export interface PacedCall {
  /**
   * The limiter key: the provider (`openai`, `anthropic`, `mock`, `openai-compatible`), or the
   * named endpoint an OpenAI-compatible judge calls.
   */
  key: string;
  batchId: string;
  /** Estimated tokens of the calls (prompt / 4 + the output cap, per call). */
  tokens: number;
  /** Provider calls one attempt makes (2 when judged in both orders). */
  calls: number;
}

export type Slot =
  /** Call now (the wait for the slot was slept). */
  | { go: true }
  /** Defer the request by `waitMs`, carrying `reservation` (its booked slot) when there is one. */
  | { go: false; waitMs: number; reason: string; reservation?: Reservation };

/** New slots a call that woke too late for its slot takes before it calls anyway. */
const MAX_LATE_RETAKES = 2;

/** Characters of a prompt beside the two essays (instructions, labels, tags). */
const PROMPT_OVERHEAD_CHARS = 1_500;

/** The paced call of one comparison of a batch judged by `judge`. */
export function pacedCall(
  config: EngineConfig,
  batchId: string,
  judge: JudgeChoice,
  essayChars: number,
): PacedCall {
  const llm = judge.provider === 'mock' ? undefined : judge;
  const promptChars =
    essayChars +
    PROMPT_OVERHEAD_CHARS +
    (llm?.assignment?.length ?? 0) +
    (llm?.rubric?.length ?? 0);
  const calls = llm?.judge_both_orders === true ? 2 : 1;
  const perCall = estimatedCallTokens(
    promptChars,
    llm?.max_tokens ?? config.JUDGE_DEFAULT_MAX_TOKENS,
  );
  // A named endpoint is paced on its own (PROVIDER_RATE_LIMITS keys it by name).
  const key =
    judge.provider === 'openai-compatible' ? (judge.endpoint ?? judge.provider) : judge.provider;
  return { key, batchId, tokens: perCall * calls, calls };
}

/**
 * Takes a slot for one attempt, for the slot `reservation` booked earlier if the request carries
 * one (then nothing is written unless the slot is void); null when the provider is not paced.
 */
export async function takeSlot(
  deps: PacingDeps,
  call: PacedCall,
  reservation?: Reservation,
): Promise<Slot | null> {
  const limit = rateLimitFor(deps.config, call.key);
  if (limit === null) return null;
  const options = rateLimiterOptions(deps.config);
  let booked = reservation;
  for (let take = 1; ; take++) {
    const held = booked;
    const result = await deps.store.updateRateLimit(call.key, (state) => {
      const now = deps.now().getTime();
      const request = { batchId: call.batchId, tokens: call.tokens, calls: call.calls, now };
      const decision =
        (held && admitReserved(state, held, request, limit, options)) ??
        admit(state, request, limit, options);
      return { state: decision.state, result: decision };
    });
    if (!result.admitted) {
      return {
        go: false,
        waitMs: result.waitMs,
        reason: result.reason,
        ...(result.reservation ? { reservation: result.reservation } : {}),
      };
    }
    if (result.waitMs > 0) await deps.sleep(result.waitMs);
    // Woken too late (a stalled process): calling now could crowd the next slot; take a new one
    // (twice at most, then call: the provider's 429 and back-off are the last guard).
    if (deps.now().getTime() <= result.startBy || take >= MAX_LATE_RETAKES + 1) return { go: true };
    booked = undefined;
  }
}

/** Feeds one attempt's answer back: a 429 slows the limiter down; an answer writes nothing. */
export async function reportAnswer(
  deps: PacingDeps,
  call: PacedCall,
  slot: Slot | null,
  result: JudgeResult,
): Promise<void> {
  if (slot === null || !slot.go) return;
  if (result.outcome !== 'failure' || result.kind !== 'rate_limited') return;
  const options = rateLimiterOptions(deps.config);
  await deps.store.updateRateLimit(call.key, (state) => ({
    state: onRateLimited(state, deps.now().getTime(), result.retryAfterMs, options),
    result: null,
  }));
}
