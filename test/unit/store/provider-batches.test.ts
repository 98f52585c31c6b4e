/**
 * Provider batch parts in the store (in-memory table): planning is idempotent, open parts are
 * listed oldest first from their own index partition, a claim is exclusive until its lease
 * lapses, recording is one transaction that also claims the provider batch id (never recorded by
 * two parts) and plans the next part, and finishing takes a part out of the in-flight index.
 */
import { describe, expect, it } from 'vitest';
import type { PartKey } from '#shared/workflow/store-records.ts';
import { partKeyFromSk, partSk, providerBatchSortKey } from '#store/keys.ts';
import { createPipeline } from '#test/helpers/pipeline.ts';

const KEY: PartKey = { batchId: 'batch-0001', iteration: 3, part: 0 };
const LIMITS = { maxRequests: 100, maxBytes: 1_000_000 };

function setup() {
  const p = createPipeline();
  const now = new Date('2026-11-27T08:00:00.000Z');
  const plan = (key: PartKey, at: Date = now) =>
    p.store.planProviderBatchPart({
      ...key,
      provider: 'openai',
      fromIndex: 0,
      deadline: '2026-11-28T10:00:00.000Z',
      now: at,
    });
  const lease = (from: Date) => new Date(from.getTime() + 60_000);
  return { p, now, plan, lease };
}

describe('provider batch parts', () => {
  it('plans a part once, and lists open parts oldest first', async () => {
    // Prepare
    const { p, now, plan } = setup();
    const later = new Date(now.getTime() + 5_000);

    // Act
    await plan({ ...KEY, batchId: 'batch-0002' }, later);
    await plan(KEY, now);
    await plan(KEY, later);
    const open = await p.store.listOpenProviderBatchParts(10);

    // Assess
    expect(open).toEqual([
      { ...KEY, plannedAt: now.toISOString() },
      { ...KEY, batchId: 'batch-0002', plannedAt: later.toISOString() },
    ]);
    expect(await p.store.getProviderBatchPart(KEY)).toMatchObject({
      state: 'PLANNED',
      planned_at: now.toISOString(),
      submission_key: 'batch-0001:3:0',
    });
    expect(await p.store.listActiveBatches()).toEqual([]);
  });

  it('lets one claim hold a part until its lease lapses', async () => {
    // Prepare
    const { p, now, plan, lease } = setup();
    await plan(KEY);

    // Act
    const first = await p.store.claimSubmission(KEY, {
      token: 't1',
      now,
      leaseUntil: lease(now),
      limits: LIMITS,
    });
    const rival = await p.store.claimSubmission(KEY, {
      token: 't2',
      now,
      leaseUntil: lease(now),
      limits: LIMITS,
    });
    const lapsed = new Date(now.getTime() + 61_000);
    const takeover = await p.store.claimSubmission(KEY, {
      token: 't3',
      now: lapsed,
      leaseUntil: lease(lapsed),
      limits: LIMITS,
    });

    // Assess
    expect(first).toMatchObject({ state: 'SUBMITTING', claim_token: 't1', max_requests: 100 });
    expect(rival).toBeNull();
    expect(takeover).toMatchObject({ state: 'SUBMITTING', claim_token: 't3' });
  });

  it('records a submission under its claim only, never one provider batch for two parts', async () => {
    // Prepare
    const { p, now, plan, lease } = setup();
    const other: PartKey = { ...KEY, batchId: 'batch-0002' };
    for (const key of [KEY, other]) {
      await plan(key);
      await p.store.claimSubmission(key, {
        token: 't',
        now,
        leaseUntil: lease(now),
        limits: LIMITS,
      });
    }
    const record = (key: PartKey, token: string, id: string, planNext: boolean) =>
      p.store.recordSubmission(key, {
        token,
        providerBatchId: id,
        providerStatus: 'validating',
        toIndex: 40,
        requests: 40,
        planNext,
        now,
      });

    // Act
    const wrongToken = await record(KEY, 'not-mine', 'batch_a', true);
    const recorded = await record(KEY, 't', 'batch_a', true);
    const again = await record(KEY, 't', 'batch_a', true);
    const stolen = await record(other, 't', 'batch_a', false);

    // Assess
    expect([wrongToken, recorded, again, stolen]).toEqual([
      'claim_lost',
      'recorded',
      'claim_lost',
      'batch_claimed_elsewhere',
    ]);
    expect(await p.store.getProviderBatchPart(KEY)).toMatchObject({
      state: 'SUBMITTED',
      provider_batch_id: 'batch_a',
      to_index: 40,
    });
    expect(await p.store.getProviderBatchPart({ ...KEY, part: 1 })).toMatchObject({
      state: 'PLANNED',
      from_index: 40,
    });
    expect(await p.store.recordedProviderBatchIds('openai', ['batch_a', 'batch_b'])).toEqual(
      new Set(['batch_a']),
    );
    expect(await p.store.recordedProviderBatchIds('anthropic', ['batch_a'])).toEqual(new Set());
  });

  it('keeps the claims of two servers apart: OpenAI and a named endpoint may hand out the same id', async () => {
    // Prepare
    const { p, now, plan, lease } = setup();
    const onLab: PartKey = { ...KEY, batchId: 'batch-0003' };
    await plan(KEY);
    await p.store.planProviderBatchPart({
      ...onLab,
      provider: 'openai-compatible:lab',
      fromIndex: 0,
      deadline: '2026-11-28T10:00:00.000Z',
      now,
    });
    const record = async (key: PartKey) => {
      await p.store.claimSubmission(key, {
        token: 't',
        now,
        leaseUntil: lease(now),
        limits: LIMITS,
      });
      return p.store.recordSubmission(key, {
        token: 't',
        providerBatchId: 'batch_1',
        providerStatus: 'validating',
        toIndex: 40,
        requests: 40,
        planNext: false,
        now,
      });
    };

    // Act
    const outcomes = [await record(KEY), await record(onLab)];

    // Assess
    expect(outcomes).toEqual(['recorded', 'recorded']);
    expect(await p.store.recordedProviderBatchIds('openai-compatible:lab', ['batch_1'])).toEqual(
      new Set(['batch_1']),
    );
    expect(await p.store.recordedProviderBatchIds('openai-compatible:chat', ['batch_1'])).toEqual(
      new Set(),
    );
  });

  it('collects under a claim that keeps its cursor, and a finished part leaves the index', async () => {
    // Prepare
    const { p, now, plan, lease } = setup();
    await plan(KEY);
    await p.store.claimSubmission(KEY, { token: 's', now, leaseUntil: lease(now), limits: LIMITS });
    await p.store.recordSubmission(KEY, {
      token: 's',
      providerBatchId: 'batch_a',
      providerStatus: 'in_progress',
      toIndex: 10,
      requests: 10,
      planNext: false,
      now,
    });

    // Act
    const collecting = await p.store.claimCollection(KEY, {
      token: 'c1',
      now,
      leaseUntil: lease(now),
    });
    const saved = await p.store.saveCursor(KEY, { token: 'c1', cursor: 7, release: true, now });
    const foreign = await p.store.saveCursor(KEY, { token: 'x', cursor: 9, release: false, now });
    const resumed = await p.store.claimCollection(KEY, {
      token: 'c2',
      now: new Date(now.getTime() + 1),
      leaseUntil: lease(now),
    });
    await p.store.finishProviderBatchPart(KEY, {
      state: 'COLLECTED',
      token: 'c2',
      outcomeCounts: { verdicts: 10 },
      now,
    });

    // Assess
    expect(collecting).toMatchObject({ state: 'COLLECTING', claim_token: 'c1' });
    expect([saved, foreign]).toEqual([true, false]);
    expect(resumed).toMatchObject({ state: 'COLLECTING', claim_token: 'c2', cursor: 7 });
    expect(await p.store.getProviderBatchPart(KEY)).toMatchObject({
      state: 'COLLECTED',
      outcome_counts: { verdicts: 10 },
    });
    expect(await p.store.listOpenProviderBatchParts(10)).toEqual([]);
  });

  it('fails a claimed part and plans the next in one write; finishing it again changes nothing', async () => {
    // Prepare
    const { p, now, plan, lease } = setup();
    await plan(KEY);
    await p.store.claimSubmission(KEY, { token: 's', now, leaseUntil: lease(now), limits: LIMITS });
    const failed = {
      state: 'FAILED' as const,
      token: 's',
      reason: 'essay_missing',
      outcomeCounts: { failures: 4 },
      planNextFrom: 4,
      now,
    };

    // Act
    await p.store.finishProviderBatchPart(KEY, failed);
    const first = await p.store.getProviderBatchPart(KEY);
    await p.store.finishProviderBatchPart(KEY, { ...failed, reason: 'again', planNextFrom: 8 });
    await p.store.finishProviderBatchPart({ ...KEY, part: 7 }, failed);
    await p.store.finishProviderBatchPart(KEY, { state: 'COLLECTED', token: 's', now });

    // Assess
    expect(first).toMatchObject({ state: 'FAILED', reason: 'essay_missing' });
    expect(await p.store.getProviderBatchPart(KEY)).toEqual(first);
    expect(await p.store.getProviderBatchPart({ ...KEY, part: 1 })).toMatchObject({
      state: 'PLANNED',
      from_index: 4,
    });
    expect(await p.store.getProviderBatchPart({ ...KEY, part: 7 })).toBeNull();
    expect(await p.store.listOpenProviderBatchParts(10)).toEqual([
      { ...KEY, part: 1, plannedAt: now.toISOString() },
    ]);
  });

  it('claims and records nothing for a part that does not exist', async () => {
    // Prepare
    const { p, now, lease } = setup();

    // Act
    const recorded = await p.store.recordSubmission(KEY, {
      token: 's',
      providerBatchId: 'batch_z',
      providerStatus: 'in_progress',
      toIndex: 2,
      requests: 2,
      planNext: false,
      now,
    });
    const collecting = await p.store.claimCollection(KEY, {
      token: 'c',
      now,
      leaseUntil: lease(now),
    });

    // Assess
    expect(recorded).toBe('claim_lost');
    expect(collecting).toBeNull();
    expect(await p.store.getProviderBatchPart(KEY)).toBeNull();
    expect(await p.store.recordedProviderBatchIds('openai', ['batch_z'])).toEqual(new Set());
  });

  it('reads the comparisons of a wave from an index on, in order', async () => {
    // Prepare
    const { p } = setup();
    for (const index of [0, 1, 2, 3]) {
      p.table.items.set(`BATCH#batch-0001\u0000CMP#000003-${String(index).padStart(6, '0')}`, {
        pk: 'BATCH#batch-0001',
        sk: `CMP#000003-${String(index).padStart(6, '0')}`,
        iteration: 3,
        index,
        a: index,
        b: index + 1,
      });
    }
    p.table.items.set('BATCH#batch-0001\u0000CMP#000004-000000', {
      pk: 'BATCH#batch-0001',
      sk: 'CMP#000004-000000',
      index: 0,
      a: 9,
      b: 8,
    });

    // Act
    const page = await p.store.listWaveComparisons('batch-0001', 3, 1, 2);
    const rest = await p.store.listWaveComparisons('batch-0001', 3, 3, 10);

    // Assess
    expect(page).toEqual([
      { index: 1, a: 1, b: 2 },
      { index: 2, a: 2, b: 3 },
    ]);
    expect(rest).toEqual([{ index: 3, a: 3, b: 4 }]);
  });

  it('keys a part by iteration and part so parts sort in plan order, and reads only part keys back', () => {
    // Act
    const keys = [partSk(3, 0), partSk(3, 1), partSk(12, 0)];
    const parsed = keys.map(partKeyFromSk);
    const other = ['META', 'CMP#000003-000001', 'PBATCH#3'].map(partKeyFromSk);

    // Assess
    expect([...keys].sort()).toEqual(keys);
    expect(parsed).toEqual([
      { iteration: 3, part: 0 },
      { iteration: 3, part: 1 },
      { iteration: 12, part: 0 },
    ]);
    expect(other).toEqual([undefined, undefined, undefined]);
    expect(providerBatchSortKey('2026-11-27T08:00:00.000Z', KEY)).toBe(
      `2026-11-27T08:00:00.000Z#batch-0001#${partSk(3, 0)}`,
    );
  });
});
