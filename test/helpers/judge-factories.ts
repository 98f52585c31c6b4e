/**
 * Factories for LLM judge tests: a judge request with marked essay texts, a provider choice
 * pointed at a fake server, and the provider options (fixed keys, short call timeout).
 */

import type { FakeDialect, FakeLlmServer } from '#bench/support/fake-llm-server.ts';
import { DEFAULT_CONFIG, type EngineConfig } from '#domain/config.ts';
import type { JudgeChoice } from '#messages/api.ts';
import type { JudgeRequest } from '#shared/judges/port.ts';
import type { ProviderOptions } from '#shared/judges/registry.ts';
import type { KeySource } from '#shared/judges/secrets.ts';

export const TEST_API_KEY = 'sk-test-SECRET-KEY-0123456789';
/** The local cloud's endpoint policy: no named endpoints, loopback base URLs allowed. */
export const LOCAL_CLOUD_POLICY = { endpoints: {}, allowLoopbackBaseUrls: true } as const;

/**
 * Short enough that a hanging fake server ends a test within seconds, long enough that a fake
 * server's prompt answer is never taken for a timeout on a loaded 2-core CI machine (at 300 ms
 * answers were).
 */
export const TEST_CALL_TIMEOUT_MS = 1500;

export const ESSAY_A_TEXT = 'PRIVATE-ESSAY-ALPHA: the first essay argues with evidence.';
export const ESSAY_B_TEXT = 'PRIVATE-ESSAY-BETA: the second essay lists opinions.';

export function judgeRequest(overrides: Partial<JudgeRequest> = {}): JudgeRequest {
  return {
    essayA: { id: 'student-0042', text: ESSAY_A_TEXT, metadata: { quality: 1 } },
    essayB: { id: 'student-0077', text: ESSAY_B_TEXT, metadata: { quality: 0 } },
    key: { batchId: 'batch-1', comparisonId: '000001-000001', attempt: 1 },
    ...overrides,
  };
}

export type LlmProviderKind = 'openai' | 'anthropic' | 'openai-compatible';

export function dialectOf(provider: LlmProviderKind): FakeDialect {
  return provider === 'anthropic' ? 'anthropic' : 'openai';
}

export function fixedKeys(key: string = TEST_API_KEY): KeySource {
  return { apiKey: async () => key };
}

/** No key configured for any provider. */
export const NO_KEYS: KeySource = { apiKey: async () => undefined };

export function llmChoice(
  provider: LlmProviderKind,
  server: FakeLlmServer,
  extra: Record<string, unknown> = {},
): JudgeChoice {
  const model = provider === 'anthropic' ? 'claude-sonnet-4-20250514' : 'gpt-4o-mini';
  if (provider === 'openai-compatible') {
    return {
      provider,
      model: 'llama-3.1-8b-instruct',
      base_url: `${server.origin}/v1`,
      ...extra,
    } as JudgeChoice;
  }
  return { provider, model, ...extra } as JudgeChoice;
}

export function llmOptions(
  server: FakeLlmServer,
  overrides: { keys?: KeySource; config?: Partial<EngineConfig> } = {},
): ProviderOptions {
  return {
    maxMockLatencyMs: 0,
    llm: {
      keys: overrides.keys ?? fixedKeys(),
      config: {
        ...DEFAULT_CONFIG,
        JUDGE_CALL_TIMEOUT_MS: TEST_CALL_TIMEOUT_MS,
        ...overrides.config,
      },
      openAiBaseUrl: `${server.origin}/v1`,
      anthropicBaseUrl: server.origin,
      // The fake server listens on loopback: allowed as on the local cloud.
      endpointPolicy: LOCAL_CLOUD_POLICY,
    },
  };
}
