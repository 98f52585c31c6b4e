/**
 * The sweeper: overdue comparisons fail with `timeout` through the callback path, drained or
 * never-planned RUNNING batches are re-triggered, the PendingCallbacks gauge is the total over
 * active batches, and a crashed run is completed by the next one without double counting.
 */
import { describe, expect, it } from 'vitest';
import { comparisonId } from '#messages/common.ts';
import { createBatch } from '#shared/workflow/api.ts';
import { processCallback } from '#shared/workflow/callback.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import { runSweep } from '#shared/workflow/sweeper.ts';
import {
  batchPk,
  comparisonSk,
  pendingShard,
  pendingShardKey,
  pendingSortKey,
} from '#store/keys.ts';
import { shardOrder } from '#store/sweeps.ts';
import { PENDING_PK, PENDING_SK } from '#store/table-schema.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import {
  CrashError,
  createPipeline,
  deliverOne,
  metaOf,
  ONE_MATCHING_PER_WAVE,
  type Pipeline,
  testEssays,
} from '#test/helpers/pipeline.ts';

/** A RUNNING 6-essay batch with its first wave (3 comparisons) planned; requests discarded. */
async function plannedBatch(p: Pipeline): Promise<string> {
  const created = await createBatch(
    p.deps,
    {
      essays: testEssays(6),
      config: { RESAMPLING_ENABLED: false, ...ONE_MATCHING_PER_WAVE },
    },
    TEST_CALLER,
  );
  await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
  return (created.body as { batch_id: string }).batch_id;
}

const pastDeadline = (p: Pipeline) =>
  p.advance(p.deps.config.COMPARISON_DEADLINE_SECONDS * 1000 + 1);

describe('runSweep', () => {
  it('fails overdue comparisons with timeout, then triggers the continuation once pending is 0', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await plannedBatch(p);
    const [answered] = p.queues.comparison.splice(0);
    await processCallback(p.deps, {
      v: 1,
      batch_id: batchId,
      comparison_id: answered!.body.comparison_id,
      outcome: 'verdict',
      winner: 'B',
    });
    pastDeadline(p);

    // Act
    const summary = await runSweep(p.deps);

    // Assess
    expect(summary).toMatchObject({ timed_out: 2, errors: 0 });
    expect(metaOf(p, batchId)).toMatchObject({
      submitted_comparisons: 3,
      completed_comparisons: 1,
      failed_comparisons: 2,
    });
    expect(p.telemetry.metricTotal('ComparisonsTimedOut')).toBe(2);
    expect(p.sent.continuation.filter((t) => t.body.cause === 'sweeper')).toEqual([
      {
        body: { v: 1, batch_id: batchId, iteration: 1, cause: 'sweeper' },
        groupId: batchId,
        dedupId: `${batchId}:1`,
      },
    ]);
    expect(p.telemetry.lines('gate_evaluation').at(-1)).toMatchObject({
      batch_id: batchId,
      submitted_comparisons: 3,
      completed_comparisons: 1,
      failed_comparisons: 2,
      pending_callbacks: 0,
      completion_denominator: 15,
      decision: 'continue',
    });
  });

  it("reads a batch's META once after all of its timeouts, not once per timeout", async () => {
    // Prepare: three overdue comparisons of one batch
    const p = createPipeline();
    const batchId = await plannedBatch(p);
    p.queues.comparison.splice(0);
    pastDeadline(p);
    const before = p.callLog.length;

    // Act
    const summary = await runSweep(p.deps);

    // Assess: three transactions; one META read for the gate after them, one for the gauge
    const calls = p.callLog.slice(before);
    expect(summary).toMatchObject({ timed_out: 3, errors: 0 });
    expect(calls.filter((call) => call === 'TransactWrite')).toHaveLength(3);
    expect(calls.filter((call) => call === 'Get')).toHaveLength(2);
    expect(p.sent.continuation.filter((t) => t.body.cause === 'sweeper')).toHaveLength(1);
    expect(metaOf(p, batchId)).toMatchObject({ failed_comparisons: 3 });
  });

  it('emits PendingCallbacks as the total over active batches and leaves waiting batches alone', async () => {
    // Prepare
    const p = createPipeline();
    await plannedBatch(p);
    await plannedBatch(p);
    const gateLinesBefore = p.telemetry.lines('gate_evaluation').length;

    // Act
    const summary = await runSweep(p.deps);

    // Assess
    expect(summary).toMatchObject({ active_batches: 2, pending_callbacks: 6, retriggered: 0 });
    expect(p.telemetry.metrics.filter((m) => m.name === 'PendingCallbacks')).toEqual([
      { name: 'PendingCallbacks', value: 6, dimensions: {} },
    ]);
    expect(p.telemetry.lines('gate_evaluation')).toHaveLength(gateLinesBefore + 2);
    expect(p.sent.continuation.filter((t) => t.body.cause === 'sweeper')).toHaveLength(0);
  });

  it('re-triggers a RUNNING batch whose start trigger was lost', async () => {
    // Prepare
    const p = createPipeline();
    const created = await createBatch(p.deps, { essays: testEssays(3) }, TEST_CALLER);
    const batchId = (created.body as { batch_id: string }).batch_id;
    p.queues.continuation.length = 0;
    p.advance(6 * 60 * 1000); // past the FIFO deduplication window of the lost trigger

    // Act
    const summary = await runSweep(p.deps);
    await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));

    // Assess
    expect(summary.retriggered).toBe(1);
    expect(metaOf(p, batchId)).toMatchObject({ current_iteration: 1 });
    expect(p.queues.comparison.length).toBeGreaterThan(0);
  });

  it('records overdue comparisons of a cancelled batch as late, counting nothing', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await plannedBatch(p);
    await p.store.cancelBatch(batchId, p.clock.now);
    pastDeadline(p);

    // Act
    const summary = await runSweep(p.deps);

    // Assess
    expect(summary).toMatchObject({ timed_out: 0, active_batches: 0 });
    expect(metaOf(p, batchId)).toMatchObject({ status: 'CANCELLED', failed_comparisons: 0 });
    expect(p.telemetry.lines('comparison_timeout').map((l) => l.record_outcome)).toEqual([
      'late',
      'late',
      'late',
    ]);
  });

  it('completes the work of a crashed run in the next run without double counting', async () => {
    // Prepare
    const probe = createPipeline();
    await plannedBatch(probe);
    pastDeadline(probe);
    const before = probe.externalCalls();
    await runSweep(probe.deps);
    const calls = probe.externalCalls() - before;

    for (let k = 1; k <= calls; k++) {
      const p = createPipeline();
      const batchId = await plannedBatch(p);
      pastDeadline(p);
      p.crashAtCall(k);

      // Act
      await runSweep(p.deps).catch((error: unknown) => {
        if (!(error instanceof CrashError)) throw error;
      });
      p.advance(60_000);
      await runSweep(p.deps);

      // Assess
      expect(metaOf(p, batchId), `crash at call ${k}`).toMatchObject({
        submitted_comparisons: 3,
        completed_comparisons: 0,
        failed_comparisons: 3,
      });
      // The metric is emitted after the write: a crash in between loses it, never doubles it.
      expect(
        p.telemetry.metricTotal('ComparisonsTimedOut'),
        `crash at call ${k}`,
      ).toBeLessThanOrEqual(3);
      expect(
        p.queues.continuation.filter((m) => m.dedupId === `${batchId}:1`),
        `crash at call ${k}`,
      ).toHaveLength(1);
    }
  });

  it('takes 1,000 entries no callback can record out of the index and still times out a live batch', async () => {
    // Prepare: an hour-overdue comparison per entry, of a batch that no longer exists
    const p = createPipeline({ config: { SWEEPER_MAX_TIMEOUTS_PER_RUN: 100 } });
    const batchId = await plannedBatch(p);
    addStaleEntries(p, 1000);
    pastDeadline(p);

    // Act: one sweep a minute until the live batch's three comparisons are timed out
    const runs = [];
    while (runs.length < 20 && (metaOf(p, batchId).failed_comparisons as number) < 3) {
      runs.push(await runSweep(p.deps));
      p.advance(60_000);
    }

    // Assess: 100 stale entries leave per run; then the live ones are reached
    expect(metaOf(p, batchId)).toMatchObject({ failed_comparisons: 3 });
    expect(runs.length).toBeLessThanOrEqual(11);
    expect(runs.reduce((sum, run) => sum + run.left_index, 0)).toBe(1000);
    expect(runs.reduce((sum, run) => sum + run.timed_out, 0)).toBe(3);
    expect(staleInIndex(p)).toBe(0);
    expect(runs.every((run) => run.errors === 0)).toBe(true);
  }, 30_000);

  it('takes an entry no callback can record out with one update: no transaction, no META read each', async () => {
    // Prepare: 100 overdue entries of a batch that no longer exists
    const p = createPipeline({ config: { SWEEPER_MAX_TIMEOUTS_PER_RUN: 100 } });
    addStaleEntries(p, 100);
    const before = p.callLog.length;

    // Act
    const summary = await runSweep(p.deps);

    // Assess: the index queries, one BatchGet for their batch, one Update per entry
    const calls = p.callLog.slice(before);
    expect(summary).toMatchObject({ left_index: 100, timed_out: 0, errors: 0 });
    expect(calls.filter((call) => call === 'BatchGet')).toHaveLength(1);
    expect(calls.filter((call) => call === 'Update')).toHaveLength(100);
    expect(calls.filter((call) => call === 'TransactWrite' || call === 'Get')).toEqual([]);
    expect(staleInIndex(p)).toBe(0);
  });

  it('takes an overdue entry of a wave never committed out of the index, and keeps the batch', async () => {
    // Prepare: a live batch at iteration 1, and an overdue entry of its iteration 2 (planWave
    // wrote the items and crashed before its META commit)
    const p = createPipeline();
    const batchId = await plannedBatch(p);
    const id = comparisonId(2, 0);
    const deadline = p.clock.now.getTime() - 1_000;
    p.table.items.set(`${batchPk(batchId)}\u0000${comparisonSk(id)}`, {
      pk: batchPk(batchId),
      sk: comparisonSk(id),
      status: 'PENDING',
      [PENDING_PK]: pendingShard(batchId, id, 2),
      [PENDING_SK]: pendingSortKey(deadline, batchId, id),
    });
    const meta = { ...metaOf(p, batchId) };

    // Act
    const summary = await runSweep(p.deps);

    // Assess: out of the index, no counter touched
    expect(summary).toMatchObject({ left_index: 1, timed_out: 0, errors: 0 });
    expect(p.table.get(batchPk(batchId), comparisonSk(id))?.[PENDING_SK]).toBeUndefined();
    expect(metaOf(p, batchId)).toMatchObject({
      failed_comparisons: meta.failed_comparisons,
      completed_comparisons: meta.completed_comparisons,
    });
  });

  it('counts an entry it could not take out as an error and goes on with the others', async () => {
    // Prepare: the first of three index removals fails past its retries
    const p = createPipeline();
    addStaleEntries(p, 3);
    let failures = 1;
    const store = {
      ...p.deps.store,
      leavePendingIndex: async (...args: Parameters<typeof p.deps.store.leavePendingIndex>) => {
        if (failures-- > 0) throw new Error('throttled');
        return p.deps.store.leavePendingIndex(...args);
      },
    };

    // Act
    const summary = await runSweep({ ...p.deps, store });

    // Assess
    expect(summary).toMatchObject({ left_index: 2, errors: 1 });
    expect(p.telemetry.lines('sweeper_leave_index_failed')).toHaveLength(1);
    expect(staleInIndex(p)).toBe(1);
  });

  it('reads every shard in one run, however crowded the first one is', async () => {
    // Prepare: 300 overdue entries in shard 0, read first this minute
    const p = createPipeline({ config: { SWEEPER_MAX_TIMEOUTS_PER_RUN: 100 } });
    const batchId = await plannedBatch(p);
    pastDeadline(p);
    while (shardOrder(p.clock.now, 2)[0] !== 0) p.advance(60_000);
    const [crowded, other] = [0, 1];
    addStaleEntries(p, 300, crowded);
    const liveInOther = [0, 1, 2].filter(
      (index) => pendingShard(batchId, comparisonId(1, index), 2) === pendingShardKey(other),
    );
    expect(liveInOther.length).toBeGreaterThan(0);

    // Act
    const summary = await runSweep(p.deps);

    // Assess: the live comparisons of the other shard were reached in this very run
    expect(summary.timed_out).toBe(liveInOther.length);
    expect(summary.left_index).toBe(100 - liveInOther.length);
    expect(metaOf(p, batchId)).toMatchObject({ failed_comparisons: liveInOther.length });
  });

  it('leaves an overdue comparison of a wave re-planned since in the index', async () => {
    // Prepare: the entry the sweeper listed was replaced (re-planned, new deadline) before it acts
    const p = createPipeline();
    addStaleEntries(p, 1);
    const [stale] = [...p.table.items.values()].filter((item) => item.batch_id === GONE_BATCH);
    const replanned = pendingSortKey(
      p.clock.now.getTime() + 900_000,
      GONE_BATCH,
      comparisonId(1, 0),
    );
    const store = {
      ...p.deps.store,
      getBatches: async (...args: Parameters<typeof p.deps.store.getBatches>) => {
        if (stale) stale[PENDING_SK] = replanned;
        return p.deps.store.getBatches(...args);
      },
    };

    // Act
    const summary = await runSweep({ ...p.deps, store });

    // Assess
    expect(summary.left_index).toBe(0);
    expect(stale?.[PENDING_SK]).toBe(replanned);
  });
});

const GONE_BATCH = 'batch-gone';

/** Overdue PENDING comparison items of a batch with no META (deleted), in the pending index. */
function addStaleEntries(p: Pipeline, count: number, shard?: number): void {
  const deadline = p.clock.now.getTime() - 3_600_000;
  for (let index = 0; index < count; index++) {
    const id = comparisonId(1, index);
    const item = {
      pk: batchPk(GONE_BATCH),
      sk: comparisonSk(id),
      batch_id: GONE_BATCH,
      comparison_id: id,
      iteration: 1,
      index,
      a: 0,
      b: 1,
      kind: 'coverage',
      attempt: 1,
      status: 'PENDING',
      deadline: new Date(deadline).toISOString(),
      [PENDING_PK]: shard === undefined ? pendingShard(GONE_BATCH, id, 2) : pendingShardKey(shard),
      [PENDING_SK]: pendingSortKey(deadline, GONE_BATCH, id),
    };
    p.table.items.set(`${item.pk}\u0000${item.sk}`, item);
  }
}

function staleInIndex(p: Pipeline): number {
  return [...p.table.items.values()].filter(
    (item) => item.batch_id === GONE_BATCH && item[PENDING_SK] !== undefined,
  ).length;
}
