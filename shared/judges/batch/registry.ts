/**
 * Chooses the provider batch adapter for a batch's judge choice (judge.mode provider_batch):
 * OpenAI's Batch API or Anthropic's Message Batches, with the container's API key, the
 * deployment's endpoint overrides and the config's limits (never above the provider's own); or,
 * for a named OpenAI-compatible endpoint the deployment declares batch-capable
 * (JUDGE_BATCH_ENDPOINTS), the OpenAI adapter at that endpoint's base URL with that endpoint's
 * own key, or none (docs/security.md).
 */
import { DEFAULT_CONFIG, type EngineConfig } from '#domain/config.ts';
import type { JudgeChoice } from '#messages/api.ts';
import { ANTHROPIC_DEFAULT_BASE_URL } from '../anthropic.ts';
import { DEPLOYED_POLICY, type EndpointPolicy, isBatchEndpoint } from '../endpoints.ts';
import type { FetchLike } from '../http.ts';
import { OPENAI_DEFAULT_BASE_URL } from '../openai.ts';
import { defaultKeySource, type KeySource } from '../secrets.ts';
import { ANTHROPIC_BATCH_LIMITS, AnthropicBatchApi } from './anthropic-batch.ts';
import { OPENAI_BATCH_LIMITS, OpenAiBatchApi } from './openai-batch.ts';
import type { ProviderBatchApi, ProviderBatchLimits } from './port.ts';

export type ProviderBatchConfig = Pick<
  EngineConfig,
  | 'PROVIDER_BATCH_MAX_REQUESTS'
  | 'PROVIDER_BATCH_MAX_BYTES'
  | 'PROVIDER_BATCH_HTTP_TIMEOUT_MS'
  | 'PROVIDER_RESPONSE_MAX_BYTES'
  | 'PROVIDER_BATCH_MAX_RESULT_LINE_BYTES'
  | 'JUDGE_JUSTIFICATION_MAX_WORDS'
  | 'JUDGE_DEFAULT_MAX_TOKENS'
>;

export interface ProviderBatchApiOptions {
  fetch?: FetchLike;
  keys?: KeySource;
  config?: ProviderBatchConfig;
  /** Deployment-level endpoint overrides (tests, proxies); a batch cannot set these. */
  openAiBaseUrl?: string;
  anthropicBaseUrl?: string;
  /** The deployment's named endpoints and which of them speak the Batch API. */
  endpointPolicy?: EndpointPolicy;
}

/**
 * Thrown for a judge choice that has no provider batch API: the mock, a compatible server at a raw
 * base URL, or a named endpoint the deployment does not declare batch-capable.
 */
export class NoProviderBatchApiError extends Error {
  constructor(provider: string) {
    super(`${provider} has no provider batch API`);
    this.name = 'NoProviderBatchApiError';
  }
}

function effectiveLimits(
  provider: ProviderBatchLimits,
  config: ProviderBatchConfig,
): ProviderBatchLimits {
  return {
    maxRequests: Math.min(provider.maxRequests, config.PROVIDER_BATCH_MAX_REQUESTS),
    maxBytes: Math.min(provider.maxBytes, config.PROVIDER_BATCH_MAX_BYTES),
  };
}

export async function createProviderBatchApi(
  choice: JudgeChoice,
  options: ProviderBatchApiOptions = {},
): Promise<ProviderBatchApi> {
  const config = options.config ?? DEFAULT_CONFIG;
  const fetcher = options.fetch ?? ((input, init) => fetch(input, init));
  const keys = options.keys ?? defaultKeySource();
  const http = {
    fetch: fetcher,
    timeoutMs: config.PROVIDER_BATCH_HTTP_TIMEOUT_MS,
    maxResponseBytes: config.PROVIDER_RESPONSE_MAX_BYTES,
  };
  const settings =
    choice.provider === 'mock'
      ? undefined
      : {
          model: choice.model,
          maxTokens: choice.max_tokens ?? config.JUDGE_DEFAULT_MAX_TOKENS,
          ...(choice.temperature === undefined ? {} : { temperature: choice.temperature }),
        };
  if (settings === undefined) throw new NoProviderBatchApiError('provider "mock"');
  const common = {
    settings,
    http,
    justificationMaxWords: config.JUDGE_JUSTIFICATION_MAX_WORDS,
    maxLineBytes: config.PROVIDER_BATCH_MAX_RESULT_LINE_BYTES,
  };
  if (choice.provider === 'openai-compatible') {
    const policy = options.endpointPolicy ?? DEPLOYED_POLICY;
    const endpoint = choice.endpoint;
    if (endpoint === undefined || !isBatchEndpoint(endpoint, policy)) {
      throw new NoProviderBatchApiError(
        endpoint === undefined ? 'a base_url' : `endpoint "${endpoint}"`,
      );
    }
    return new OpenAiBatchApi({
      ...common,
      // The endpoint's own key, or none: never another provider's or endpoint's.
      apiKey: await keys.apiKey('openai-compatible', endpoint),
      baseUrl: policy.endpoints[endpoint] as string,
      // As the synchronous compatible judge asks (shared/judges/openai-compatible.ts).
      dialect: {
        maxTokensField: 'max_tokens',
        responseFormat: choice.response_format ?? 'json_object',
      },
      limits: effectiveLimits(OPENAI_BATCH_LIMITS, config),
    });
  }
  if (choice.provider === 'openai') {
    return new OpenAiBatchApi({
      ...common,
      apiKey: await keys.apiKey('openai'),
      baseUrl:
        options.openAiBaseUrl ??
        (process.env.OPENAI_BASE_URL || undefined) ??
        OPENAI_DEFAULT_BASE_URL,
      dialect: { maxTokensField: 'max_completion_tokens', responseFormat: 'json_schema' },
      limits: effectiveLimits(OPENAI_BATCH_LIMITS, config),
    });
  }
  return new AnthropicBatchApi({
    ...common,
    apiKey: await keys.apiKey('anthropic'),
    baseUrl:
      options.anthropicBaseUrl ??
      (process.env.ANTHROPIC_BASE_URL || undefined) ??
      ANTHROPIC_DEFAULT_BASE_URL,
    limits: effectiveLimits(ANTHROPIC_BATCH_LIMITS, config),
  });
}
