/**
 * judge's composition root: one read of what a comparison needs, the shared provider rate limiter,
 * the judge providers (with the deployment's named endpoints), the callback queue (and the
 * comparison queue, to defer a request).
 */
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { createJudgeProvider } from '#shared/judges/registry.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { lazy } from '#shared/runtime/lazy.ts';
import { telemetry } from '#shared/runtime/observability.ts';
import { queuesFromEnv } from '#shared/runtime/sqs-queues.ts';
import { system } from '#shared/runtime/system.ts';
import { table } from '#shared/runtime/table.ts';
import type { JudgeDeps } from '#shared/workflow/judge.ts';
import { dynamoJudging } from '#store/judging.ts';
import { dynamoRateLimits } from '#store/rate-limits.ts';

export const deps = lazy((): JudgeDeps => {
  const env = readEnv(['PROVIDER_RATE_LIMITS', 'JUDGE_ENDPOINTS', 'ALLOW_LOOPBACK_BASE_URLS']);
  const endpointPolicy = {
    endpoints: env.JUDGE_ENDPOINTS,
    allowLoopbackBaseUrls: env.ALLOW_LOOPBACK_BASE_URLS,
  };
  return {
    store: { ...dynamoJudging(table()), ...dynamoRateLimits(table()) },
    messaging: queuesFromEnv(['CALLBACK_QUEUE_URL', 'COMPARISON_QUEUE_URL']),
    telemetry,
    config: { ...DEFAULT_CONFIG, PROVIDER_RATE_LIMITS: env.PROVIDER_RATE_LIMITS },
    ...system,
    providerFor: (choice) =>
      createJudgeProvider(choice, {
        maxMockLatencyMs: DEFAULT_CONFIG.MOCK_LATENCY_MAX_MS,
        sleep: system.sleep,
        llm: { endpointPolicy },
      }),
  };
});
