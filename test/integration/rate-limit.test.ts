/**
 * The shared provider rate limiter on the local cloud (docs/judges.md, "Rate limits"): the real
 * bundled judge, run by the queue at its full concurrency (5 invocations of 5 requests), calls a
 * local fake OpenAI-compatible server that enforces 60 requests per minute and answers 429 over it.
 * With the deployment's PROVIDER_RATE_LIMITS at that limit, the judge paces itself (reserved slots
 * slept for, or the request deferred on the queue): none is answered 429, the provider is called
 * once per comparison, and the batch completes. Runs its own local cloud, because the deployment settings
 * (allowed providers, rate limits) are the functions' environment.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLlmServer, startFakeLlmServer } from '#bench/support/fake-llm-server.ts';
import { FakeProviderLimit } from '#bench/support/fake-rate-limit.ts';
import { ApiClient } from '#cli/api.ts';
import { isSuccess } from '#domain/types.ts';
import { type LocalCloud, runLocalCloud } from '#localstack/local-cloud/local-cloud.ts';
import {
  ensureSynth,
  localCloudPaths,
  templatePathFor,
} from '#localstack/local-cloud/supervisor.ts';
import { runBatch } from '#test/helpers/batch-runner.ts';
import { makeEssays } from '#test/helpers/essays.ts';

const RPM = 60;

describe('provider rate limits on the local cloud', () => {
  let server: FakeLlmServer;
  let cloud: LocalCloud;
  let logDir: string;
  // Three seconds of burst: calls paced 1.05 s apart may arrive closer under load.
  const limit = new FakeProviderLimit({ requestsPerMinute: RPM, burstSeconds: 3 });

  beforeAll(async () => {
    const paths = localCloudPaths({ stateDir: mkdtempSync(join(tmpdir(), 'cj-rate-cloud-')) });
    mkdirSync(paths.logDir, { recursive: true });
    logDir = paths.logDir;
    const templatePath = templatePathFor(paths.root, process.env.CJ_STAGE ?? 'dev');
    ensureSynth(paths, templatePath);
    server = await startFakeLlmServer({
      dialect: 'openai',
      respond: () => ({ kind: 'answer', winner: 'A', confidence: 3 }),
      rateLimit: limit,
    });
    cloud = await runLocalCloud({
      templatePath,
      logDir,
      functionEnv: {
        ALLOWED_PROVIDERS: 'mock,openai-compatible',
        // The fake server listens on loopback: allowed as `cj local start` allows it.
        ALLOW_LOOPBACK_BASE_URLS: 'true',
        PROVIDER_RATE_LIMITS: JSON.stringify({
          'openai-compatible': { requests_per_minute: RPM },
        }),
      },
      scheduleIntervalSeconds: 2,
    });
  });

  afterAll(async () => {
    await cloud?.stop();
    await server?.close();
  });

  it('paces the judge under the provider limit: no 429, one call per comparison', async () => {
    // Prepare: a first wave of 12 requests at once, five judge invocations to take them
    const api = new ApiClient({ baseUrl: cloud.apiUrl });

    // Act
    const run = await runBatch(
      api,
      {
        essays: makeEssays(8, { seed: 23 }),
        budget: 12,
        judge: {
          provider: 'openai-compatible',
          model: 'fake-paced-model',
          base_url: `${server.origin}/v1`,
        },
        config: { RESAMPLING_ENABLED: false },
      },
      { timeoutMs: 240_000 },
    );

    // Assess
    expect(isSuccess(run.final.status)).toBe(true);
    expect(run.final.completed_comparisons).toBe(run.final.submitted_comparisons);
    expect(run.final.completed_comparisons).toBeGreaterThanOrEqual(8);
    expect(limit.refused).toBe(0);
    expect(limit.accepted).toBe(run.final.completed_comparisons);
    expect(server.requests).toHaveLength(run.final.completed_comparisons);
  });
});
