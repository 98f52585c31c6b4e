/**
 * The in-flight counters on the in-memory table: a batch is counted in the transaction that makes
 * it RUNNING (inline create, paged start) and released in the one that makes it final (finalize,
 * cancel); a refused create leaves nothing behind; and, over random sequences of creates, starts,
 * finalizations, cancels, races between them and crashes, the counters always equal what is
 * running: each batch is released exactly once, by whichever terminal path wins.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeTable } from '#bench/support/fake-table.ts';
import type { InFlightCaps } from '#domain/in-flight.ts';
import { isTerminal } from '#domain/types.ts';
import type { WorkflowStore } from '#shared/workflow/ports.ts';
import type { BatchMeta } from '#shared/workflow/store-records.ts';
import { NOW, storeHarness } from '#test/helpers/store-fakes.ts';

const ALICE = 'arn:aws:iam::123456789012:user/alice';
const BOB = 'arn:aws:sts::123456789012:assumed-role/Bob';
const CAPS: InFlightCaps = { maxBatchesPerPrincipal: 2, maxEssaysInFlight: 12 };
const JUDGE = { provider: 'mock', profile: 'eng5_lower5_gpt51_low' } as const;

const essays = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ id: `e${i}`, text: `essay ${i}` }));

function setUp() {
  const h = storeHarness();
  const table = new FakeTable().attach(h.ddb);
  const counter = (pk: string, attribute: string) =>
    Number(table.get(pk, 'COUNTER')?.[attribute] ?? 0);
  return {
    store: h.store,
    table,
    batchesOf: (principal: string) => counter(`INFLIGHT#PRINCIPAL#${principal}`, 'batches'),
    essaysInFlight: () => counter('INFLIGHT#DEPLOYMENT', 'essays'),
    meta: (batchId: string) => table.get(`BATCH#${batchId}`, 'META') as unknown as BatchMeta,
  };
}

function createInline(store: WorkflowStore, batchId: string, principal: string, count: number) {
  return store.createBatch({
    batchId,
    essays: essays(count),
    essayCount: count,
    totalBudget: 10,
    config: {},
    judge: JUDGE,
    now: NOW,
    owner: principal,
    inFlight: { principal, caps: CAPS },
  });
}

async function createPaged(store: WorkflowStore, batchId: string, count: number, owner = ALICE) {
  await store.createBatch({
    batchId,
    essayCount: count,
    totalBudget: 10,
    config: {},
    judge: JUDGE,
    now: NOW,
    owner,
    inFlight: { principal: owner, caps: CAPS },
  });
  await store.putEssayPage(batchId, 0, essays(count), NOW);
}

const finalize = (store: WorkflowStore, batchId: string, status: 'COMPLETE_STABLE' | 'FAILED') =>
  store.finalizeBatch(batchId, {
    expectedIteration: 0,
    status,
    ...(status === 'FAILED' ? { failureReason: 'internal_error' as const } : {}),
    processingMetadata: {},
    resamplingPassCount: 0,
    results: [],
    now: NOW,
  });

describe('counting a batch when it starts', () => {
  it('counts an inline create in its transaction and records what it counted on META', async () => {
    // Prepare
    const t = setUp();

    // Act
    const created = await createInline(t.store, 'b1', ALICE, 4);

    // Assess
    expect(created.outcome).toBe('created');
    expect(t.batchesOf(ALICE)).toBe(1);
    expect(t.essaysInFlight()).toBe(4);
    expect(t.meta('b1')).toMatchObject({ in_flight_principal: ALICE, in_flight_essays: 4 });
  });

  it("refuses the caller's third batch and leaves nothing behind: no item, no count", async () => {
    // Prepare
    const t = setUp();
    await createInline(t.store, 'b1', ALICE, 2);
    await createInline(t.store, 'b2', ALICE, 2);
    const itemsBefore = t.table.items.size;

    // Act
    const refused = await createInline(t.store, 'b3', ALICE, 2);
    const otherCaller = await createInline(t.store, 'b4', BOB, 2);

    // Assess
    expect(refused).toEqual({
      outcome: 'over_cap',
      refusal: { limit: 'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL', max: 2, in_flight: 2, requested: 1 },
    });
    expect([...t.table.items.keys()].filter((key) => key.startsWith('BATCH#b3'))).toEqual([]);
    expect(t.batchesOf(ALICE)).toBe(2);
    expect(otherCaller.outcome).toBe('created');
    expect(t.table.items.size).toBeGreaterThan(itemsBefore);
    expect(t.essaysInFlight()).toBe(6);
  });

  it('refuses a batch that would pass the essay total, by any caller', async () => {
    // Prepare
    const t = setUp();
    await createInline(t.store, 'b1', ALICE, 10);

    // Act
    const refused = await createInline(t.store, 'b2', BOB, 3);
    const fits = await createInline(t.store, 'b3', BOB, 2);

    // Assess
    expect(refused).toEqual({
      outcome: 'over_cap',
      refusal: { limit: 'MAX_ESSAYS_IN_FLIGHT', max: 12, in_flight: 10, requested: 3 },
    });
    expect(fits.outcome).toBe('created');
    expect(t.essaysInFlight()).toBe(12);
  });

  it('refuses inside the transaction when the counters filled after the check, deleting its essays', async () => {
    // Prepare: the check passes; another caller's batch takes the last essays before the commit
    const t = setUp();
    await createInline(t.store, 'b1', ALICE, 10);
    t.table.failNext(
      'TransactWrite',
      new Error('never thrown'),
      (input: { TransactItems?: Array<{ Put?: { Item?: Record<string, unknown> } }> }) => {
        if (input.TransactItems?.[0]?.Put?.Item?.batch_id === 'b2') {
          const deployment = t.table.get('INFLIGHT#DEPLOYMENT', 'COUNTER')!;
          deployment.essays = 11;
        }
        return false;
      },
    );

    // Act
    const refused = await createInline(t.store, 'b2', BOB, 2);

    // Assess
    expect(refused).toMatchObject({
      outcome: 'over_cap',
      refusal: { limit: 'MAX_ESSAYS_IN_FLIGHT', in_flight: 11, requested: 2 },
    });
    expect([...t.table.items.keys()].filter((key) => key.startsWith('BATCH#b2'))).toEqual([]);
    expect(t.batchesOf(BOB)).toBe(0);
  });

  it('counts a paged batch against its owner only when it starts; a refused start leaves it waiting', async () => {
    // Prepare
    const t = setUp();
    await createInline(t.store, 'b1', ALICE, 2);
    await createInline(t.store, 'b2', ALICE, 2);
    await createPaged(t.store, 'p1', 3);
    const uncounted = t.essaysInFlight();

    // Act
    const refused = await t.store.startBatch('p1', NOW, CAPS);
    await t.store.cancelBatch('b1', NOW);
    const started = await t.store.startBatch('p1', NOW, CAPS);
    const again = await t.store.startBatch('p1', NOW, CAPS);

    // Assess
    expect(uncounted).toBe(4);
    expect(refused).toMatchObject({
      outcome: 'over_cap',
      batch: { status: 'PENDING_ESSAYS' },
      refusal: { limit: 'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL', in_flight: 2 },
    });
    expect(started).toMatchObject({ outcome: 'started', batch: { status: 'RUNNING' } });
    expect(again.outcome).toBe('already_started');
    expect(t.batchesOf(ALICE)).toBe(2);
    expect(t.essaysInFlight()).toBe(5);
    expect(t.meta('p1')).toMatchObject({ in_flight_principal: ALICE, in_flight_essays: 3 });
  });

  it('a retried create (the id exists) counts nothing more', async () => {
    // Prepare
    const t = setUp();
    await createInline(t.store, 'b1', ALICE, 3);

    // Act
    const retried = await createInline(t.store, 'b1', ALICE, 3);

    // Assess
    expect(retried.outcome).toBe('exists');
    expect(t.batchesOf(ALICE)).toBe(1);
    expect(t.essaysInFlight()).toBe(3);
  });
});

describe('releasing a batch when it becomes final', () => {
  it.each([
    ['finalized COMPLETE_STABLE', (s: WorkflowStore) => finalize(s, 'b1', 'COMPLETE_STABLE')],
    ['finalized FAILED (continuation failures)', (s: WorkflowStore) => finalize(s, 'b1', 'FAILED')],
    ['cancelled', (s: WorkflowStore) => s.cancelBatch('b1', NOW)],
  ])('releases once when %s; a second terminal write releases nothing', async (_, end) => {
    // Prepare
    const t = setUp();
    await createInline(t.store, 'b1', ALICE, 4);
    await createInline(t.store, 'b2', ALICE, 3);

    // Act
    await end(t.store);
    const afterFirst = { batches: t.batchesOf(ALICE), essays: t.essaysInFlight() };
    await finalize(t.store, 'b1', 'COMPLETE_STABLE');
    await t.store.cancelBatch('b1', NOW);

    // Assess
    expect(afterFirst).toEqual({ batches: 1, essays: 3 });
    expect({ batches: t.batchesOf(ALICE), essays: t.essaysInFlight() }).toEqual(afterFirst);
    expect(isTerminal(t.meta('b1').status)).toBe(true);
  });

  it('releases a cancel and a finalization racing each other exactly once', async () => {
    // Prepare
    const t = setUp();
    await createInline(t.store, 'b1', ALICE, 4);

    // Act
    const [finalized, cancelled] = await Promise.all([
      finalize(t.store, 'b1', 'COMPLETE_STABLE'),
      t.store.cancelBatch('b1', NOW),
    ]);

    // Assess
    const winners = [finalized.outcome === 'finalized', cancelled.outcome === 'cancelled'];
    expect(winners.filter(Boolean)).toHaveLength(1);
    expect(t.batchesOf(ALICE)).toBe(0);
    expect(t.essaysInFlight()).toBe(0);
  });

  it('finalizes a batch whose META moved under it (a duplicate callback), still releasing once', async () => {
    // Prepare
    const t = setUp();
    await createInline(t.store, 'b1', ALICE, 4);
    let moved = false;
    t.table.failNext('TransactWrite', new Error('never thrown'), () => {
      if (!moved) {
        const meta = t.table.get('BATCH#b1', 'META')!;
        meta.version = Number(meta.version) + 1;
        moved = true;
      }
      return false;
    });

    // Act
    const result = await finalize(t.store, 'b1', 'COMPLETE_STABLE');

    // Assess
    expect(result).toMatchObject({ outcome: 'finalized', batch: { status: 'COMPLETE_STABLE' } });
    expect(t.batchesOf(ALICE)).toBe(0);
    expect(t.essaysInFlight()).toBe(0);
  });
});

type Op =
  | { type: 'create'; principal: 0 | 1; essays: number; paged: boolean }
  | { type: 'start'; pick: number }
  | { type: 'finalize'; pick: number; failed: boolean; stale: boolean }
  | { type: 'cancel'; pick: number }
  | { type: 'race'; pick: number }
  | { type: 'crash'; pick: number; cancel: boolean };

const PRINCIPALS = [ALICE, BOB] as const;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    type: fc.constant('create' as const),
    principal: fc.constantFrom(0 as const, 1 as const),
    essays: fc.integer({ min: 2, max: 7 }),
    paged: fc.boolean(),
  }),
  fc.record({ type: fc.constant('start' as const), pick: fc.nat() }),
  fc.record({
    type: fc.constant('finalize' as const),
    pick: fc.nat(),
    failed: fc.boolean(),
    stale: fc.boolean(),
  }),
  fc.record({ type: fc.constant('cancel' as const), pick: fc.nat() }),
  fc.record({ type: fc.constant('race' as const), pick: fc.nat() }),
  fc.record({ type: fc.constant('crash' as const), pick: fc.nat(), cancel: fc.boolean() }),
);

describe('the counters under random sequences of every terminal path', () => {
  it('always equal what is running: every batch counted once and released exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
        // Prepare
        const t = setUp();
        const ids: string[] = [];
        const pick = (n: number) => (ids.length === 0 ? undefined : ids[n % ids.length]);

        for (const op of ops) {
          // Act
          if (op.type === 'create') {
            const batchId = `b${ids.length}`;
            ids.push(batchId);
            const principal = PRINCIPALS[op.principal];
            if (op.paged) await createPaged(t.store, batchId, op.essays, principal);
            else await createInline(t.store, batchId, principal, op.essays);
          } else if (op.type === 'start') {
            const batchId = pick(op.pick);
            if (batchId) await t.store.startBatch(batchId, NOW, CAPS);
          } else if (op.type === 'finalize') {
            const batchId = pick(op.pick);
            if (batchId) {
              const result = await t.store.finalizeBatch(batchId, {
                expectedIteration: op.stale ? 1 : 0,
                status: op.failed ? 'FAILED' : 'COMPLETE_BUDGET_EXHAUSTED',
                processingMetadata: {},
                resamplingPassCount: 0,
                results: [],
                now: NOW,
              });
              if (op.stale) expect(result.outcome).not.toBe('finalized');
            }
          } else if (op.type === 'cancel') {
            const batchId = pick(op.pick);
            if (batchId) await t.store.cancelBatch(batchId, NOW);
          } else if (op.type === 'race') {
            // A cancel, the continuation's finalization and the continuation-failure limit at once.
            const batchId = pick(op.pick);
            if (batchId) {
              await Promise.all([
                t.store.cancelBatch(batchId, NOW),
                finalize(t.store, batchId, 'COMPLETE_STABLE'),
                finalize(t.store, batchId, 'FAILED'),
              ]);
            }
          } else {
            // The terminal transaction fails (a crash, a network error): nothing changes; the
            // redelivered step or the client's retry then ends the batch.
            const batchId = pick(op.pick);
            if (batchId) {
              // Armed for this op only: a batch ended without a transaction leaves it unused.
              let armed = true;
              t.table.failNext('TransactWrite', new Error('crash'), () => armed);
              const end = () =>
                op.cancel
                  ? t.store.cancelBatch(batchId, NOW)
                  : finalize(t.store, batchId, 'COMPLETE_STABLE');
              await end().catch((error: Error) => {
                if (error.message !== 'crash') throw error;
              });
              armed = false;
              await end();
            }
          }

          // Assess
          const metas = ids.map((id) => t.meta(id)).filter((meta) => meta !== undefined);
          const running = metas.filter((meta) => meta.status === 'RUNNING');
          for (const principal of PRINCIPALS) {
            const own = running.filter((meta) => meta.in_flight_principal === principal);
            expect(t.batchesOf(principal)).toBe(own.length);
            expect(own.length).toBeLessThanOrEqual(CAPS.maxBatchesPerPrincipal);
          }
          const essaysRunning = running.reduce((sum, meta) => sum + meta.essay_count, 0);
          expect(t.essaysInFlight()).toBe(essaysRunning);
          expect(essaysRunning).toBeLessThanOrEqual(CAPS.maxEssaysInFlight);
          for (const meta of running) expect(meta.in_flight_principal).toBeDefined();
        }
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
