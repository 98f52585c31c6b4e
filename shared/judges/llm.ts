/**
 * What every LLM adapter shares: the key lookup, one call per orientation through a provider
 * dialect (OpenAI, Anthropic, OpenAI-compatible), the optional second call in the other order,
 * and usage with an estimated cost.
 *
 * Judging both orders (`judge_both_orders`): the pair is judged as shown and swapped. When both
 * calls pick the same essay that is the verdict; when they disagree (an order flip, the model
 * followed the position) the answer with the higher stated confidence wins, and equal confidences
 * are a non-retryable `provider_error` failure with reason `order_inconsistent` — the engine may
 * plan the pair again, and no winner is made up. `usage.order_flip` reports the flip either way
 * it was resolved, so the batch's order-flip rate can be computed from the callbacks.
 */
import type { EngineConfig } from '#domain/config.ts';
import type { Winner } from '#domain/types.ts';
import type { FetchLike } from './http.ts';
import type { JudgeFailure, JudgeProvider, JudgeRequest, JudgeResult, JudgeUsage } from './port.ts';
import { estimateCostUsd } from './pricing.ts';
import { buildPrompt, confidenceFraction, type JudgeAnswer, type JudgePrompt } from './prompt.ts';
import type { KeySource, LlmProviderName } from './secrets.ts';

export interface LlmSettings {
  model: string;
  /** Omitted ⇒ the provider's default (some reasoning models accept no other). */
  temperature?: number;
  maxTokens: number;
  assignment?: string;
  rubric?: string;
  judgeBothOrders: boolean;
}

export type LlmConfig = Pick<
  EngineConfig,
  | 'JUDGE_CALL_TIMEOUT_MS'
  | 'JUDGE_JUSTIFICATION_MAX_WORDS'
  | 'JUDGE_MODEL_PRICES_USD_PER_MTOK'
  | 'PROVIDER_RESPONSE_MAX_BYTES'
>;

export interface LlmRuntime {
  fetch: FetchLike;
  keys: KeySource;
  /** Epoch milliseconds (latency, retry-after dates). */
  now: () => number;
  config: LlmConfig;
}

export interface CallTokens {
  input_tokens?: number;
  output_tokens?: number;
  /** The model that answered, as the provider reports it. */
  model?: string;
}

export type CallOutcome =
  | { ok: true; answer: JudgeAnswer; tokens: CallTokens; latencyMs: number }
  | { ok: false; failure: JudgeFailure };

/** One provider's wire format: send the prompt once, decode the answer strictly. */
export interface LlmDialect {
  readonly provider: LlmProviderName;
  /** The deployment's named endpoint this dialect calls, whose own key it uses. */
  readonly endpoint?: string;
  /** Local OpenAI-compatible servers often need no key. */
  readonly keyRequired: boolean;
  call(
    prompt: JudgePrompt,
    apiKey: string | undefined,
    settings: LlmSettings,
    runtime: LlmRuntime,
  ): Promise<CallOutcome>;
}

/** The usage a verdict carries; extends the port's usage with cost and orientation fields. */
export interface LlmUsage extends JudgeUsage {
  /** Estimated USD from the config price table; null for a model without a price. */
  cost_usd: number | null;
  /** Provider calls behind this verdict (2 when judged in both orders). */
  calls: number;
  /** Only when judged in both orders: the two orders picked different essays. */
  order_flip?: boolean;
}

function failure(kind: JudgeFailure['kind'], reason: string, retryable: boolean): JudgeFailure {
  return { outcome: 'failure', kind, reason, retryable };
}

export class LlmJudgeProvider implements JudgeProvider {
  readonly name: LlmProviderName;

  constructor(
    private readonly dialect: LlmDialect,
    private readonly settings: LlmSettings,
    private readonly runtime: LlmRuntime,
  ) {
    this.name = dialect.provider;
  }

  async judge(request: JudgeRequest): Promise<JudgeResult> {
    let apiKey: string | undefined;
    try {
      apiKey = await this.runtime.keys.apiKey(this.dialect.provider, this.dialect.endpoint);
    } catch {
      return failure('provider_error', 'api_key_unavailable', true);
    }
    if (this.dialect.keyRequired && !apiKey) {
      return failure('invalid_request', 'missing_api_key', false);
    }
    const first = await this.once(request.essayA.text, request.essayB.text, apiKey);
    if (!first.ok) return first.failure;
    if (!this.settings.judgeBothOrders) {
      return this.verdict(first.answer.winner, first.answer.confidence, [first]);
    }
    const swapped = await this.once(request.essayB.text, request.essayA.text, apiKey);
    if (!swapped.ok) return swapped.failure;
    // The swapped call saw the original B as "Essay A": map its answer back.
    const swappedWinner: Winner = swapped.answer.winner === 'A' ? 'B' : 'A';
    if (swappedWinner === first.answer.winner) {
      const confidence = (first.answer.confidence + swapped.answer.confidence) / 2;
      return this.verdict(first.answer.winner, confidence, [first, swapped], false);
    }
    if (first.answer.confidence === swapped.answer.confidence) {
      return failure('provider_error', 'order_inconsistent', false);
    }
    const stronger =
      first.answer.confidence > swapped.answer.confidence
        ? { winner: first.answer.winner, confidence: first.answer.confidence }
        : { winner: swappedWinner, confidence: swapped.answer.confidence };
    return this.verdict(stronger.winner, stronger.confidence, [first, swapped], true);
  }

  private once(textA: string, textB: string, apiKey: string | undefined): Promise<CallOutcome> {
    const prompt = buildPrompt({
      essayA: textA,
      essayB: textB,
      ...(this.settings.assignment ? { assignment: this.settings.assignment } : {}),
      ...(this.settings.rubric ? { rubric: this.settings.rubric } : {}),
      justificationMaxWords: this.runtime.config.JUDGE_JUSTIFICATION_MAX_WORDS,
    });
    return this.dialect.call(prompt, apiKey, this.settings, this.runtime);
  }

  private verdict(
    winner: Winner,
    statedConfidence: number,
    calls: ReadonlyArray<Extract<CallOutcome, { ok: true }>>,
    orderFlip?: boolean,
  ): JudgeResult {
    return {
      outcome: 'verdict',
      winner,
      confidence: confidenceFraction(statedConfidence),
      usage: this.usage(calls, orderFlip),
    };
  }

  private usage(
    calls: ReadonlyArray<Extract<CallOutcome, { ok: true }>>,
    orderFlip: boolean | undefined,
  ): LlmUsage {
    const model = calls[0]?.tokens.model ?? this.settings.model;
    let input: number | undefined = 0;
    let output: number | undefined = 0;
    let cost: number | null = 0;
    let latency = 0;
    for (const call of calls) {
      latency += call.latencyMs;
      const { input_tokens: callIn, output_tokens: callOut } = call.tokens;
      input = input === undefined || callIn === undefined ? undefined : input + callIn;
      output = output === undefined || callOut === undefined ? undefined : output + callOut;
      const callCost = estimateCostUsd(
        call.tokens.model ?? this.settings.model,
        call.tokens,
        this.runtime.config.JUDGE_MODEL_PRICES_USD_PER_MTOK,
      );
      cost = cost === null || callCost === null ? null : cost + callCost;
    }
    return {
      ...(input === undefined ? {} : { input_tokens: input }),
      ...(output === undefined ? {} : { output_tokens: output }),
      latency_ms: latency,
      model: model.slice(0, 128),
      cost_usd: cost,
      calls: calls.length,
      ...(orderFlip === undefined ? {} : { order_flip: orderFlip }),
    };
  }
}

/** Reads an optional non-negative integer token count from a provider's usage object. */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/**
 * A successful call: the validated answer plus what the provider's `usage` object reports, read
 * under the provider's own token field names (e.g. `prompt_tokens` / `completion_tokens`).
 */
export function answeredCall(
  answer: JudgeAnswer,
  body: unknown,
  latencyMs: number,
  usageKeys: { input: string; output: string },
): CallOutcome {
  const usage = field(body, 'usage');
  const model = field(body, 'model');
  const input = tokenCount(field(usage, usageKeys.input));
  const output = tokenCount(field(usage, usageKeys.output));
  return {
    ok: true,
    answer,
    latencyMs,
    tokens: {
      ...(input === undefined ? {} : { input_tokens: input }),
      ...(output === undefined ? {} : { output_tokens: output }),
      ...(typeof model === 'string' && model !== '' ? { model } : {}),
    },
  };
}

/** `value.key` when value is an object. */
export function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object'
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

export { failure as llmFailure };
