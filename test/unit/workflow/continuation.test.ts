/**
 * The continuation step on the real store (in-memory table), the real engine and the real
 * messaging adapter (mocked SQS/EventBridge clients): first wave, resume after a crash at every
 * external call, re-sending only PENDING comparisons, exactly-once finalization and event,
 * no-ops for stale triggers, open gates, terminal and cancelled batches.
 */
import { describe, expect, it } from 'vitest';
import { decide } from '#domain/decide.ts';
import type { Callback, ContinuationTrigger } from '#messages/queue.ts';
import { createBatch } from '#shared/workflow/api.ts';
import { processCallback } from '#shared/workflow/callback.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import { domainEngine } from '#shared/workflow/engine.ts';
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
import { throttled } from '#test/helpers/store-fakes.ts';

async function newBatch(p: Pipeline, essays: number, extra: Record<string, unknown> = {}) {
  const created = await createBatch(
    p.deps,
    {
      essays: testEssays(essays),
      config: { RESAMPLING_ENABLED: false, ...ONE_MATCHING_PER_WAVE },
      ...extra,
    },
    TEST_CALLER,
  );
  return (created.body as { batch_id: string }).batch_id;
}

const trigger = (batchId: string, iteration: number): ContinuationTrigger => ({
  v: 1,
  batch_id: batchId,
  iteration,
  cause: 'callbacks_drained',
});

function answer(batchId: string, comparisonId: string, ok = true): Callback {
  return ok
    ? { v: 1, batch_id: batchId, comparison_id: comparisonId, outcome: 'verdict', winner: 'A' }
    : {
        v: 1,
        batch_id: batchId,
        comparison_id: comparisonId,
        outcome: 'failure',
        failure_kind: 'malformed_answer',
      };
}

/** Answers every queued request, drains the callbacks, and leaves the trigger queued. */
async function answerAll(p: Pipeline, ok = true): Promise<void> {
  for (const request of p.queues.comparison.splice(0)) {
    await processCallback(p.deps, answer(request.body.batch_id, request.body.comparison_id, ok));
  }
}

function storedComparisons(p: Pipeline, batchId: string, iteration: number) {
  const prefix = `CMP#${String(iteration).padStart(6, '0')}-`;
  return [...p.table.items.values()].filter(
    (item) => item.pk === `BATCH#${batchId}` && String(item.sk).startsWith(prefix),
  );
}

describe('runContinuation', () => {
  it('plans the first wave, sends one request per comparison, and logs gate and decision lines', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await newBatch(p, 6);
    const [started] = p.queues.continuation.splice(0);

    // Act
    const outcome = await runContinuation(p.deps, started!.body);

    // Assess
    expect(outcome).toBe('planned');
    const wave = storedComparisons(p, batchId, 1);
    expect(wave).toHaveLength(3);
    expect(metaOf(p, batchId)).toMatchObject({ current_iteration: 1, submitted_comparisons: 3 });
    expect(p.queues.comparison.map((m) => m.body.comparison_id).sort()).toEqual(
      wave.map((item) => item.comparison_id).sort(),
    );
    expect(p.telemetry.lines('gate_evaluation')).toEqual([
      expect.objectContaining({
        batch_id: batchId,
        submitted_comparisons: 0,
        completed_comparisons: 0,
        failed_comparisons: 0,
        pending_callbacks: 0,
        completion_denominator: 15,
        decision: 'REQUEST_MORE_COMPARISONS',
      }),
    ]);
    expect(p.telemetry.lines('continuation_decision')).toEqual([
      expect.objectContaining({
        batch_id: batchId,
        iteration: 0,
        decision: 'REQUEST_MORE_COMPARISONS',
        reason: expect.any(String),
        wave_size: 3,
        status: 'RUNNING',
        failure_reason: null,
      }),
    ]);
    expect(p.telemetry.metricTotal('ComparisonsSubmitted')).toBe(3);
    expect(p.telemetry.metricTotal('ContinuationRuns')).toBe(1);
  });

  it('completes a wave after a crash at any external call: one increment, every comparison sent', async () => {
    // Prepare: count the external calls of one planning run
    const probe = createPipeline();
    await newBatch(probe, 6);
    const before = probe.externalCalls();
    await deliverOne(probe, 'continuation', (t) => runContinuation(probe.deps, t));
    const callsPerRun = probe.externalCalls() - before;
    expect(callsPerRun).toBeGreaterThanOrEqual(6);

    for (let k = 1; k <= callsPerRun; k++) {
      const p = createPipeline();
      const batchId = await newBatch(p, 6);
      p.crashAtCall(k);

      // Act: the crashed run, then the FIFO redelivery of the same trigger
      expect(await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t))).toBe('failed');
      expect(p.errors[0]).toBeInstanceOf(CrashError);
      expect(await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t))).toBe('ok');

      // Assess
      const wave = storedComparisons(p, batchId, 1);
      expect(metaOf(p, batchId), `crash at call ${k}`).toMatchObject({
        current_iteration: 1,
        submitted_comparisons: wave.length,
        total_comparisons: wave.length,
      });
      const sentIds = new Set(p.queues.comparison.map((m) => m.body.comparison_id));
      expect([...sentIds].sort(), `crash at call ${k}`).toEqual(
        wave.map((item) => String(item.comparison_id)).sort(),
      );
      expect(p.telemetry.metricTotal('ComparisonsSubmitted'), `crash at call ${k}`).toBe(
        wave.length,
      );
    }
  });

  it('re-sends only the requests never sent when the trigger is redelivered', async () => {
    // Prepare: requests go out one per chunk; the run crashes at its second send, so the first
    // request was sent (and its sending recorded) and the other two were not.
    const p = createPipeline({ config: { WAVE_SEND_CHUNK: 1 } });
    const batchId = await newBatch(p, 6);
    const [started] = p.queues.continuation.splice(0);
    const probe = createPipeline({ config: { WAVE_SEND_CHUNK: 1 } });
    await newBatch(probe, 6);
    const before = probe.callLog.length;
    await deliverOne(probe, 'continuation', (t) => runContinuation(probe.deps, t));
    const firstSend = probe.callLog.slice(before).indexOf('SendMessageBatch');
    const crashAt = probe.callLog.slice(before).indexOf('SendMessageBatch', firstSend + 1) + 1;
    p.crashAtCall(crashAt);
    await expect(runContinuation(p.deps, started!.body)).rejects.toBeInstanceOf(CrashError);
    const [first, ...unsent] = p.queues.comparison.splice(0);
    expect(unsent).toHaveLength(0);
    await processCallback(p.deps, answer(batchId, first!.body.comparison_id));

    // Act: the redelivered trigger, then a stale duplicate of it
    const outcome = await runContinuation(p.deps, {
      ...trigger(batchId, 0),
      cause: 'batch_started',
    });
    const resentByRedelivery = p.queues.comparison.splice(0).map((m) => m.body.comparison_id);
    const again = await runContinuation(p.deps, { ...trigger(batchId, 0), cause: 'sweeper' });

    // Assess: the two never sent go out once; the answered one and the sent ones never again
    expect([outcome, again]).toEqual(['resumed_wave', 'resumed_wave']);
    const wave = storedComparisons(p, batchId, 1).map((item) => String(item.comparison_id));
    expect(resentByRedelivery.sort()).toEqual(
      wave.filter((id) => id !== first!.body.comparison_id).sort(),
    );
    expect(p.queues.comparison).toHaveLength(0);
    expect(metaOf(p, batchId)).toMatchObject({
      submitted_comparisons: 3,
      completed_comparisons: 1,
    });
  });

  it('does nothing (and logs why) while callbacks are pending or for a stale trigger', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await newBatch(p, 6);
    await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
    p.queues.comparison.length = 0;

    // Act
    const pending = await runContinuation(p.deps, trigger(batchId, 1));
    const stale = await runContinuation(p.deps, trigger(batchId, 7));

    // Assess
    expect([pending, stale]).toEqual(['gate_closed', 'stale_trigger']);
    expect(p.telemetry.lines('gate_evaluation').at(-1)).toMatchObject({
      pending_callbacks: 3,
      decision: 'skipped_pending_callbacks',
    });
    expect(p.telemetry.lines('continuation_noop').map((l) => l.outcome)).toEqual([
      'gate_closed',
      'stale_trigger',
    ]);
    expect(p.queues.comparison).toHaveLength(0);
    expect(metaOf(p, batchId)).toMatchObject({ current_iteration: 1, submitted_comparisons: 3 });
  });

  it('finalizes exactly once and publishes one event, whatever call a crash hits', async () => {
    // Prepare: a 2-essay batch reaches its coverage cap after one comparison
    const setUp = async () => {
      const p = createPipeline();
      const batchId = await newBatch(p, 2);
      await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
      await answerAll(p);
      return { p, batchId };
    };
    const probe = await setUp();
    const start = probe.p.callLog.length;
    await deliverOne(probe.p, 'continuation', (t) => runContinuation(probe.p.deps, t));
    const calls = probe.p.callLog.slice(start);
    expect(calls.at(-2)).toBe('PutEvents');
    expect(calls.at(-1)).toBe('Update'); // markEventPublished

    for (let k = 1; k <= calls.length; k++) {
      const { p, batchId } = await setUp();
      p.crashAtCall(k);

      // Act
      await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
      await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));

      // Assess
      const meta = metaOf(p, batchId);
      expect(meta.status, `crash at call ${k}`).toMatch(/^COMPLETE_/);
      expect(meta.event_published, `crash at call ${k}`).toBe(true);
      expect(p.telemetry.metricTotal('BatchesFinalized'), `crash at call ${k}`).toBe(1);
      // Only a crash between publishing and marking re-publishes (consumers dedupe by batch_id).
      const expectedEvents = k === calls.length ? 2 : 1;
      expect(p.events, `crash at call ${k}`).toHaveLength(expectedEvents);
      expect(new Set(p.events.map((e) => e.batch_id))).toEqual(new Set([batchId]));
      expect(p.events[0]).toMatchObject({
        status: meta.status,
        counters: { submitted_comparisons: 1, completed_comparisons: 1, failed_comparisons: 0 },
        completion_denominator: 1,
      });
    }
  });

  it('ends a batch whose every comparison failed as FAILED no_successful_comparisons, with an error line', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await newBatch(p, 2, {
      config: { RESAMPLING_ENABLED: false, MAX_ATTEMPTS_PER_PAIR: 1 },
    });
    await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
    await answerAll(p, false);

    // Act
    await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));

    // Assess
    expect(metaOf(p, batchId)).toMatchObject({
      status: 'FAILED',
      failure_reason: 'no_successful_comparisons',
    });
    expect(p.telemetry.lines('batch_failed')).toEqual([
      expect.objectContaining({ level: 'error', failure_reason: 'no_successful_comparisons' }),
    ]);
    expect(p.telemetry.metrics).toContainEqual({
      name: 'BatchesFinalized',
      value: 1,
      dimensions: { Outcome: 'FAILED' },
    });
    expect(p.events).toEqual([expect.objectContaining({ status: 'FAILED' })]);
    expect(p.telemetry.lines('continuation_decision').at(-1)).toMatchObject({
      decision: 'FINALIZE_FAILURE',
      status: 'FAILED',
      failure_reason: 'no_successful_comparisons',
    });
  });

  it('plans nothing for a cancelled batch and publishes its event once', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await newBatch(p, 6);
    await p.store.cancelBatch(batchId, p.clock.now);

    // Act
    const first = await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
    const again = await runContinuation(p.deps, { ...trigger(batchId, 0), cause: 'cancel' });

    // Assess
    expect(first).toBe('ok');
    expect(again).toBe('final');
    expect(p.queues.comparison).toHaveLength(0);
    expect(metaOf(p, batchId)).toMatchObject({ submitted_comparisons: 0, event_published: true });
    expect(p.events).toEqual([expect.objectContaining({ batch_id: batchId, status: 'CANCELLED' })]);
  });
  it('sends nothing when a cancel lands between the snapshot and the wave commit (ConditionalCheckFailed)', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await newBatch(p, 6);
    const cancelFirst = (input: { UpdateExpression?: string }) => {
      if (input.UpdateExpression?.includes('current_iteration = :next')) {
        const meta = p.table.get(`BATCH#${batchId}`, 'META')!;
        meta.status = 'CANCELLED';
      }
      return false;
    };
    p.table.failNext('Update', new Error('never thrown'), cancelFirst);

    // Act
    await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));

    // Assess
    expect(metaOf(p, batchId)).toMatchObject({
      status: 'CANCELLED',
      submitted_comparisons: 0,
      current_iteration: 0,
    });
    expect(p.queues.comparison).toHaveLength(0);
    expect(p.telemetry.lines('continuation_noop').at(-1)).toMatchObject({
      outcome: 'stale_trigger',
      status: 'CANCELLED',
    });
  });

  it('does not finalize over a cancel that lands first, and publishes the cancellation once', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await newBatch(p, 2);
    await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
    await answerAll(p);
    // The finalize is a transaction (the batch was counted in flight): the cancel lands first.
    p.table.failNext(
      'TransactWrite',
      new Error('never thrown'),
      (input: { TransactItems?: Array<{ Update?: { UpdateExpression?: string } }> }) => {
        if (input.TransactItems?.[0]?.Update?.UpdateExpression?.includes('#status = :final')) {
          const meta = p.table.get(`BATCH#${batchId}`, 'META')!;
          Object.assign(meta, {
            status: 'CANCELLED',
            finalized_at: p.clock.now.toISOString(),
            event_published: false,
          });
        }
        return false;
      },
    );

    // Act
    await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));

    // Assess
    expect(metaOf(p, batchId)).toMatchObject({ status: 'CANCELLED', event_published: true });
    expect(p.telemetry.metricTotal('BatchesFinalized')).toBe(0);
    expect(p.events).toEqual([expect.objectContaining({ status: 'CANCELLED' })]);
  });

  it('rides out DynamoDB throttling while planning (retried with backoff)', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await newBatch(p, 6);
    p.table.failNext('BatchWrite', throttled());
    p.table.failNext('Update', throttled());

    // Act
    const result = await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));

    // Assess
    expect(result).toBe('ok');
    expect(p.backoffSleeps).toHaveLength(2);
    expect(metaOf(p, batchId)).toMatchObject({ current_iteration: 1, submitted_comparisons: 3 });
    expect(p.queues.comparison).toHaveLength(3);
  });

  it('writes nothing while the engine says WAIT, and refuses a wave beyond the budget with an error line', async () => {
    // Prepare: one engine that waits, one that plans more pairs than the budget leaves
    const waiting = createPipeline({
      engine: { ...domainEngine, decide: (snapshot) => ({ ...decide(snapshot), type: 'WAIT' }) },
    });
    const overBudget = createPipeline({
      engine: {
        ...domainEngine,
        decide: () =>
          ({
            type: 'REQUEST_MORE_COMPARISONS',
            reason: 'coverage_incomplete',
            pairs: Array.from({ length: 500 }, (_, i) => ({
              a: i % 6,
              b: (i + 1) % 6,
              kind: 'coverage',
              attempt: 1,
            })),
            resamplingPassCount: 0,
          }) as never,
      },
    });
    const waitingBatch = await newBatch(waiting, 6);
    const overBatch = await newBatch(overBudget, 6);
    const writesBefore = waiting.callLog.length;

    // Act
    const outcome = await runContinuation(waiting.deps, trigger(waitingBatch, 0));
    const refused = runContinuation(overBudget.deps, trigger(overBatch, 0));

    // Assess
    expect(outcome).toBe('waiting');
    expect(waiting.callLog.slice(writesBefore).filter((c) => c !== 'Get' && c !== 'Query')).toEqual(
      [],
    );
    await expect(refused).rejects.toThrow(/exceeds its budget/);
    expect(overBudget.telemetry.lines('wave_over_budget')).toHaveLength(1);
    expect(overBudget.queues.comparison).toHaveLength(0);
    expect(metaOf(overBudget, overBatch)).toMatchObject({ current_iteration: 0 });
  });
});
