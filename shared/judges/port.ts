/**
 * The judge provider port: given two essays, say which is better — or why it could not.
 *
 * Adapters (the mock now, real LLM APIs later) implement `JudgeProvider`. Rules every adapter keeps:
 * - the essays are shown to a model only as "Essay A" (first) and "Essay B" (second) — `id` and
 *   `metadata` exist for deterministic mocks and must never reach a prompt;
 * - an answer that cannot be parsed is a failure (`malformed_answer`), never a default winner;
 * - essay text never goes into an error message, a reason or a log line;
 * - a thrown error means "unexpected": the caller treats it as a retryable `provider_error`.
 */
import type { FailureKind, Winner } from '#domain/types.ts';

export interface JudgeEssay {
  /** Client essay id: for deterministic mocks only, never shown to a model. */
  id: string;
  text: string;
  /** Client metadata (e.g. the latent `quality` the mock decides from); never shown to a model. */
  metadata?: Readonly<Record<string, unknown>>;
}

export interface JudgeRequest {
  /** Shown first, as "Essay A". */
  essayA: JudgeEssay;
  /** Shown second, as "Essay B". */
  essayB: JudgeEssay;
  assignment?: string;
  rubric?: string;
  /** Identifies the call for determinism and tracing (no personal data). */
  key: { batchId: string; comparisonId: string; attempt: number };
}

export interface JudgeUsage {
  input_tokens?: number;
  output_tokens?: number;
  latency_ms?: number;
  model?: string;
  /** Estimated USD from the config price table; null when the model has no price. */
  cost_usd?: number | null;
  /** Provider calls behind the verdict (2 when judged in both orders). */
  calls?: number;
  /** Judged in both orders and the two orders picked different essays. */
  order_flip?: boolean;
}

export interface JudgeVerdict {
  outcome: 'verdict';
  winner: Winner;
  /** The judge's confidence in [0, 1], when it states one. */
  confidence?: number;
  usage?: JudgeUsage;
}

export interface JudgeFailure {
  outcome: 'failure';
  kind: FailureKind;
  /** A short machine-oriented code, e.g. `http_429`, `unparseable_answer`. */
  reason: string;
  /** Worth trying again (rate limits, timeouts, 5xx); false for refusals and bad requests. */
  retryable: boolean;
  /** The wait the provider asked for (retry-after), honoured before the next attempt. */
  retryAfterMs?: number;
}

export type JudgeResult = JudgeVerdict | JudgeFailure;

export interface JudgeProvider {
  /** The provider name as chosen per batch (`mock`, later e.g. `openai`). */
  readonly name: string;
  judge(request: JudgeRequest): Promise<JudgeResult>;
}
