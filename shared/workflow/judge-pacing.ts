/**
 * The judge's side of the shared provider rate limiter (docs/judges.md, "Rate limits"): before each
 * provider call, a slot from the limiter of the batch's provider (one store update: read, apply the
 * pure `admit`, write back), taken at once or reserved up to RATE_LIMIT_MAX_WAIT_MS ahead and
 * slept for; a request the limiter cannot serve that soon is deferred (re-sent to the queue with
 * the wait as its delay). After the call, a 429 slows the limiter down and blocks it for the
 * provider's retry-after; an answered call recovers the pace while it is below the configured
 * share. A provider with no configured limit costs nothing here: no store call at all.
 */
import type { EngineConfig } from '#domain/config.ts';
import {
  admit,
  estimatedCallTokens,
  onAnswered,
  onRateLimited,
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
  /** Call now (after the reserved wait was slept); `factor` is the limiter's pace then. */
  | { go: true; factor: number }
  /** Not before `waitMs`: defer the request. */
  | { go: false; waitMs: number; reason: string };

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

/** Takes a slot for one attempt; null when the provider is not paced. */
export async function takeSlot(deps: PacingDeps, call: PacedCall): Promise<Slot | null> {
  const limit = rateLimitFor(deps.config, call.key);
  if (limit === null) return null;
  const options = rateLimiterOptions(deps.config);
  const result = await deps.store.updateRateLimit(call.key, (state) => {
    const decision = admit(
      state,
      {
        batchId: call.batchId,
        tokens: call.tokens,
        calls: call.calls,
        now: deps.now().getTime(),
        maxWaitMs: deps.config.RATE_LIMIT_MAX_WAIT_MS,
      },
      limit,
      options,
    );
    return { state: decision.state, result: decision };
  });
  if (!result.admitted) return { go: false, waitMs: result.waitMs, reason: result.reason };
  if (result.waitMs > 0) await deps.sleep(result.waitMs);
  return { go: true, factor: result.state.factor };
}

/** Feeds one attempt's answer back: a 429 slows the limiter, an answer recovers its pace. */
export async function reportAnswer(
  deps: PacingDeps,
  call: PacedCall,
  slot: Slot | null,
  result: JudgeResult,
): Promise<void> {
  if (slot === null || !slot.go) return;
  const options = rateLimiterOptions(deps.config);
  if (result.outcome === 'failure' && result.kind === 'rate_limited') {
    await deps.store.updateRateLimit(call.key, (state) => ({
      state: onRateLimited(state, deps.now().getTime(), result.retryAfterMs, options),
      result: null,
    }));
    return;
  }
  // Only while slowed down: at full pace an answer changes nothing, so nothing is written.
  if (slot.factor < 1) {
    await deps.store.updateRateLimit(call.key, (state) => ({
      state: onAnswered(state, options),
      result: null,
    }));
  }
}
