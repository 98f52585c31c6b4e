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
import { batchOrder, runSweep } from '#shared/workflow/sweeper.ts';
import { batchPk, comparisonSk } from '#store/keys.ts';
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

    // Assess: one read of every running META, one query of the wave, ONE transaction for the
    // three timeouts, and one fresh META read for the gate after them
    const calls = p.callLog.slice(before);
    expect(summary).toMatchObject({ timed_out: 3, overdue_batches: 1, errors: 0 });
    expect(calls.filter((call) => call === 'BatchGet')).toHaveLength(1);
    expect(calls.filter((call) => call === 'Query')).toHaveLength(2);
    expect(calls.filter((call) => call === 'TransactWrite')).toHaveLength(1);
    expect(calls.filter((call) => call === 'Get')).toHaveLength(1);
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

  it('leaves a cancelled batch alone: its pending comparisons are read by no one, and nothing is counted', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await plannedBatch(p);
    await p.store.cancelBatch(batchId, p.clock.now);
    pastDeadline(p);
    const before = p.callLog.length;

    // Act
    const summary = await runSweep(p.deps);

    // Assess
    expect(summary).toMatchObject({ timed_out: 0, active_batches: 0, overdue_batches: 0 });
    expect(metaOf(p, batchId)).toMatchObject({ status: 'CANCELLED', failed_comparisons: 0 });
    expect(p.callLog.slice(before).filter((call) => call === 'TransactWrite')).toEqual([]);
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

  it("reads no comparison of a batch whose wave's deadline has not passed", async () => {
    // Prepare: a batch waiting for its three callbacks, well inside its deadline
    const p = createPipeline();
    await plannedBatch(p);
    const before = p.callLog.length;

    // Act
    const summary = await runSweep(p.deps);

    // Assess: the active index and one BatchGet of META; no query of the wave
    const calls = p.callLog.slice(before);
    expect(summary).toMatchObject({ overdue_batches: 0, timed_out: 0, pending_callbacks: 3 });
    expect(calls.filter((call) => call === 'Query')).toHaveLength(1);
    expect(calls.filter((call) => call === 'BatchGet')).toHaveLength(1);
  });

  it("gives every overdue batch a share of the run's quota, then the leftover, a different batch first each minute", async () => {
    // Prepare: three batches with three overdue comparisons each; a run may time out four
    const p = createPipeline({ config: { SWEEPER_MAX_TIMEOUTS_PER_RUN: 4 } });
    const batches = [await plannedBatch(p), await plannedBatch(p), await plannedBatch(p)];
    pastDeadline(p);
    const failed = () => batches.map((id) => metaOf(p, id).failed_comparisons as number);

    // Act
    const first = await runSweep(p.deps);
    const afterFirst = failed();
    p.advance(60_000);
    await runSweep(p.deps);
    p.advance(60_000);
    await runSweep(p.deps);

    // Assess: every batch got at least one timeout in the first run; all done by the third
    expect(first).toMatchObject({ timed_out: 4, overdue_batches: 3, errors: 0 });
    expect(afterFirst.every((count) => count >= 1)).toBe(true);
    expect(afterFirst.reduce((sum, count) => sum + count, 0)).toBe(4);
    expect(failed()).toEqual([3, 3, 3]);
    const minute = 60_000;
    expect(
      [0, 1, 2, 3].map((k) => batchOrder(new Date(k * minute + 59_999), ['a', 'b', 'c'])),
    ).toEqual([
      ['a', 'b', 'c'],
      ['b', 'c', 'a'],
      ['c', 'a', 'b'],
      ['a', 'b', 'c'],
    ]);
  });

  it('leaves the comparisons of a wave never committed alone, and times out the committed wave', async () => {
    // Prepare: a live batch at iteration 1, and a PENDING comparison of its iteration 2 (planWave
    // wrote the items and crashed before its META commit)
    const p = createPipeline();
    const batchId = await plannedBatch(p);
    const id = comparisonId(2, 0);
    p.table.items.set(`${batchPk(batchId)}\u0000${comparisonSk(id)}`, {
      pk: batchPk(batchId),
      sk: comparisonSk(id),
      batch_id: batchId,
      comparison_id: id,
      iteration: 2,
      status: 'PENDING',
      deadline: new Date(p.clock.now.getTime() - 1_000).toISOString(),
    });
    pastDeadline(p);

    // Act
    const summary = await runSweep(p.deps);

    // Assess
    expect(summary).toMatchObject({ timed_out: 3, errors: 0 });
    expect(p.table.get(batchPk(batchId), comparisonSk(id))).toMatchObject({ status: 'PENDING' });
    expect(metaOf(p, batchId)).toMatchObject({ submitted_comparisons: 3, failed_comparisons: 3 });
  });

  it('times out a comparison only past its own deadline, on META written before wave_deadline existed', async () => {
    // Prepare: META without wave_deadline (an older deployment's), inside the deadline
    const p = createPipeline();
    const batchId = await plannedBatch(p);
    const meta = p.table.get(batchPk(batchId), 'META');
    if (meta) delete meta.wave_deadline;

    // Act
    const early = await runSweep(p.deps);
    pastDeadline(p);
    const late = await runSweep(p.deps);

    // Assess
    expect(early).toMatchObject({ overdue_batches: 1, timed_out: 0 });
    expect(late).toMatchObject({ overdue_batches: 1, timed_out: 3 });
    expect(metaOf(p, batchId)).toMatchObject({ failed_comparisons: 3 });
  });

  it('counts a batch it could not sweep as an error and goes on with the others', async () => {
    // Prepare: two overdue batches; listing the first one's wave fails past its retries
    const p = createPipeline();
    const broken = await plannedBatch(p);
    const healthy = await plannedBatch(p);
    pastDeadline(p);
    const store = {
      ...p.deps.store,
      listExpiredInWave: async (...args: Parameters<typeof p.deps.store.listExpiredInWave>) => {
        if (args[0] === broken) throw new Error('throttled');
        return p.deps.store.listExpiredInWave(...args);
      },
    };

    // Act
    const summary = await runSweep({ ...p.deps, store });

    // Assess
    expect(summary).toMatchObject({ timed_out: 3, errors: 1, overdue_batches: 2 });
    expect(p.telemetry.lines('sweeper_timeout_failed')).toEqual([
      expect.objectContaining({ batch_id: broken }),
    ]);
    expect(metaOf(p, healthy)).toMatchObject({ failed_comparisons: 3 });
    expect(metaOf(p, broken)).toMatchObject({ failed_comparisons: 0 });
  });
});
