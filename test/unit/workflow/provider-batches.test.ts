/**
 * judge.mode provider_batch through the real workflow and store (in-memory table) against local
 * fakes of each provider's batch API: a committed wave becomes provider batches (split at the
 * provider's limit), the gate waits while they run, results come back as exactly one callback per
 * comparison (verdicts at batch prices, failures with the provider's reason, missing ones),
 * expired batches are retried by the engine within budget, cancel reaches the provider and late
 * results are recorded late. Crash tests: a crash between create and record makes no second
 * provider batch; a crash in the middle of the callbacks counts none twice.
 */

import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeBatchServer,
  type FakeBatchServerOptions,
  startFakeBatchServer,
} from '#bench/support/fake-batch-server.ts';
import type { Callback } from '#messages/queue.ts';
import { cancelBatch } from '#shared/workflow/api.ts';
import { runProviderBatches } from '#shared/workflow/provider-batches.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import {
  CrashError,
  createPipeline,
  drain,
  metaOf,
  type Pipeline,
  reportOf,
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
/** Batch prices (USD per 1M tokens) of the fakes' models, and the fakes' tokens per answer. */
const BATCH_PRICE = { openai: [0.075, 0.3], anthropic: [0.5, 2.5] } as const;
const TOKENS = [1200, 40] as const;

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
  // The fakes stamp batches with the real clock; a lookup compares them with ours.
  p.clock.now = new Date();
  return p;
}

function counters(p: Pipeline, batchId: string) {
  const meta = metaOf(p, batchId);
  return {
    status: meta.status,
    submitted: meta.submitted_comparisons,
    completed: meta.completed_comparisons,
    failed: meta.failed_comparisons,
  };
}

describe.each(PROVIDERS)('provider batches (%s)', (provider) => {
  it('judges every wave as a provider batch; the gate waits; the batch completes at batch prices', async () => {
    // Prepare: each provider batch answers only at its third poll
    const p = pipeline();
    const server = await serve(provider, { behaviour: () => ({ runningPolls: 2 }) });
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, provider, 5);

    // Act: the first wave is committed and its part submitted; the provider is still working
    await drain(p, processorsOf(p));
    await runProviderBatches(deps);
    const whileRunning = counters(p, batchId) as Record<string, number>;
    await runUntilFinal(p, batchId, deps);

    // Assess
    const final = counters(p, batchId);
    expect(whileRunning.submitted).toBeGreaterThan(0);
    expect((whileRunning.completed ?? 0) + (whileRunning.failed ?? 0)).toBe(0);
    expect(p.sent.comparison).toHaveLength(0);
    expect(final.status).toMatch(/^COMPLETE_/);
    expect(final.completed).toBe(10);
    expect(final.failed).toBe(0);
    expect(final.submitted).toBe(10);
    const waves = Number(metaOf(p, batchId).current_iteration);
    expect(server.creates()).toBe(waves);
    expect(server.batches.map((batch) => batch.requests.length).reduce((a, b) => a + b)).toBe(10);
    expect(partsOf(p, batchId).every((part) => part.state === 'COLLECTED')).toBe(true);
    const usage = reportOf(p, batchId).judge_usage as Record<string, unknown>;
    const [input, output] = BATCH_PRICE[provider];
    expect(usage).toMatchObject({
      mode: 'provider_batch',
      comparisons: 10,
      input_tokens: 10 * TOKENS[0],
      output_tokens: 10 * TOKENS[1],
      unpriced_comparisons: 0,
      unverified_price_comparisons: provider === 'openai' ? 10 : 0,
    });
    expect(usage.cost_usd).toBeCloseTo((10 * (TOKENS[0] * input + TOKENS[1] * output)) / 1e6, 12);
  });

  it('splits a wave at the request limit; each part is one provider batch, recorded once', async () => {
    // Prepare: at most 2 requests per provider batch; the first wave of 8 essays has 4 pairs
    const p = pipeline({ PROVIDER_BATCH_MAX_REQUESTS: 2 });
    const server = await serve(provider);
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, provider, 8, { budget: 4 });

    // Act
    await runUntilFinal(p, batchId, deps);

    // Assess
    expect(server.batches.map((batch) => batch.requests.length)).toEqual([2, 2]);
    expect(server.batches.flatMap((batch) => batch.requests.map((r) => r.customId))).toEqual([
      '000001-000000',
      '000001-000001',
      '000001-000002',
      '000001-000003',
    ]);
    const parts = partsOf(p, batchId).map((part) => [part.part, part.from_index, part.to_index]);
    expect(parts).toEqual([
      [0, 0, 2],
      [1, 2, 4],
    ]);
    expect(counters(p, batchId)).toMatchObject({ submitted: 4, completed: 4, failed: 0 });
  });

  it('ends an expired provider batch as failures and the engine retries the pairs within budget', async () => {
    // Prepare: the first provider batch expires with nothing done; later ones answer
    const p = pipeline();
    const server = await serve(provider, {
      behaviour: (index) => (index === 0 ? { expire: { finished: 0 } } : {}),
    });
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, provider, 5);

    // Act
    await runUntilFinal(p, batchId, deps);

    // Assess: the first wave (2 pairs) failed as expired; every pair was judged in the end
    const comparisons = comparisonsOf(p, batchId);
    const expired = comparisons.filter((c) => c.failure_detail === 'provider_batch_expired');
    expect(expired).toHaveLength(2);
    expect(expired.every((c) => c.failure_kind === 'timeout')).toBe(true);
    expect(comparisons.filter((c) => c.attempt === 2 && c.status === 'COMPLETED')).toHaveLength(2);
    expect(counters(p, batchId)).toMatchObject({ completed: 10, failed: 2, submitted: 12 });
    expect(String(metaOf(p, batchId).status)).toMatch(/^COMPLETE_/);
  });

  it('fails a request the results left out as provider_batch_missing, one callback each', async () => {
    // Prepare: the first request of the first provider batch is missing from its results
    const p = pipeline();
    const server = await serve(provider, {
      behaviour: (index) => ({
        fault: (id) => (index === 0 && id === '000001-000000' ? { kind: 'missing' } : undefined),
      }),
    });
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, provider, 4);

    // Act
    await runUntilFinal(p, batchId, deps);

    // Assess
    const missing = p.sent.callback.filter(
      (callback) => callback.outcome === 'failure' && callback.reason === 'provider_batch_missing',
    );
    expect(missing.map((callback) => callback.comparison_id)).toEqual(['000001-000000']);
    expect(counters(p, batchId)).toMatchObject({ failed: 1, completed: 6 });
  });

  it('cancels the provider batch when the batch is cancelled; its results are recorded late', async () => {
    // Prepare: a provider batch that keeps running until cancelled
    const p = pipeline();
    const server = await serve(provider, { behaviour: () => ({ runningPolls: 1_000 }) });
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, provider, 4);
    await drain(p, processorsOf(p));
    await runProviderBatches(deps);

    // Act
    await cancelBatch(p.deps, batchId, TEST_CALLER, {});
    await runProviderBatches(deps);
    await runProviderBatches(deps);
    await drain(p, processorsOf(p));

    // Assess
    const cancels = server.calls.filter(
      (call) => call.method === 'POST' && /cancel$/.test(call.path),
    );
    expect(cancels).toHaveLength(1);
    expect(metaOf(p, batchId).status).toBe('CANCELLED');
    const wave = comparisonsOf(p, batchId);
    expect(wave.length).toBeGreaterThan(0);
    for (const comparison of wave) {
      expect(comparison).toMatchObject({
        status: 'FAILED',
        late: true,
        failure_detail: 'provider_batch_canceled',
      });
    }
    expect(counters(p, batchId)).toMatchObject({ completed: 0, failed: 0 });
    expect(partsOf(p, batchId)[0]).toMatchObject({ state: 'COLLECTED' });
  });

  it('crash between creating the provider batch and recording it: no second provider batch', async () => {
    // Prepare: the transaction that records the submission dies once (the function crashed)
    const p = pipeline();
    const server = await serve(provider);
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, provider, 4);
    await drain(p, processorsOf(p));
    p.table.failNext<{ TransactItems?: Array<{ Update?: { UpdateExpression?: string } }> }>(
      'TransactWrite',
      new CrashError(0),
      (input) =>
        input.TransactItems?.[0]?.Update?.UpdateExpression?.includes('provider_batch_id') ?? false,
    );

    // Act: the crashed run; a run while its claim still holds; a run after the lease lapsed
    await runProviderBatches(deps);
    const afterCrash = partsOf(p, batchId)[0];
    await runProviderBatches(deps);
    p.advance(p.deps.config.PROVIDER_BATCH_LEASE_SECONDS * 1000 + 1000);
    await runProviderBatches(deps);
    await runUntilFinal(p, batchId, deps);

    // Assess
    expect(afterCrash).toMatchObject({ state: 'SUBMITTING' });
    expect(p.telemetry.lines('provider_batch_recovery')[0]).toMatchObject({ decision: 'adopt' });
    expect(partsOf(p, batchId)[0]).toMatchObject({ provider_batch_id: server.batches[0]?.id });
    const waves = Number(metaOf(p, batchId).current_iteration);
    expect(server.creates()).toBe(waves);
    expect(counters(p, batchId)).toMatchObject({ completed: 6, failed: 0, submitted: 6 });
  });

  it('crash in the middle of the result callbacks: none counted twice', async () => {
    // Prepare: the first collection dies after sending part of its callbacks
    const p = pipeline();
    const server = await serve(provider);
    let crashed = false;
    const deps = providerBatchDeps(p, server, {
      messaging: {
        sendCallbacks: async (callbacks: readonly Callback[]) => {
          if (!crashed && callbacks.length > 1) {
            crashed = true;
            await p.deps.messaging.sendCallbacks(callbacks.slice(0, 1));
            throw new CrashError(0);
          }
          await p.deps.messaging.sendCallbacks(callbacks);
        },
      },
    });
    const batchId = await createProviderBatchBatch(p, provider, 6);
    await drain(p, processorsOf(p));

    // Act: the crashed collection, then the schedule goes on (the claim was released)
    await runProviderBatches(deps);
    await runProviderBatches(deps);
    await runUntilFinal(p, batchId, deps);

    // Assess: one comparison's callback was sent twice and recorded once
    expect(crashed).toBe(true);
    const firstWave = p.sent.callback.filter((c) => c.comparison_id.startsWith('000001-'));
    const ids = firstWave.map((callback) => callback.comparison_id);
    expect(ids.length).toBe(new Set(ids).size + 1);
    expect(p.telemetry.metricTotal('DuplicateCallbacks')).toBe(1);
    const final = counters(p, batchId) as Record<string, number>;
    expect((final.completed ?? 0) + (final.failed ?? 0)).toBe(final.submitted);
    expect(final).toMatchObject({ completed: 15, failed: 0 });
  });
});

describe('Anthropic lookup after a lost create', () => {
  it('never guesses between two unclaimed batches of the window: the part fails and is retried', async () => {
    // Prepare: another client's batch of the same size appears in the window, and our record dies
    const p = pipeline();
    const server = await serve('anthropic');
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, 'anthropic', 5);
    await drain(p, processorsOf(p));
    p.table.failNext<{ TransactItems?: Array<{ Update?: { UpdateExpression?: string } }> }>(
      'TransactWrite',
      new CrashError(0),
      (input) =>
        input.TransactItems?.[0]?.Update?.UpdateExpression?.includes('provider_batch_id') ?? false,
    );
    await runProviderBatches(deps);
    const api = await deps.apiFor({ provider: 'anthropic', model: 'claude-haiku-4-5' });
    await api.create({
      submissionKey: 'someone-else',
      lines: (async function* () {
        yield JSON.stringify({ custom_id: 'x1', params: { model: 'm', max_tokens: 1 } });
        yield JSON.stringify({ custom_id: 'x2', params: { model: 'm', max_tokens: 1 } });
      })(),
    });

    // Act
    p.advance(p.deps.config.PROVIDER_BATCH_LEASE_SECONDS * 1000 + 1000);
    await runUntilFinal(p, batchId, deps);

    // Assess
    expect(p.telemetry.lines('provider_batch_submission_ambiguous')).toHaveLength(1);
    expect(partsOf(p, batchId)[0]).toMatchObject({
      state: 'FAILED',
      reason: 'provider_batch_submission_ambiguous',
    });
    const failed = comparisonsOf(p, batchId).filter(
      (c) => c.failure_detail === 'provider_batch_submission_ambiguous',
    );
    expect(failed).toHaveLength(2);
    expect(String(metaOf(p, batchId).status)).toMatch(/^COMPLETE_/);
  });
});

describe('a create the provider refused', () => {
  it('fails the part at once when refused for good (4xx), and resubmits after a 5xx once the lease lapsed', async () => {
    // Prepare
    const p = pipeline();
    const server = await serve('openai', { createFailures: [503] });
    const deps = providerBatchDeps(p, server);
    const batchId = await createProviderBatchBatch(p, 'openai', 4);
    await drain(p, processorsOf(p));

    // Act
    await runProviderBatches(deps);
    p.advance(p.deps.config.PROVIDER_BATCH_LEASE_SECONDS * 1000 + 1000);
    await runUntilFinal(p, batchId, deps);

    // Assess: the 503 created nothing, so the recovery resubmitted; one provider batch per wave
    expect(p.telemetry.lines('provider_batch_recovery')[0]).toMatchObject({ decision: 'resubmit' });
    expect(server.batches.length).toBe(Number(metaOf(p, batchId).current_iteration));
    expect(counters(p, batchId)).toMatchObject({ completed: 6, failed: 0 });
  });
});
