/**
 * OpenAI Chat Completions with structured output (strict JSON schema), and the same wire format for
 * OpenAI-compatible servers (vLLM, llama.cpp server, Ollama), which get JSON mode or a schema when
 * they support it and are otherwise parsed from text. Plain `fetch`: no SDK in the Lambda bundle.
 *
 * A refusal (`message.refusal`, or `finish_reason: content_filter`) is a `refusal` failure; an
 * answer cut off at the token cap or failing the answer contract is a `malformed_answer` failure.
 */
import { endpointUrl, INVALID_BASE_URL, InvalidBaseUrlError, postJson } from './http.ts';
import {
  answeredCall,
  type CallOutcome,
  field,
  type LlmDialect,
  type LlmRuntime,
  type LlmSettings,
  llmFailure,
} from './llm.ts';
import { ANSWER_JSON_SCHEMA, type JudgePrompt, parseAnswerText } from './prompt.ts';
import type { LlmProviderName } from './secrets.ts';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** How the answer format is requested: strict schema, JSON mode, or only by the prompt. */
export type ResponseFormatMode = 'json_schema' | 'json_object' | 'none';

export interface ChatDialectOptions {
  provider: LlmProviderName;
  /** Up to and including the API version, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  responseFormat: ResponseFormatMode;
  keyRequired: boolean;
  /** OpenAI names the cap `max_completion_tokens`; compatible servers know `max_tokens`. */
  maxTokensField: 'max_completion_tokens' | 'max_tokens';
  /** A named endpoint of the deployment (its own key), when the base URL is one. */
  endpoint?: string;
}

function responseFormat(mode: ResponseFormatMode): Record<string, unknown> {
  if (mode === 'json_schema') {
    return {
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'verdict', strict: true, schema: ANSWER_JSON_SCHEMA },
      },
    };
  }
  if (mode === 'json_object') return { response_format: { type: 'json_object' } };
  return {};
}

/**
 * The Chat Completions request body for one prompt: the synchronous call and every line of a
 * provider batch (Batch API `body`) are built here, so both modes ask exactly the same question.
 */
export function chatCompletionsBody(
  prompt: JudgePrompt,
  settings: Pick<LlmSettings, 'model' | 'maxTokens' | 'temperature'>,
  options: Pick<ChatDialectOptions, 'maxTokensField' | 'responseFormat'>,
): Record<string, unknown> {
  return {
    model: settings.model,
    messages: [
      { role: 'system', content: prompt.system },
      { role: 'user', content: prompt.user },
    ],
    [options.maxTokensField]: settings.maxTokens,
    ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
    ...responseFormat(options.responseFormat),
  };
}

/** `<base>/chat/completions`, joined by URL parsing (throws InvalidBaseUrlError, see endpointUrl). */
export function chatCompletionsUrl(baseUrl: string): string {
  return endpointUrl(baseUrl, '/chat/completions');
}

export class ChatCompletionsDialect implements LlmDialect {
  readonly provider: LlmProviderName;
  readonly keyRequired: boolean;
  readonly endpoint?: string;

  constructor(private readonly options: ChatDialectOptions) {
    this.provider = options.provider;
    this.keyRequired = options.keyRequired;
    if (options.endpoint !== undefined) this.endpoint = options.endpoint;
  }

  async call(
    prompt: JudgePrompt,
    apiKey: string | undefined,
    settings: LlmSettings,
    runtime: LlmRuntime,
  ): Promise<CallOutcome> {
    let url: string;
    try {
      url = chatCompletionsUrl(this.options.baseUrl);
    } catch (error) {
      if (error instanceof InvalidBaseUrlError) return { ok: false, failure: INVALID_BASE_URL };
      throw error;
    }
    const response = await postJson({
      url,
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      body: chatCompletionsBody(prompt, settings, this.options),
      timeoutMs: runtime.config.JUDGE_CALL_TIMEOUT_MS,
      maxResponseBytes: runtime.config.PROVIDER_RESPONSE_MAX_BYTES,
      fetch: runtime.fetch,
      now: runtime.now,
    });
    if (!response.ok) return { ok: false, failure: response.failure };
    return decodeChatCompletion(
      response.body,
      response.latencyMs,
      runtime.config.JUDGE_JUSTIFICATION_MAX_WORDS,
    );
  }
}

/** Decodes a chat completion body into an answer or a failure. */
export function decodeChatCompletion(
  body: unknown,
  latencyMs: number,
  justificationMaxWords: number,
): CallOutcome {
  const choices = field(body, 'choices');
  const choice = Array.isArray(choices) ? (choices[0] as unknown) : undefined;
  const message = field(choice, 'message');
  if (message === undefined) {
    return { ok: false, failure: llmFailure('malformed_answer', 'unexpected_response', false) };
  }
  const refusal = field(message, 'refusal');
  const finishReason = field(choice, 'finish_reason');
  if ((typeof refusal === 'string' && refusal.trim() !== '') || finishReason === 'content_filter') {
    return { ok: false, failure: llmFailure('refusal', 'refusal', false) };
  }
  if (finishReason === 'length') {
    return { ok: false, failure: llmFailure('malformed_answer', 'truncated_answer', false) };
  }
  const content = field(message, 'content');
  if (typeof content !== 'string' || content.trim() === '') {
    return { ok: false, failure: llmFailure('malformed_answer', 'empty_answer', false) };
  }
  const parsed = parseAnswerText(content, justificationMaxWords);
  if (!parsed.ok) {
    return { ok: false, failure: llmFailure('malformed_answer', parsed.reason, false) };
  }
  return answeredCall(parsed.answer, body, latencyMs, {
    input: 'prompt_tokens',
    output: 'completion_tokens',
  });
}

export function openAiDialect(baseUrl: string = OPENAI_DEFAULT_BASE_URL): ChatCompletionsDialect {
  return new ChatCompletionsDialect({
    provider: 'openai',
    baseUrl,
    responseFormat: 'json_schema',
    keyRequired: true,
    maxTokensField: 'max_completion_tokens',
  });
}
