/**
 * Any server speaking the OpenAI Chat Completions format at a per-batch base URL (vLLM, llama.cpp
 * server, Ollama's `/v1`). JSON mode (`response_format: json_object`) by default — all three accept
 * it; `json_schema` where the server enforces schemas; `none` for servers that reject both, whose
 * answer is then parsed from the text. The key is optional (most local servers need none).
 */
import { ChatCompletionsDialect, type ResponseFormatMode } from './openai.ts';

export function openAiCompatibleDialect(
  baseUrl: string,
  responseFormat: ResponseFormatMode,
): ChatCompletionsDialect {
  return new ChatCompletionsDialect({
    provider: 'openai-compatible',
    baseUrl,
    responseFormat,
    keyRequired: false,
    maxTokensField: 'max_tokens',
  });
}
