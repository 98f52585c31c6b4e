/**
 * Chooses the provider adapter for a batch's judge choice: the mock, or an LLM adapter (OpenAI,
 * Anthropic, OpenAI-compatible) over plain `fetch`, with the container's API keys.
 */
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { mockJudgeSettingsSchema } from '#domain/mock-judge.ts';
import type { JudgeChoice } from '#messages/api.ts';
import { AnthropicDialect } from './anthropic.ts';
import { compatibleTarget, DEPLOYED_POLICY, type EndpointPolicy } from './endpoints.ts';
import { type LlmDialect, LlmJudgeProvider, type LlmRuntime, type LlmSettings } from './llm.ts';
import { MockJudgeProvider, type Sleep } from './mock.ts';
import { openAiDialect } from './openai.ts';
import { openAiCompatibleDialect } from './openai-compatible.ts';
import type { JudgeProvider } from './port.ts';
import { defaultKeySource } from './secrets.ts';

export interface ProviderOptions {
  maxMockLatencyMs: number;
  sleep?: Sleep;
  /** LLM adapters: HTTP, keys, clock and limits; defaults are global fetch, env/Secrets Manager, config. */
  llm?: Partial<LlmRuntime> & {
    /** Deployment-level endpoint overrides (tests, proxies); the batch cannot set these. */
    openAiBaseUrl?: string;
    anthropicBaseUrl?: string;
    /**
     * The deployment's named OpenAI-compatible endpoints and whether a loopback base URL is
     * allowed (the local cloud); none and no unless given (shared/judges/endpoints.ts).
     */
    endpointPolicy?: EndpointPolicy;
  };
}

type LlmChoice = Exclude<JudgeChoice, { provider: 'mock' }>;

function llmSettings(choice: LlmChoice): LlmSettings {
  return {
    model: choice.model,
    maxTokens: choice.max_tokens ?? DEFAULT_CONFIG.JUDGE_DEFAULT_MAX_TOKENS,
    judgeBothOrders: choice.judge_both_orders ?? false,
    ...(choice.temperature === undefined ? {} : { temperature: choice.temperature }),
    ...(choice.assignment ? { assignment: choice.assignment } : {}),
    ...(choice.rubric ? { rubric: choice.rubric } : {}),
  };
}

function llmProvider(
  dialect: LlmDialect,
  choice: LlmChoice,
  options: ProviderOptions,
): LlmJudgeProvider {
  const llm = options.llm ?? {};
  return new LlmJudgeProvider(dialect, llmSettings(choice), {
    fetch: llm.fetch ?? ((input, init) => fetch(input, init)),
    keys: llm.keys ?? defaultKeySource(),
    now: llm.now ?? Date.now,
    config: llm.config ?? DEFAULT_CONFIG,
  });
}

/**
 * Throws a ZodError (naming the field) when the stored choice does not fit its provider, and an
 * EndpointRefusedError when the deployment refuses its endpoint or base URL.
 */
export function createJudgeProvider(choice: JudgeChoice, options: ProviderOptions): JudgeProvider {
  switch (choice.provider) {
    case 'mock':
      return new MockJudgeProvider(mockJudgeSettingsSchema.parse(choice), {
        maxLatencyMs: options.maxMockLatencyMs,
        ...(options.sleep ? { sleep: options.sleep } : {}),
      });
    case 'openai':
      return llmProvider(
        openAiDialect(options.llm?.openAiBaseUrl ?? (process.env.OPENAI_BASE_URL || undefined)),
        choice,
        options,
      );
    case 'anthropic':
      return llmProvider(
        new AnthropicDialect(
          options.llm?.anthropicBaseUrl ?? (process.env.ANTHROPIC_BASE_URL || undefined),
        ),
        choice,
        options,
      );
    case 'openai-compatible':
      return llmProvider(
        openAiCompatibleDialect(
          compatibleTarget(choice, options.llm?.endpointPolicy ?? DEPLOYED_POLICY),
          choice.response_format ?? 'json_object',
        ),
        choice,
        options,
      );
  }
}
