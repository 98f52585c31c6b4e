/**
 * Random sequences of store operations on an in-memory table — waves (some crashing between the
 * item writes and the META update), callbacks delivered any number of times in any order, sweeper
 * timeouts, stale redeliveries, finalization and cancel — with the counter invariants (docs/engine-rules.md) checked after
 * every step and the counters reconciled against the comparison items.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeTable } from '#bench/support/fake-table.ts';
import { type CounterState, checkInvariants } from '#domain/batch-state.ts';
import { comparisonId } from '#messages/common.ts';
import type { Callback } from '#messages/queue.ts';
import type { BatchMeta } from '#shared/workflow/store-records.ts';
import { BATCH_ID, NOW, storeHarness } from '#test/helpers/store-fakes.ts';

const ESSAYS = 5;
const LATER = new Date(NOW.getTime() + 3_600_000);

type Op =
  | { type: 'plan'; size: number; crash: boolean; stale: boolean; concurrent: boolean }
  | { type: 'deliver'; pick: number; verdict: boolean; copies: number }
  | { type: 'sweep' }
  | { type: 'finalize' }
  | { type: 'cancel' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('plan' as const),
      size: fc.integer({ min: 1, max: 6 }),
      crash: fc.boolean(),
      stale: fc.boolean(),
      concurrent: fc.boolean(),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      type: fc.constant('deliver' as const),
      pick: fc.nat(),
      verdict: fc.boolean(),
      copies: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'sweep' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'finalize' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'cancel' as const }) },
);

function counterState(meta: BatchMeta): CounterState {
  return {
    submitted_comparisons: meta.submitted_comparisons,
    completed_comparisons: meta.completed_comparisons,
    failed_comparisons: meta.failed_comparisons,
    total_comparisons: meta.total_comparisons,
    total_budget: meta.total_budget,
  };
}

describe('store accounting under random operation sequences', () => {
  it('keeps every invariant and counts each committed comparison exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        // Prepare
        const h = storeHarness();
        const table = new FakeTable().attach(h.ddb);
        await h.store.createBatch({
          batchId: BATCH_ID,
          owner: 'arn:aws:iam::123456789012:user/cj-test',
          essays: Array.from({ length: ESSAYS }, (_, i) => ({ id: `e${i}`, text: `essay ${i}` })),
          essayCount: ESSAYS,
          totalBudget: 12,
          config: {},
          judge: { provider: 'mock', profile: 'eng5_lower5_gpt51_low' },
          now: NOW,
        });
        const meta = () => table.get(`BATCH#${BATCH_ID}`, 'META') as unknown as BatchMeta;
        const comparisons = () =>
          [...table.items.values()].filter((item) => String(item.sk).startsWith('CMP#'));
        let previous = counterState(meta());
        let finalCounters: CounterState | null = null;

        for (const op of ops) {
          // Act
          const before = meta();
          if (op.type === 'plan') {
            const room = before.total_budget - before.submitted_comparisons;
            const size = Math.min(op.size, room);
            if (size > 0) {
              const pairs = Array.from({ length: size }, (_, i) => ({
                a: i % ESSAYS,
                b: (i + 1) % ESSAYS,
                kind: 'coverage' as const,
                attempt: 1,
              }));
              if (op.crash) {
                table.failNext<{ ExpressionAttributeValues?: Record<string, unknown> }>(
                  'Update',
                  new Error('crash before the META update'),
                  (input) => input.ExpressionAttributeValues?.[':next'] !== undefined,
                );
              }
              const expectedIteration = op.stale
                ? Math.max(0, before.current_iteration - 1)
                : before.current_iteration;
              // Concurrent: two deliveries of one trigger racing (the FIFO queue should prevent it;
              // the conditional META update must make it harmless anyway).
              const attempts = op.concurrent ? 2 : 1;
              await Promise.all(
                Array.from({ length: attempts }, () =>
                  h.store
                    .planWave(BATCH_ID, {
                      expectedIteration,
                      pairs,
                      resamplingPassCount: 0,
                      deadline: NOW,
                      now: NOW,
                    })
                    .catch((error: Error) => {
                      if (!error.message.startsWith('crash')) throw error;
                    }),
                ),
              );
            }
          } else if (op.type === 'deliver') {
            const all = comparisons();
            const target = all.length > 0 ? all[op.pick % all.length] : undefined;
            const id = target ? String(target.comparison_id) : comparisonId(99, 0);
            const callback: Callback = op.verdict
              ? { v: 1, batch_id: BATCH_ID, comparison_id: id, outcome: 'verdict', winner: 'A' }
              : {
                  v: 1,
                  batch_id: BATCH_ID,
                  comparison_id: id,
                  outcome: 'failure',
                  failure_kind: 'rate_limited',
                };
            // Copies delivered concurrently, as SQS may hand duplicates to parallel invocations.
            const results = await Promise.all(
              Array.from({ length: op.copies }, () => h.store.recordCallback(callback, NOW)),
            );
            const recorded = results.filter((result) => result === 'recorded');
            expect(recorded.length).toBeLessThanOrEqual(1);
          } else if (op.type === 'sweep') {
            const wave = meta().current_iteration;
            for (const expired of await h.store.listExpiredInWave(BATCH_ID, wave, LATER, 100)) {
              await h.store.recordCallback(
                {
                  v: 1,
                  batch_id: expired.batch_id,
                  comparison_id: expired.comparison_id,
                  outcome: 'failure',
                  failure_kind: 'timeout',
                },
                LATER,
              );
            }
          } else if (op.type === 'finalize') {
            const result = await h.store.finalizeBatch(BATCH_ID, {
              expectedIteration: before.current_iteration,
              status: 'COMPLETE_BUDGET_EXHAUSTED',
              processingMetadata: {},
              resamplingPassCount: 0,
              results: [],
              now: NOW,
            });
            expect(result.outcome).toBe(
              before.status === 'RUNNING' ? 'finalized' : 'already_final',
            );
          } else {
            await h.store.cancelBatch(BATCH_ID, NOW);
          }

          // Assess
          const after = meta();
          const next = counterState(after);
          expect(checkInvariants(previous, next)).toEqual([]);
          const committed = comparisons().filter(
            (item) => Number(item.iteration) <= after.current_iteration,
          );
          expect(after.submitted_comparisons).toBe(committed.length);
          const counted = (status: string) =>
            committed.filter((item) => item.status === status && !item.late).length;
          expect(after.completed_comparisons).toBe(counted('COMPLETED'));
          expect(after.failed_comparisons).toBe(counted('FAILED'));
          // No index entry per comparison; META carries its current wave's deadline (the
          // sweeper's cue to look at that wave).
          for (const item of comparisons()) expect(item.gsi1pk).toBeUndefined();
          const current = committed.filter(
            (item) => Number(item.iteration) === after.current_iteration,
          );
          for (const item of current) expect(item.deadline).toBe(after.wave_deadline);
          if (finalCounters) expect(next).toEqual(finalCounters);
          if (after.status !== 'RUNNING' && after.status !== 'PENDING_ESSAYS') finalCounters = next;
          const metaRaw = table.get(`BATCH#${BATCH_ID}`, 'META');
          expect(metaRaw?.gsi2pk !== undefined).toBe(after.status === 'RUNNING');
          previous = next;
        }
      }),
      { numRuns: 30 },
    );
  }, 30_000);
});
