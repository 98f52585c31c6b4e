/**
 * judge.mode provider_batch on the local cloud: the real bundled functions (continuation,
 * provider-batches on its schedule, callback, sweeper) against local fakes of OpenAI's Batch API
 * and Anthropic's Message Batches over HTTP. Per provider: waves are submitted as provider batches,
 * results arrive after a delay while the gate waits, and the batch completes with the right
 * counters and its cost at batch prices; a provider batch that expires ends its comparisons as
 * failures that the engine retries within budget; cancelling the batch cancels the provider
 * batch. The OpenAI results file of the first scenario is larger than the provider-batches
 * function's memory (256 MB): it must be streamed. Runs its own local cloud (own moto_server),
 * because the deployment must allow both providers and point them at the fakes.
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeBatchBehaviour,
  type FakeBatchServer,
  startFakeBatchServer,
} from '#bench/support/fake-batch-server.ts';
import { ApiClient, type BatchState } from '#cli/api.ts';
import { isSuccess } from '#domain/types.ts';
import { type LocalCloud, runLocalCloud } from '#localstack/local-cloud/local-cloud.ts';
import {
  ensureSynth,
  localCloudPaths,
  templatePathFor,
} from '#localstack/local-cloud/supervisor.ts';
import { followBatch } from '#test/helpers/batch-runner.ts';
import { makeEssays } from '#test/helpers/essays.ts';

type Provider = 'openai' | 'anthropic';
const MODEL: Record<Provider, string> = { openai: 'gpt-4o-mini', anthropic: 'claude-haiku-4-5' };
/** Batch prices (USD per 1M input / output tokens) and the fakes' tokens per answer. */
const BATCH_PRICE: Record<Provider, [number, number]> = {
  openai: [0.075, 0.3],
  anthropic: [0.5, 2.5],
};
const TOKENS: [number, number] = [1200, 40];
/** The provider-batches function's memory (infra/functions.ts). */
const FUNCTION_MEMORY_BYTES = 256 * 1024 * 1024;

/** Behaviours of the provider batches the next test creates, by creation order (last repeats). */
const plans: Record<Provider, FakeBatchBehaviour[]> = { openai: [], anthropic: [] };
const offsets: Record<Provider, number> = { openai: 0, anthropic: 0 };

describe('provider batches on the local cloud', () => {
  let cloud: LocalCloud;
  let logDir: string;
  const fakes = {} as Record<Provider, FakeBatchServer>;

  beforeAll(async () => {
    const paths = localCloudPaths({ stateDir: mkdtempSync(join(tmpdir(), 'cj-pb-cloud-')) });
    mkdirSync(paths.logDir, { recursive: true });
    logDir = paths.logDir;
    const templatePath = templatePathFor(paths.root, process.env.CJ_STAGE ?? 'dev');
    ensureSynth(paths, templatePath);
    for (const provider of ['openai', 'anthropic'] as const) {
      fakes[provider] = await startFakeBatchServer({
        dialect: provider,
        behaviour: (index) => {
          const plan = plans[provider];
          return plan[index - offsets[provider]] ?? plan.at(-1) ?? {};
        },
        // The fake judge prefers the essay with the higher number.
        respond: (request) => {
          const number = (label: 'a' | 'b') =>
            Number(
              /essay e(\d{3})/.exec(
                new RegExp(`<essay_${label}>([\\s\\S]*?)</essay_${label}>`).exec(
                  request.promptText,
                )?.[1] ?? '',
              )?.[1],
            );
          return { kind: 'answer', winner: number('a') > number('b') ? 'A' : 'B', confidence: 4 };
        },
      });
    }
    cloud = await runLocalCloud({
      templatePath,
      logDir,
      functionEnv: {
        ALLOWED_PROVIDERS: 'mock,openai,anthropic',
        OPENAI_API_KEY: 'sk-fake-openai',
        ANTHROPIC_API_KEY: 'sk-ant-fake',
        OPENAI_BASE_URL: `${fakes.openai.origin}/v1`,
        ANTHROPIC_BASE_URL: fakes.anthropic.origin,
      },
      scheduleIntervalSeconds: 2,
    });
  });

  afterAll(async () => {
    await cloud?.stop();
    await fakes.openai?.close();
    await fakes.anthropic?.close();
  });

  function plan(provider: Provider, behaviours: FakeBatchBehaviour[]): FakeBatchServer {
    plans[provider] = behaviours;
    offsets[provider] = fakes[provider].batches.length;
    return fakes[provider];
  }

  async function submit(provider: Provider, essays: number): Promise<string> {
    const api = new ApiClient({ baseUrl: cloud.apiUrl });
    const created = await api.createBatch({
      essays: makeEssays(essays, { seed: 5 }),
      judge: { provider, model: MODEL[provider], mode: 'provider_batch' },
      config: { RESAMPLING_ENABLED: false },
    });
    return created.batch_id;
  }

  // The two providers' tests run at once (each has its own fake and plan); one provider's tests
  // run one after another, as each plans the fake's next provider batches.
  describe.concurrent.each(['openai', 'anthropic'] as const)('%s', (provider) => {
    it.sequential('submits waves as provider batches, waits for their results and completes at batch prices', async () => {
      // Prepare: results after 3 s; the first OpenAI results file outgrows the function's memory
      const filler =
        provider === 'openai'
          ? { lines: Math.ceil((FUNCTION_MEMORY_BYTES * 1.15) / 1024), bytesPerLine: 1024 }
          : undefined;
      const fake = plan(provider, [
        { completionDelayMs: 3000, ...(filler ? { filler } : {}) },
        { completionDelayMs: 3000 },
      ]);
      const api = new ApiClient({ baseUrl: cloud.apiUrl });
      const before = fake.batches.length;

      // Act
      const batchId = await submit(provider, 5);
      const run = await followBatch(api, batchId, { pollMs: 500, timeoutMs: 240_000 });

      // Assess
      const final = run.final;
      expect(isSuccess(final.status)).toBe(true);
      expect(final).toMatchObject({
        submitted_comparisons: 10,
        completed_comparisons: 10,
        failed_comparisons: 0,
      });
      const mine = fake.batches.slice(before);
      expect(mine.map((batch) => batch.requests.length).reduce((a, b) => a + b)).toBe(10);
      expect(new Set(mine.flatMap((b) => b.requests.map((r) => r.customId))).size).toBe(10);
      // The gate waited: a wave was submitted and nothing had come back yet.
      expect(
        run.snapshots.some(
          (s: BatchState) =>
            s.submitted_comparisons > 0 &&
            s.completed_comparisons + s.failed_comparisons < s.submitted_comparisons,
        ),
      ).toBe(true);
      const usage = final.processing_metadata?.judge_usage;
      const [input, output] = BATCH_PRICE[provider];
      expect(usage).toMatchObject({
        mode: 'provider_batch',
        comparisons: 10,
        input_tokens: 10 * TOKENS[0],
        output_tokens: 10 * TOKENS[1],
      });
      expect(usage?.cost_usd).toBeCloseTo(
        (10 * (TOKENS[0] * input + TOKENS[1] * output)) / 1e6,
        12,
      );
      const ranking = (await api.getResults(batchId)).essays
        .sort((x, y) => x.rank - y.rank)
        .map((row) => row.id);
      expect(ranking).toEqual(['e004', 'e003', 'e002', 'e001', 'e000']);
    });

    it.sequential('ends an expired provider batch as failures and retries its pairs within budget', async () => {
      // Prepare: the first provider batch expires with nothing done, the next ones answer
      plan(provider, [
        { completionDelayMs: 1000, expire: { finished: 0 } },
        { completionDelayMs: 1000 },
      ]);
      const api = new ApiClient({ baseUrl: cloud.apiUrl });

      // Act
      const batchId = await submit(provider, 5);
      const run = await followBatch(api, batchId, { pollMs: 500, timeoutMs: 240_000 });

      // Assess: the first wave (2 pairs) failed; every pair was judged in the end
      expect(isSuccess(run.final.status)).toBe(true);
      expect(run.final).toMatchObject({
        completed_comparisons: 10,
        failed_comparisons: 2,
        submitted_comparisons: 12,
      });
      const callbackLog = readFileSync(join(logDir, 'callback.log'), 'utf8');
      const expired = callbackLog
        .split('\n')
        .filter((line) => line.includes(batchId) && line.includes('"failure_kind":"timeout"'));
      expect(expired.length).toBeGreaterThanOrEqual(2);
    });

    it.sequential('cancels the provider batch when the batch is cancelled', async () => {
      // Prepare: a provider batch that would run for an hour
      const fake = plan(provider, [{ completionDelayMs: 3_600_000 }]);
      const api = new ApiClient({ baseUrl: cloud.apiUrl });
      const before = fake.batches.length;
      const batchId = await submit(provider, 4);
      for (let wait = 0; fake.batches.length === before && wait < 120; wait += 1) await sleep(500);
      const submitted = fake.batches[before];

      // Act
      const cancelled = await api.cancelBatch(batchId);
      const cancelPath = (call: { method: string; path: string }) =>
        call.method === 'POST' && call.path.endsWith(`${submitted?.id}/cancel`);
      for (let wait = 0; !fake.calls.some(cancelPath) && wait < 120; wait += 1) await sleep(500);

      // Assess
      expect(submitted).toBeDefined();
      expect(cancelled.status).toBe('CANCELLED');
      expect(fake.calls.filter(cancelPath)).toHaveLength(1);
      expect((await api.getBatch(batchId)).status).toBe('CANCELLED');
    });
  });
});
