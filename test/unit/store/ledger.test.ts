/**
 * The per-wave ledger (docs/data-model.md, "Per-wave ledger"): the packed verdict codec, the warm
 * function's verdict cache, and on the real store (in-memory table) closing waves, the wave
 * records, and a snapshot read from packed verdicts that equals one read from every comparison
 * item — in a warm and in a cold function, and when a wave's verdicts are missing.
 */
import { describe, expect, it } from 'vitest';
import type { ComparisonRecord } from '#domain/types.ts';
import { createBatch } from '#shared/workflow/api.ts';
import { processCallback } from '#shared/workflow/callback.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import type { StoredComparison } from '#shared/workflow/store-records.ts';
import { dynamoStore } from '#store/dynamo-store.ts';
import { toRecord } from '#store/snapshot.ts';
import { decodeVerdicts, encodeVerdicts, VerdictCache } from '#store/verdicts.ts';
import { makeComparison } from '#test/helpers/domain-factories.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import { createPipeline, type Pipeline, testEssays } from '#test/helpers/pipeline.ts';

const ITERATION = 4;

function everyShape(): ComparisonRecord[] {
  return [
    makeComparison({ a: 0, b: 1, status: 'COMPLETED', winner: 'A', iteration: ITERATION }),
    makeComparison({
      a: 9_999,
      b: 130_000,
      status: 'COMPLETED',
      winner: 'B',
      kind: 'resample',
      resamplePass: 3,
      attempt: 1,
      iteration: ITERATION,
      usage: { input_tokens: 1_234, output_tokens: 56, cost_usd: 0.000_123_4, order_flip: true },
    }),
    makeComparison({
      a: 2,
      b: 3,
      status: 'FAILED',
      winner: undefined,
      failureKind: 'timeout',
      kind: 'retry',
      attempt: 2,
      iteration: ITERATION,
    }),
    makeComparison({
      a: 4,
      b: 5,
      status: 'FAILED',
      winner: undefined,
      failureKind: undefined,
      iteration: ITERATION,
    }),
    makeComparison({
      a: 6,
      b: 7,
      status: 'COMPLETED',
      winner: 'A',
      iteration: ITERATION,
      usage: { cost_usd: null, order_flip: false, future_field: 'kept' } as never,
    }),
  ];
}

describe('packed verdicts', () => {
  it('decode(encode(records)) gives every record back, field for field, in order', () => {
    // Prepare
    const records = everyShape();

    // Act
    const bytes = encodeVerdicts(records);
    const decoded = decodeVerdicts(bytes, ITERATION);

    // Assess
    expect(decoded).toEqual(records);
    expect(bytes.length).toBeLessThan(80);
  });

  it('takes a handful of bytes per mock verdict', () => {
    // Prepare
    const records = Array.from({ length: 1_000 }, (_, i) =>
      makeComparison({ a: i, b: i + 5_000, winner: i % 2 ? 'A' : 'B', attempt: 1, iteration: 1 }),
    );

    // Act
    const bytes = encodeVerdicts(records);

    // Assess
    expect(bytes.length / records.length).toBeLessThanOrEqual(7);
    expect(decodeVerdicts(bytes, 1)).toEqual(records);
  });

  it('refuses damaged data and values it cannot store, naming the problem', () => {
    // Prepare
    const bytes = encodeVerdicts(everyShape());
    const withTrailing = new Uint8Array([...bytes, 0]);
    const otherVersion = Uint8Array.from(bytes, (byte, i) => (i === 0 ? 9 : byte));

    // Act / Assess
    expect(() => decodeVerdicts(bytes.subarray(0, bytes.length - 3), 1)).toThrow(/truncated/);
    expect(() => decodeVerdicts(withTrailing, 1)).toThrow(/trailing bytes/);
    expect(() => decodeVerdicts(otherVersion, 1)).toThrow(/unknown version 9/);
    expect(() => decodeVerdicts(new Uint8Array([1, 1, 0, 0, 0b11]), 1)).toThrow(/bad record flags/);
    expect(() => decodeVerdicts(bytes.subarray(0, 40), 1)).toThrow(/truncated/);
    expect(() => encodeVerdicts([makeComparison({ a: -1 })])).toThrow(/non-negative integer/);
    expect(() => encodeVerdicts([makeComparison({ status: 'LOST' as never })])).toThrow(
      /unknown status or kind/,
    );
  });
});

describe('VerdictCache', () => {
  const wave = (size: number) => Array.from({ length: size }, (_, i) => makeComparison({ a: i }));

  it('returns a wave only for the batch instance that stored it', () => {
    // Prepare
    const cache = new VerdictCache(100);
    cache.set('b1', 'created-1', 1, wave(3));

    // Act / Assess
    expect(cache.get('b1', 'created-1', 1)).toHaveLength(3);
    expect(cache.get('b1', 'created-1', 2)).toBeUndefined();
    expect(cache.get('b1', 'created-again', 1)).toBeUndefined();
    expect(cache.get('b2', 'created-1', 1)).toBeUndefined();
  });

  it('keeps at most its record limit, evicting the least recently used batch first', () => {
    // Prepare
    const cache = new VerdictCache(10);
    cache.set('old', 'c', 1, wave(4));
    cache.set('used', 'c', 1, wave(4));
    cache.get('old', 'c', 1);

    // Act
    cache.set('new', 'c', 1, wave(4));
    cache.set('huge', 'c', 1, wave(11));

    // Assess
    expect(cache.get('used', 'c', 1)).toBeUndefined();
    expect(cache.get('old', 'c', 1)).toHaveLength(4);
    expect(cache.get('new', 'c', 1)).toHaveLength(4);
    expect(cache.get('huge', 'c', 1)).toBeUndefined();
  });

  it('replaces a batch whose id was used again by a new batch', () => {
    // Prepare
    const cache = new VerdictCache(10);
    cache.set('b', 'first', 1, wave(6));

    // Act
    cache.set('b', 'second', 1, wave(6));

    // Assess
    expect(cache.get('b', 'first', 1)).toBeUndefined();
    expect(cache.get('b', 'second', 1)).toHaveLength(6);
  });
});

async function newBatch(p: Pipeline, essays: number): Promise<string> {
  const created = await createBatch(
    p.deps,
    {
      essays: testEssays(essays),
      config: { RESAMPLING_ENABLED: false },
    },
    TEST_CALLER,
  );
  return (created.body as { batch_id: string }).batch_id;
}

/** Runs the queued trigger, then answers every request it sent (the first essay always wins). */
async function step(p: Pipeline): Promise<unknown> {
  const [trigger] = p.queues.continuation.splice(0);
  if (!trigger) throw new Error('no trigger queued');
  const outcome = await runContinuation(p.deps, trigger.body);
  for (const request of p.queues.comparison.splice(0)) {
    await processCallback(p.deps, {
      v: 1,
      batch_id: request.body.batch_id,
      comparison_id: request.body.comparison_id,
      outcome: 'verdict',
      winner: 'A',
    });
  }
  return outcome;
}

function committedRecords(p: Pipeline, batchId: string, upTo: number): ComparisonRecord[] {
  return [...p.table.items.values()]
    .filter((item) => item.pk === `BATCH#${batchId}` && String(item.sk).startsWith('CMP#'))
    .filter((item) => Number(item.iteration) <= upTo)
    .sort((x, y) => String(x.sk).localeCompare(String(y.sk)))
    .map((item) => toRecord(item as unknown as StoredComparison));
}

/** The wave ledger records as stored, in order (what the continuation reads back). */
function waveRecords(p: Pipeline, batchId: string): Record<string, unknown>[] {
  return [...p.table.items.values()]
    .filter((item) => item.pk === `BATCH#${batchId}` && String(item.sk).startsWith('WAVE#'))
    .sort((x, y) => String(x.sk).localeCompare(String(y.sk)));
}

describe('closing waves on the real store', () => {
  it('records how each wave closed and what came next, and packs its verdicts', async () => {
    // Prepare: a batch runs three waves
    const p = createPipeline();
    const batchId = await newBatch(p, 10);

    // Act
    for (let wave = 0; wave < 3; wave++) expect(await step(p)).toBe('planned');

    // Assess
    const waves = waveRecords(p, batchId);
    expect(waves.map((wave) => wave.iteration)).toEqual([1, 2, 3]);
    expect(waves[0]).toMatchObject({
      decision: 'REQUEST_MORE_COMPARISONS',
      size: 5,
      kinds: { coverage: 5, retry: 0, resample: 0 },
      sent_up_to: 5,
      completed: 5,
      failed: 0,
      timed_out: 0,
      next_decision: 'REQUEST_MORE_COMPARISONS',
    });
    expect(waves[0]?.closed_at).toBeDefined();
    expect(waves[2]?.closed_at).toBeUndefined();
    const packed = p.table.get(`BATCH#${batchId}`, 'VERDICTS#000002#000');
    // every comparison of wave 2 (its size follows wave sizing) judged and packed
    expect(waves[1]?.size).toBeGreaterThan(0);
    expect(packed).toMatchObject({ iteration: 2, chunk: 0, chunks: 1, count: waves[1]?.size });
  });

  it('reads the same comparisons from packed verdicts as from every item, warm or cold', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await newBatch(p, 10);
    for (let wave = 0; wave < 3; wave++) await step(p);
    const cold = dynamoStore({ client: p.documentClient, tableName: 'cj-test-table' });

    // Act
    const warmSnapshot = await p.store.loadSnapshot(batchId);
    const coldSnapshot = await cold.loadSnapshot(batchId);

    // Assess
    const expected = committedRecords(p, batchId, 3);
    expect(expected.length).toBeGreaterThan(10);
    expect(warmSnapshot?.comparisons).toEqual(expected);
    expect(coldSnapshot?.comparisons).toEqual(expected);
    expect(coldSnapshot?.lastWave).toMatchObject({ iteration: 3, complete: true, timedOut: 0 });
  });

  it('reads a closed wave from its items when its packed verdicts are missing', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await newBatch(p, 10);
    for (let wave = 0; wave < 3; wave++) await step(p);
    expect(p.table.items.delete(`BATCH#${batchId}\u0000VERDICTS#000001#000`)).toBe(true);
    const cold = dynamoStore({ client: p.documentClient, tableName: 'cj-test-table' });

    // Act
    const snapshot = await cold.loadSnapshot(batchId);

    // Assess
    expect(snapshot?.comparisons).toEqual(committedRecords(p, batchId, 3));
  });
});

describe('ledger writes that must not go backwards', () => {
  it('never lowers sent_up_to, and closing a wave without a ledger record writes no record', async () => {
    // Prepare: a batch with its first wave planned and sent
    const p = createPipeline();
    const batchId = await newBatch(p, 10);
    await step(p);
    const now = new Date('2026-11-27T09:00:00.000Z');

    // Act
    await p.store.markSent(batchId, 1, 2, now);
    await p.store.closeWave(batchId, {
      iteration: 7,
      createdAt: String(p.table.get(`BATCH#${batchId}`, 'META')?.created_at),
      records: [],
      lastCallbackAt: null,
      timedOut: 0,
      nextDecision: 'FINALIZE_SCORING',
      nextReason: 'budget_exhausted',
      keepVerdicts: false,
      now,
    });

    // Assess
    const [wave] = waveRecords(p, batchId);
    expect(wave).toMatchObject({ iteration: 1, sent_up_to: 5 });
    expect(p.table.get(`BATCH#${batchId}`, 'WAVE#000007')).toBeUndefined();
    expect(p.table.get(`BATCH#${batchId}`, 'VERDICTS#000007#000')).toBeUndefined();
  });

  it('splits a large wave into several packed items and reads them back in order', async () => {
    // Prepare: wave 1 of a running batch closed with 70,000 verdicts (over one 350 KB item)
    const p = createPipeline();
    const batchId = await newBatch(p, 10);
    await step(p);
    await step(p);
    const records = Array.from({ length: 70_000 }, (_, i) =>
      makeComparison({ a: i, b: i + 1, winner: i % 3 ? 'A' : 'B', attempt: 1, iteration: 1 }),
    );
    const createdAt = String(p.table.get(`BATCH#${batchId}`, 'META')?.created_at);

    // Act
    await p.store.closeWave(batchId, {
      iteration: 1,
      createdAt,
      records,
      lastCallbackAt: null,
      timedOut: 0,
      nextDecision: 'REQUEST_MORE_COMPARISONS',
      nextReason: 'coverage_incomplete',
      keepVerdicts: true,
      now: new Date('2026-11-27T09:00:00.000Z'),
    });
    const cold = dynamoStore({ client: p.documentClient, tableName: 'cj-test-table' });
    const snapshot = await cold.loadSnapshot(batchId);

    // Assess
    expect(p.table.get(`BATCH#${batchId}`, 'VERDICTS#000001#001')).toMatchObject({ chunks: 2 });
    expect(snapshot?.comparisons.slice(0, 70_000)).toEqual(records);
  });

  it('reads a wave from its items when one of its packed items is missing, and refuses a batch without settings', async () => {
    // Prepare: wave 1 packed in two items, the second one lost
    const p = createPipeline();
    const batchId = await newBatch(p, 10);
    await step(p);
    await step(p);
    const createdAt = String(p.table.get(`BATCH#${batchId}`, 'META')?.created_at);
    await p.store.closeWave(batchId, {
      iteration: 1,
      createdAt,
      records: Array.from({ length: 120_000 }, (_, i) => makeComparison({ a: i, iteration: 1 })),
      lastCallbackAt: null,
      timedOut: 0,
      nextDecision: 'REQUEST_MORE_COMPARISONS',
      nextReason: 'coverage_incomplete',
      keepVerdicts: true,
      now: new Date('2026-11-27T09:00:00.000Z'),
    });
    expect(p.table.items.delete(`BATCH#${batchId}\u0000VERDICTS#000001#001`)).toBe(true);
    const cold = () => dynamoStore({ client: p.documentClient, tableName: 'cj-test-table' });

    // Act
    const snapshot = await cold().loadSnapshot(batchId);
    p.table.items.delete(`BATCH#${batchId}\u0000SETTINGS`);
    const withoutSettings = cold().loadSnapshot(batchId);

    // Assess
    expect(snapshot?.comparisons).toEqual(committedRecords(p, batchId, 2));
    await expect(withoutSettings).rejects.toThrow(/has no settings item/);
  });
});
