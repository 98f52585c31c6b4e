/**
 * Anthropic Messages API with a forced tool call: the answer arrives as the `input` of the
 * `record_verdict` tool, validated against the same strict contract as every other adapter.
 * `stop_reason: refusal` is a `refusal` failure; a missing tool call is a `malformed_answer`.
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
import {
  ANSWER_JSON_SCHEMA,
  ANSWER_TOOL_NAME,
  type JudgePrompt,
  validateAnswer,
} from './prompt.ts';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
/** The Messages API version header this adapter is written against. */
export const ANTHROPIC_API_VERSION = '2023-06-01';

export class AnthropicDialect implements LlmDialect {
  readonly provider = 'anthropic' as const;
  readonly keyRequired = true;

  constructor(private readonly baseUrl: string = ANTHROPIC_DEFAULT_BASE_URL) {}

  async call(
    prompt: JudgePrompt,
    apiKey: string | undefined,
    settings: LlmSettings,
    runtime: LlmRuntime,
  ): Promise<CallOutcome> {
    let url: string;
    try {
      url = endpointUrl(this.baseUrl, '/v1/messages');
    } catch (error) {
      if (error instanceof InvalidBaseUrlError) return { ok: false, failure: INVALID_BASE_URL };
      throw error;
    }
    const response = await postJson({
      url,
      headers: {
        ...(apiKey ? { 'x-api-key': apiKey } : {}),
        'anthropic-version': ANTHROPIC_API_VERSION,
      },
      body: anthropicMessagesBody(prompt, settings),
      timeoutMs: runtime.config.JUDGE_CALL_TIMEOUT_MS,
      maxResponseBytes: runtime.config.PROVIDER_RESPONSE_MAX_BYTES,
      fetch: runtime.fetch,
      now: runtime.now,
    });
    if (!response.ok) return { ok: false, failure: response.failure };
    return decodeAnthropicMessage(
      response.body,
      response.latencyMs,
      runtime.config.JUDGE_JUSTIFICATION_MAX_WORDS,
    );
  }
}

/**
 * The Messages request body for one prompt: the synchronous call and every request of a Message
 * Batch (`params`) are built here, so both modes ask exactly the same question.
 */
export function anthropicMessagesBody(
  prompt: JudgePrompt,
  settings: Pick<LlmSettings, 'model' | 'maxTokens' | 'temperature'>,
): Record<string, unknown> {
  return {
    model: settings.model,
    max_tokens: settings.maxTokens,
    ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
    system: prompt.system,
    messages: [{ role: 'user', content: prompt.user }],
    tools: [
      {
        name: ANSWER_TOOL_NAME,
        description: 'Record which essay is better, your confidence and a short justification.',
        input_schema: ANSWER_JSON_SCHEMA,
      },
    ],
    tool_choice: { type: 'tool', name: ANSWER_TOOL_NAME },
  };
}

export function decodeAnthropicMessage(
  body: unknown,
  latencyMs: number,
  justificationMaxWords: number,
): CallOutcome {
  const stopReason = field(body, 'stop_reason');
  if (stopReason === 'refusal') {
    return { ok: false, failure: llmFailure('refusal', 'refusal', false) };
  }
  const content = field(body, 'content');
  const toolUse = Array.isArray(content)
    ? content.find(
        (block: unknown) =>
          field(block, 'type') === 'tool_use' && field(block, 'name') === ANSWER_TOOL_NAME,
      )
    : undefined;
  if (toolUse === undefined) {
    const reason = stopReason === 'max_tokens' ? 'truncated_answer' : 'no_tool_call';
    return { ok: false, failure: llmFailure('malformed_answer', reason, false) };
  }
  const parsed = validateAnswer(field(toolUse, 'input'), justificationMaxWords);
  if (!parsed.ok) {
    return { ok: false, failure: llmFailure('malformed_answer', parsed.reason, false) };
  }
  return answeredCall(parsed.answer, body, latencyMs, {
    input: 'input_tokens',
    output: 'output_tokens',
  });
}
