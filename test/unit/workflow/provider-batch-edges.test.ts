/**
 * judge.mode provider_batch, the edges of submitting and collecting (real workflow and store on
 * the in-memory table, local fakes of both batch APIs): a provider batch refused as a whole,
 * result files with unreadable, foreign and repeated lines, a collection paused before the
 * function's time runs out and resumed from its cursor, a collection whose claim was lost, and
 * parts that are no longer wanted (batch cancelled, deadline passed, an essay gone) before or
 * while they are submitted.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeBatchServer,
  type FakeBatchServerOptions,
  startFakeBatchServer,
} from '#bench/support/fake-batch-server.ts';
import { cancelBatch } from '#shared/workflow/api.ts';
import type { ProviderBatchDeps } from '#shared/workflow/provider-batch-deps.ts';
import { runProviderBatches } from '#shared/workflow/provider-batches.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import {
  CrashError,
  createPipeline,
  drain,
  metaOf,
  type Pipeline,
} from '#test/helpers/pipeline.ts';
import {
  type BatchProvider,
  comparisonsOf,
  createProviderBatchBatch,
  partsOf,
  processorsOf,
  providerBatchDeps,
  runUntilFinal,
} from '#test/helpers/provider-batch-pipeline.ts';

const PROVIDERS: BatchProvider[] = ['openai', 'anthropic'];

let servers: FakeBatchServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function serve(
  provider: BatchProvider,
  options: Omit<FakeBatchServerOptions, 'dialect'> = {},
): Promise<FakeBatchServer> {
  const server = await startFakeBatchServer({ dialect: provider, ...options });
  servers.push(server);
  return server;
}

function pipeline(config: Record<string, unknown> = {}): Pipeline {
  const p = createPipeline({ allowedProviders: ['mock', 'openai', 'anthropic'], config });
  p.clock.now = new Date();
  return p;
}

/** Time left in the invocation: enough to start a part, then none once it is under way. */
function runningOutAfterStart(): () => number {
  let calls = 0;
  return () => (calls++ === 0 ? 600_000 : 0);
}

/** The deps with a batch API whose cancel calls fail (they are counted). */
function withFailingCancel(deps: ProviderBatchDeps): {
  deps: ProviderBatchDeps;
  cancels: string[];
} {
  const cancels: string[] = [];
  const apiFor = async (choice: Parameters<ProviderBatchDeps['apiFor']>[0]) => {
    const api = await deps.apiFor(choice);
    api.cancel = async (id: string) => {
      cancels.push(id);
      throw new Error('cancel failed');
    };
    return api;
  };
  return { deps: { ...deps, apiFor }, cancels };
}

/** Callbacks sent for the first wave, by comparison id. */
function firstWaveCallbacks(p: Pipeline): string[] {
  return p.sent.callback
    .filter((callback) => callback.comparison_id.startsWith('000001-'))
    .map((callback) => callback.comparison_id);
}

describe('a provider batch refused as a whole', () => {
  it('fails each of its comparisons with the provider reason, and the engine retries the pairs', async () => {
    // Prepare: OpenAI refuses the first input file (status failed, no results)
    const p = pipeline();
    const server = await serve('openai', {
      behaviour: (index) => (index === 0 ? { refuse: true } : {}),
    });
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, 'openai', 5);

    // Act
    await runUntilFinal(p, batchId, deps);

    // Assess
    const refused = comparisonsOf(p, batchId).filter(
      (c) => c.iteration === 1 && c.status === 'FAILED',
    );
    expect(refused).toHaveLength(2);
    expect(new Set(firstWaveCallbacks(p)).size).toBe(firstWaveCallbacks(p).length);
    expect(metaOf(p, batchId)).toMatchObject({ failed_comparisons: 2, completed_comparisons: 10 });
    expect(partsOf(p, batchId)[0]).toMatchObject({
      state: 'COLLECTED',
      outcome_counts: expect.objectContaining({ failures: 2, verdicts: 0 }),
    });
  });
});

describe.each(PROVIDERS)('collecting (%s)', (provider) => {
  it('counts unreadable, foreign and repeated result lines and sends one callback per comparison', async () => {
    // Prepare
    const p = pipeline();
    const server = await serve(provider, {
      behaviour: (index) => (index === 0 ? { oddLines: true } : {}),
    });
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, provider, 6);

    // Act
    await runUntilFinal(p, batchId, deps);

    // Assess
    const ids = firstWaveCallbacks(p);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    expect(partsOf(p, batchId)[0]).toMatchObject({
      state: 'COLLECTED',
      outcome_counts: {
        verdicts: 3,
        failures: 0,
        missing: 0,
        foreign: 1,
        unreadable: 2,
        repeated: 1,
      },
    });
    expect(metaOf(p, batchId)).toMatchObject({ failed_comparisons: 0 });
    expect(String(metaOf(p, batchId).status)).toMatch(/^COMPLETE_/);
  });

  it('pauses before the function runs out of time and resumes from its cursor, sending each callback once', async () => {
    // Prepare: a first wave of 105 pairs; the first collecting run has no time left after a round
    const p = pipeline();
    const server = await serve(provider);
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, provider, 210, { budget: 105 });
    await drain(p, processorsOf(p));
    await runProviderBatches(deps);

    // Act
    await runProviderBatches({ ...deps, remainingMs: runningOutAfterStart() });
    const afterPause = partsOf(p, batchId)[0];
    const sentAtPause = firstWaveCallbacks(p).length;
    p.advance(1000);
    await runProviderBatches(deps);

    // Assess
    expect(p.telemetry.lines('provider_batch_collection_paused')).toHaveLength(1);
    expect(afterPause).toMatchObject({ state: 'COLLECTING', cursor: 100 });
    // Released: the next run may resume at once instead of after the lease.
    expect(Date.parse(String(afterPause?.lease_until))).toBeLessThanOrEqual(p.clock.now.getTime());
    expect(sentAtPause).toBe(100);
    const ids = firstWaveCallbacks(p);
    expect(ids).toHaveLength(105);
    expect(new Set(ids).size).toBe(105);
    expect(partsOf(p, batchId)[0]).toMatchObject({ state: 'COLLECTED' });
  });

  it('stops a collection whose claim was lost and lets the next claim finish it, counting none twice', async () => {
    // Prepare: saving the cursor finds the claim gone (another run took the part over)
    const p = pipeline();
    const server = await serve(provider);
    const lost = providerBatchDeps(p, server, {
      remainingMs: runningOutAfterStart(),
      store: { ...p.store, saveCursor: async () => false },
    });
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, provider, 210, { budget: 105 });
    await drain(p, processorsOf(p));
    await runProviderBatches(deps);

    // Act
    await runProviderBatches(lost);
    const afterLoss = partsOf(p, batchId)[0];
    p.advance(p.deps.config.PROVIDER_BATCH_LEASE_SECONDS * 1000 + 1000);
    await runProviderBatches(deps);
    await drain(p, processorsOf(p));

    // Assess: the lost run's first round was sent again by the next claim, recorded once
    expect(afterLoss).toMatchObject({ state: 'COLLECTING' });
    expect(partsOf(p, batchId)[0]).toMatchObject({ state: 'COLLECTED' });
    expect(new Set(firstWaveCallbacks(p)).size).toBe(105);
    expect(p.telemetry.metricTotal('DuplicateCallbacks')).toBe(100);
    expect(metaOf(p, batchId)).toMatchObject({
      completed_comparisons: 105,
      failed_comparisons: 0,
    });
  });
});

describe('parts nobody needs any more', () => {
  it('abandons a planned part of a batch cancelled before it was submitted; nothing is created', async () => {
    // Prepare
    const p = pipeline();
    const server = await serve('anthropic');
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, 'anthropic', 4);
    await drain(p, processorsOf(p));
    await cancelBatch(p.deps, batchId, TEST_CALLER, {});

    // Act
    const summary = await runProviderBatches(deps);

    // Assess
    expect(server.creates()).toBe(0);
    expect(partsOf(p, batchId)[0]).toMatchObject({
      state: 'ABANDONED',
      reason: 'batch_not_running',
    });
    expect(summary.open_parts).toBe(1);
    expect((await runProviderBatches(deps)).open_parts).toBe(0);
  });

  it('abandons a planned part past its deadline; nothing is created', async () => {
    // Prepare
    const p = pipeline();
    const server = await serve('openai');
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, 'openai', 4);
    await drain(p, processorsOf(p));
    const deadline = Date.parse(String(partsOf(p, batchId)[0]?.deadline));
    p.clock.now = new Date(deadline + 1000);

    // Act
    await runProviderBatches(deps);

    // Assess
    expect(server.creates()).toBe(0);
    expect(partsOf(p, batchId)[0]).toMatchObject({ state: 'ABANDONED', reason: 'deadline_passed' });
  });

  it('fails the rest of a wave whose essay is gone as invalid_request, without a provider batch', async () => {
    // Prepare: an essay of the first wave disappears before the part is submitted
    const p = pipeline();
    const server = await serve('openai');
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, 'openai', 4);
    await drain(p, processorsOf(p));
    p.table.items.delete(`BATCH#${batchId}\u0000ESSAY#000000`);

    // Act
    await runProviderBatches(deps);
    await drain(p, processorsOf(p));

    // Assess
    expect(server.creates()).toBe(0);
    expect(partsOf(p, batchId)[0]).toMatchObject({ state: 'FAILED', reason: 'essay_missing' });
    const wave = comparisonsOf(p, batchId).filter((c) => c.iteration === 1);
    expect(wave.length).toBeGreaterThan(0);
    expect(wave.every((c) => c.status === 'FAILED' && c.failure_kind === 'invalid_request')).toBe(
      true,
    );
  });

  it('abandons a part whose batch is gone (its items expired)', async () => {
    // Prepare
    const p = pipeline();
    const server = await serve('openai');
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, 'openai', 4);
    await drain(p, processorsOf(p));
    p.table.items.delete(`BATCH#${batchId}\u0000META`);

    // Act
    await runProviderBatches(deps);

    // Assess
    expect(server.creates()).toBe(0);
    expect(partsOf(p, batchId)[0]).toMatchObject({ state: 'ABANDONED', reason: 'batch_missing' });
  });

  it('starts no part when the invocation has no time left', async () => {
    // Prepare
    const p = pipeline();
    const server = await serve('openai');
    const deps = providerBatchDeps(p, server, { remainingMs: () => 0 });
    const batchId = await createProviderBatchBatch(p, 'openai', 4);
    await drain(p, processorsOf(p));

    // Act
    const summary = await runProviderBatches(deps);

    // Assess
    expect(summary).toMatchObject({ open_parts: 1, submitted: 0, errors: 0 });
    expect(server.creates()).toBe(0);
    expect(partsOf(p, batchId)[0]).toMatchObject({ state: 'PLANNED' });
  });

  it('leaves a part another run claimed first alone', async () => {
    // Prepare: the claim is refused (another run holds the part)
    const p = pipeline();
    const server = await serve('openai');
    const deps = providerBatchDeps(p, server, {
      store: { ...p.store, claimSubmission: async () => null },
    });
    const batchId = await createProviderBatchBatch(p, 'openai', 4);
    await drain(p, processorsOf(p));

    // Act
    await runProviderBatches(deps);

    // Assess
    expect(server.creates()).toBe(0);
    expect(partsOf(p, batchId)[0]).toMatchObject({ state: 'PLANNED' });
  });

  it('abandons a part whose create failed uncertainly once its deadline passed', async () => {
    // Prepare: the create answers 503 (maybe created, maybe not)
    const p = pipeline();
    const server = await serve('anthropic', { createFailures: [503] });
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, 'anthropic', 4);
    await drain(p, processorsOf(p));
    await runProviderBatches(deps);

    // Act: the lookup runs only after the deadline; it finds nothing created
    p.clock.now = new Date(Date.parse(String(partsOf(p, batchId)[0]?.deadline)) + 1000);
    await runProviderBatches(deps);

    // Assess
    expect(p.telemetry.lines('provider_batch_recovery')[0]).toMatchObject({ decision: 'resubmit' });
    expect(server.batches).toHaveLength(0);
    expect(partsOf(p, batchId)[0]).toMatchObject({ state: 'ABANDONED', reason: 'deadline_passed' });
  });

  it('abandons a part whose create failed uncertainly once its batch was cancelled', async () => {
    // Prepare: the create answers 503 (maybe created, maybe not); then the batch is cancelled
    const p = pipeline();
    const server = await serve('openai', { createFailures: [503] });
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, 'openai', 4);
    await drain(p, processorsOf(p));
    await runProviderBatches(deps);
    await cancelBatch(p.deps, batchId, TEST_CALLER, {});

    // Act: after the lease the lookup finds nothing created, and nothing is wanted any more
    p.advance(p.deps.config.PROVIDER_BATCH_LEASE_SECONDS * 1000 + 1000);
    await runProviderBatches(deps);

    // Assess
    expect(p.telemetry.lines('provider_batch_recovery')[0]).toMatchObject({ decision: 'resubmit' });
    expect(server.batches).toHaveLength(0);
    expect(partsOf(p, batchId)[0]).toMatchObject({
      state: 'ABANDONED',
      reason: 'batch_not_running',
    });
  });
});

describe('submitting', () => {
  it('builds each request line from the same prompt as synchronous judging, assignment and rubric included', async () => {
    // Prepare
    const p = pipeline();
    const server = await serve('anthropic');
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, 'anthropic', 4, {
      judge: {
        provider: 'anthropic',
        model: 'claude-haiku-4-5',
        mode: 'provider_batch',
        assignment: 'Argue for or against school uniforms.',
        rubric: 'Reward a clear thesis.',
      },
    });
    await drain(p, processorsOf(p));

    // Act
    await runProviderBatches(deps);

    // Assess
    const requests = server.batches[0]?.requests ?? [];
    expect(requests).toHaveLength(2);
    for (const request of requests) {
      expect(request.promptText).toContain('Argue for or against school uniforms.');
      expect(request.promptText).toContain('Reward a clear thesis.');
    }
    expect(partsOf(p, batchId)[0]).toMatchObject({ state: 'SUBMITTED', requests: 2 });
  });

  it('fails only its own comparisons when one part of a split wave is refused; the next part is submitted', async () => {
    // Prepare: one request per provider batch; the first create answers 400
    const p = pipeline({ PROVIDER_BATCH_MAX_REQUESTS: 1 });
    const server = await serve('openai', { createFailures: [400] });
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, 'openai', 4);
    await drain(p, processorsOf(p));

    // Act
    await runProviderBatches(deps);
    await runProviderBatches(deps);

    // Assess
    const parts = partsOf(p, batchId).map((part) => [part.part, part.state, part.to_index]);
    expect(parts).toEqual([
      [0, 'FAILED', undefined],
      [1, 'SUBMITTED', 2],
    ]);
    expect(server.batches.map((batch) => batch.requests.map((r) => r.customId))).toEqual([
      ['000001-000001'],
    ]);
    expect(
      p.sent.callback.filter((c) => c.outcome === 'failure').map((c) => c.comparison_id),
    ).toEqual(['000001-000000']);
  });

  it('leaves a part whose request lines could not be read to the lookup after its lease', async () => {
    // Prepare: reading the wave's comparisons fails while the create streams its lines
    const p = pipeline();
    const server = await serve('anthropic');
    const deps = providerBatchDeps(p, server, {
      store: {
        ...p.store,
        listWaveComparisons: async () => {
          throw new Error('table unavailable');
        },
      },
    });
    const batchId = await createProviderBatchBatch(p, 'anthropic', 4);
    await drain(p, processorsOf(p));

    // Act
    const summary = await runProviderBatches(deps);

    // Assess
    expect(summary.errors).toBe(1);
    expect(p.telemetry.lines('provider_batch_create_uncertain')[0]).toMatchObject({
      error: 'Error',
    });
    expect(partsOf(p, batchId)[0]).toMatchObject({ state: 'SUBMITTING' });
    expect(server.batches).toHaveLength(0);
  });

  it('fails the part at once when the provider refuses the create for good; the engine retries the pairs', async () => {
    // Prepare: the first create answers 400
    const p = pipeline();
    const server = await serve('openai', { createFailures: [400] });
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, 'openai', 5);

    // Act
    await runUntilFinal(p, batchId, deps);

    // Assess
    expect(partsOf(p, batchId)[0]).toMatchObject({
      state: 'FAILED',
      reason: 'provider_batch_create_http_400',
    });
    const refused = comparisonsOf(p, batchId).filter(
      (c) => c.failure_detail === 'provider_batch_create_http_400',
    );
    expect(refused).toHaveLength(2);
    expect(refused.every((c) => c.failure_kind === 'invalid_request')).toBe(true);
    expect(metaOf(p, batchId)).toMatchObject({ failed_comparisons: 2, completed_comparisons: 10 });
  });

  it('adopts the oldest of two provider batches made under one submission key and cancels the other', async () => {
    // Prepare: the record dies after the create; someone creates again under the same key
    const p = pipeline();
    const server = await serve('openai');
    const { deps, cancels } = withFailingCancel(providerBatchDeps(p, server));
    const batchId = await createProviderBatchBatch(p, 'openai', 4);
    await drain(p, processorsOf(p));
    p.table.failNext<{ TransactItems?: Array<{ Update?: { UpdateExpression?: string } }> }>(
      'TransactWrite',
      new CrashError(0),
      (input) =>
        input.TransactItems?.[0]?.Update?.UpdateExpression?.includes('provider_batch_id') ?? false,
    );
    await runProviderBatches(deps);
    // OpenAI stamps batches in whole seconds: the second one is made a second later.
    await sleep(1100);
    const api = await deps.apiFor({ provider: 'openai', model: 'gpt-4o-mini' });
    const again = await api.create({
      submissionKey: String(partsOf(p, batchId)[0]?.submission_key),
      lines: (async function* () {
        yield JSON.stringify({
          custom_id: 'x1',
          method: 'POST',
          url: '/v1/chat/completions',
          body: {},
        });
      })(),
    });

    // Act: after the lease, the lookup finds both
    p.advance(p.deps.config.PROVIDER_BATCH_LEASE_SECONDS * 1000 + 1000);
    await runUntilFinal(p, batchId, deps);

    // Assess: ours (the oldest) is adopted; the cancel of the other was tried (and failed)
    expect(p.telemetry.lines('provider_batch_recovery')[0]).toMatchObject({ decision: 'adopt' });
    expect(partsOf(p, batchId)[0]).toMatchObject({ provider_batch_id: server.batches[0]?.id });
    expect(cancels).toEqual([again.id]);
    expect(p.telemetry.lines('provider_batch_duplicate_cancelled')).toHaveLength(1);
    expect(metaOf(p, batchId)).toMatchObject({ completed_comparisons: 6, failed_comparisons: 0 });
  });

  it('cancels a provider batch it could not record because its claim was lost', async () => {
    // Prepare: the record finds the part taken over (another run's claim)
    const p = pipeline();
    const server = await serve('anthropic');
    let lostOnce = false;
    const base = providerBatchDeps(p, server);
    const { deps, cancels } = withFailingCancel({
      ...base,
      store: {
        ...p.store,
        recordSubmission: async (key, input) => {
          if (lostOnce) return p.store.recordSubmission(key, input);
          lostOnce = true;
          return 'claim_lost';
        },
      },
    });
    const batchId = await createProviderBatchBatch(p, 'anthropic', 4);
    await drain(p, processorsOf(p));

    // Act
    await runProviderBatches(deps);

    // Assess
    expect(lostOnce).toBe(true);
    expect(cancels).toEqual([server.batches[0]?.id]);
    expect(p.telemetry.lines('provider_batch_duplicate_cancelled')).toHaveLength(1);
    expect(partsOf(p, batchId)[0]).toMatchObject({ state: 'SUBMITTING' });
    expect(partsOf(p, batchId)[0]?.provider_batch_id).toBeUndefined();
  });
});
