/**
 * Any server speaking the OpenAI Chat Completions format (vLLM, llama.cpp server, Ollama's `/v1`)
 * at an endpoint the deployment names, or on the local cloud at a loopback base URL
 * (shared/judges/endpoints.ts). JSON mode (`response_format: json_object`) by default — all three accept
 * it; `json_schema` where the server enforces schemas; `none` for servers that reject both, whose
 * answer is then parsed from the text. The key is optional (most local servers need none).
 */
import { ChatCompletionsDialect, type ResponseFormatMode } from './openai.ts';

export function openAiCompatibleDialect(
  target: { baseUrl: string; endpoint?: string },
  responseFormat: ResponseFormatMode,
): ChatCompletionsDialect {
  return new ChatCompletionsDialect({
    provider: 'openai-compatible',
    baseUrl: target.baseUrl,
    ...(target.endpoint === undefined ? {} : { endpoint: target.endpoint }),
    responseFormat,
    keyRequired: false,
    maxTokensField: 'max_tokens',
  });
}
