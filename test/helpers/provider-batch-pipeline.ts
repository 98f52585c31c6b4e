/**
 * The in-memory pipeline (`#test/helpers/pipeline.ts`) with judge.mode provider_batch: the real
 * provider-batches step over the real store, its batch API pointed at a local fake of the
 * provider's batch API (`#bench/support/fake-batch-server.ts`), claim tokens counted, and a loop
 * that plays the schedule — drain the queues, run the step, move the clock — until the batch ends.
 */

import type { FakeBatchServer } from '#bench/support/fake-batch-server.ts';
import type { JudgeChoice } from '#messages/api.ts';
import { createProviderBatchApi } from '#shared/judges/batch/registry.ts';
import { createBatch } from '#shared/workflow/api.ts';
import { processCallback } from '#shared/workflow/callback.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import type { ProviderBatchDeps } from '#shared/workflow/provider-batch-deps.ts';
import { runProviderBatches } from '#shared/workflow/provider-batches.ts';
import { runSweep } from '#shared/workflow/sweeper.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import { fixedKeys } from './judge-factories.ts';
import { drain, metaOf, type Pipeline, type Processors, testEssays } from './pipeline.ts';

export type BatchProvider = 'openai' | 'anthropic';

export const BATCH_MODELS: Record<BatchProvider, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-haiku-4-5',
};

export function batchJudge(provider: BatchProvider): JudgeChoice {
  return { provider, model: BATCH_MODELS[provider], mode: 'provider_batch' };
}

/** The provider-batches step's deps on the pipeline, its batch API aimed at `server`. */
export function providerBatchDeps(
  p: Pipeline,
  server: FakeBatchServer,
  overrides: Partial<ProviderBatchDeps> = {},
): ProviderBatchDeps {
  let tokens = 0;
  return {
    store: p.store,
    messaging: p.deps.messaging,
    telemetry: p.telemetry,
    config: p.deps.config,
    now: p.deps.now,
    newToken: () => {
      tokens += 1;
      return `token-${tokens}`;
    },
    apiFor: (choice) =>
      createProviderBatchApi(choice, {
        keys: fixedKeys(),
        config: { ...p.deps.config, PROVIDER_BATCH_HTTP_TIMEOUT_MS: 2000 },
        openAiBaseUrl: `${server.origin}/v1`,
        anthropicBaseUrl: server.origin,
      }),
    remainingMs: () => 600_000,
    ...overrides,
  };
}

export function processorsOf(p: Pipeline): Processors {
  return {
    continuation: (trigger) => runContinuation(p.deps, trigger),
    judge: async () => {
      throw new Error('a provider-batch batch must never send a comparison request');
    },
    callback: (callback) => processCallback(p.deps, callback),
  };
}

export async function createProviderBatchBatch(
  p: Pipeline,
  provider: BatchProvider,
  essays: number,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const created = await createBatch(
    p.deps,
    {
      essays: testEssays(essays),
      judge: batchJudge(provider),
      config: { RESAMPLING_ENABLED: false },
      ...extra,
    },
    TEST_CALLER,
  );
  return (created.body as { batch_id: string }).batch_id;
}

/**
 * Plays the schedule until the batch is no longer RUNNING: drain the queues, run the
 * provider-batches step, a minute passes, the sweeper runs. Returns the number of rounds.
 */
export async function runUntilFinal(
  p: Pipeline,
  batchId: string,
  deps: ProviderBatchDeps,
  maxRounds = 60,
): Promise<number> {
  for (let round = 1; round <= maxRounds; round += 1) {
    await drain(p, processorsOf(p));
    if (metaOf(p, batchId).status !== 'RUNNING') return round;
    await runProviderBatches(deps);
    await drain(p, processorsOf(p));
    p.advance(60_000);
    await runSweep(p.deps);
  }
  throw new Error(`batch ${batchId} still running after ${maxRounds} rounds`);
}

/** The stored provider batch parts of a batch (items `PBATCH#…`). */
export function partsOf(p: Pipeline, batchId: string): Array<Record<string, unknown>> {
  return [...p.table.items.values()].filter(
    (item) => item.pk === `BATCH#${batchId}` && String(item.sk).startsWith('PBATCH#'),
  );
}

/** The stored comparisons of a batch. */
export function comparisonsOf(p: Pipeline, batchId: string): Array<Record<string, unknown>> {
  return [...p.table.items.values()].filter(
    (item) => item.pk === `BATCH#${batchId}` && String(item.sk).startsWith('CMP#'),
  );
}
