/**
 * Callback processing on the real store (in-memory table) and the real SQS adapter (mocked client):
 * exactly-once counting, duplicates, late callbacks, crashes between external calls, conflicts,
 * throttling, and the gate log line on every evaluation.
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { Callback } from '#messages/queue.ts';
import { createBatch } from '#shared/workflow/api.ts';
import {
  processCallback,
  recordCallback,
  withInvocationRecording,
} from '#shared/workflow/callback.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
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
import { throttled, transactionCanceled } from '#test/helpers/store-fakes.ts';

const GATE_FIELDS = [
  'batch_id',
  'submitted_comparisons',
  'completed_comparisons',
  'failed_comparisons',
  'pending_callbacks',
  'completion_denominator',
  'decision',
];

/** A RUNNING 4-essay batch whose first wave (2 comparisons) is planned and sent. */
async function plannedBatch(p: Pipeline): Promise<{ batchId: string; ids: string[] }> {
  const created = await createBatch(
    p.deps,
    {
      essays: testEssays(4),
      config: { RESAMPLING_ENABLED: false, ...ONE_MATCHING_PER_WAVE },
    },
    TEST_CALLER,
  );
  const batchId = (created.body as { batch_id: string }).batch_id;
  await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
  const ids = p.queues.comparison.map((m) => m.body.comparison_id);
  p.queues.comparison.length = 0;
  return { batchId, ids };
}

function verdictFor(batchId: string, comparisonId: string): Callback {
  return { v: 1, batch_id: batchId, comparison_id: comparisonId, outcome: 'verdict', winner: 'A' };
}

function triggersFor(p: Pipeline, batchId: string) {
  return p.sent.continuation.filter((t) => t.body.batch_id === batchId && t.body.iteration === 1);
}

describe('processCallback', () => {
  it('records a verdict once, counts it, and logs the gate line with all counters', async () => {
    // Prepare
    const p = createPipeline();
    const { batchId, ids } = await plannedBatch(p);

    // Act
    const result = await processCallback(p.deps, verdictFor(batchId, ids[0]!));

    // Assess
    expect(result).toEqual({ outcome: 'recorded', triggered: false });
    expect(metaOf(p, batchId)).toMatchObject({
      submitted_comparisons: 2,
      completed_comparisons: 1,
      failed_comparisons: 0,
    });
    expect(p.telemetry.metricTotal('CallbacksReceived')).toBe(1);
    const gate = p.telemetry.lines('gate_evaluation').at(-1)!;
    for (const field of GATE_FIELDS) expect(gate).toHaveProperty(field);
    expect(gate).toMatchObject({
      batch_id: batchId,
      submitted_comparisons: 2,
      completed_comparisons: 1,
      failed_comparisons: 0,
      pending_callbacks: 1,
      completion_denominator: 6,
      decision: 'skipped_pending_callbacks',
    });
    expect(triggersFor(p, batchId)).toHaveLength(0);
  });

  it('sends one FIFO trigger (group = batch, dedup id = batch:iteration) when pending reaches 0', async () => {
    // Prepare
    const p = createPipeline();
    const { batchId, ids } = await plannedBatch(p);
    await processCallback(p.deps, verdictFor(batchId, ids[0]!));

    // Act
    const result = await processCallback(p.deps, {
      v: 1,
      batch_id: batchId,
      comparison_id: ids[1]!,
      outcome: 'failure',
      failure_kind: 'rate_limited',
      reason: 'http_429',
    });

    // Assess
    expect(result).toEqual({ outcome: 'recorded', triggered: true });
    expect(triggersFor(p, batchId)).toEqual([
      {
        body: { v: 1, batch_id: batchId, iteration: 1, cause: 'callbacks_drained' },
        groupId: batchId,
        dedupId: `${batchId}:1`,
      },
    ]);
    expect(p.telemetry.metricTotal('CallbacksFailed')).toBe(1);
    expect(p.telemetry.lines('gate_evaluation').at(-1)).toMatchObject({
      pending_callbacks: 0,
      completed_comparisons: 1,
      failed_comparisons: 1,
      decision: 'continue',
    });
  });

  it('counts a duplicate once, emits DuplicateCallbacks, and still re-checks the gate', async () => {
    // Prepare
    const p = createPipeline();
    const { batchId, ids } = await plannedBatch(p);
    await processCallback(p.deps, verdictFor(batchId, ids[0]!));
    await processCallback(p.deps, verdictFor(batchId, ids[1]!));
    const gateLinesBefore = p.telemetry.lines('gate_evaluation').length;

    // Act
    const result = await processCallback(p.deps, verdictFor(batchId, ids[1]!));

    // Assess
    expect(result.outcome).toBe('duplicate');
    expect(metaOf(p, batchId)).toMatchObject({ completed_comparisons: 2, failed_comparisons: 0 });
    expect(p.telemetry.metricTotal('DuplicateCallbacks')).toBe(1);
    expect(p.telemetry.lines('gate_evaluation')).toHaveLength(gateLinesBefore + 1);
    // The re-sent trigger carries the same dedup id, so the FIFO queue holds it once.
    expect(triggersFor(p, batchId).map((t) => t.dedupId)).toEqual([`${batchId}:1`, `${batchId}:1`]);
    expect(p.queues.continuation.filter((m) => m.body.batch_id === batchId)).toHaveLength(1);
  });

  it('records a callback after cancellation as late: counters untouched, no trigger', async () => {
    // Prepare
    const p = createPipeline();
    const { batchId, ids } = await plannedBatch(p);
    await p.store.cancelBatch(batchId, p.clock.now);

    // Act
    const result = await processCallback(p.deps, verdictFor(batchId, ids[0]!));

    // Assess
    expect(result).toEqual({ outcome: 'late', triggered: false });
    expect(metaOf(p, batchId)).toMatchObject({ status: 'CANCELLED', completed_comparisons: 0 });
    expect(p.table.get(`BATCH#${batchId}`, `CMP#${ids[0]}`)).toMatchObject({ late: true });
    expect(p.telemetry.metricTotal('LateCallbacks')).toBe(1);
    expect(triggersFor(p, batchId)).toHaveLength(0);
  });

  it('retries a transaction cancelled by a TransactionConflict and counts once', async () => {
    // Prepare
    const p = createPipeline();
    const { batchId, ids } = await plannedBatch(p);
    p.table.failNext(
      'TransactWrite',
      transactionCanceled({ Code: 'None' }, { Code: 'TransactionConflict' }),
    );

    // Act
    const result = await processCallback(p.deps, verdictFor(batchId, ids[0]!));

    // Assess
    expect(result.outcome).toBe('recorded');
    expect(metaOf(p, batchId)).toMatchObject({ completed_comparisons: 1 });
    expect(p.backoffSleeps.length).toBeGreaterThan(0);
  });

  it('retries throttling, and when it persists fails the record without counting', async () => {
    // Prepare
    const p = createPipeline();
    const { batchId, ids } = await plannedBatch(p);
    for (let i = 0; i < 4; i++) p.table.failNext('TransactWrite', throttled());

    // Act
    const attempt = processCallback(p.deps, verdictFor(batchId, ids[0]!));

    // Assess
    await expect(attempt).rejects.toThrow(/throughput/);
    expect(metaOf(p, batchId)).toMatchObject({ completed_comparisons: 0 });
    expect(p.telemetry.metricTotal('CallbacksReceived')).toBe(0);
    const redelivered = await processCallback(p.deps, verdictFor(batchId, ids[0]!));
    expect(redelivered.outcome).toBe('recorded');
    expect(metaOf(p, batchId)).toMatchObject({ completed_comparisons: 1 });
  });

  it('completes the work after a crash at any external call, counting nothing twice', async () => {
    // Prepare: how many external calls does the last callback of a wave make?
    const probe = createPipeline();
    const probeBatch = await plannedBatch(probe);
    await processCallback(probe.deps, verdictFor(probeBatch.batchId, probeBatch.ids[0]!));
    const before = probe.externalCalls();
    await processCallback(probe.deps, verdictFor(probeBatch.batchId, probeBatch.ids[1]!));
    const callsPerCallback = probe.externalCalls() - before;
    expect(callsPerCallback).toBe(3); // TransactWrite, GetItem, SendMessage

    for (let k = 1; k <= callsPerCallback; k++) {
      const p = createPipeline();
      const { batchId, ids } = await plannedBatch(p);
      await processCallback(p.deps, verdictFor(batchId, ids[0]!));
      p.crashAtCall(k);

      // Act: the crashed delivery, then SQS redelivers the same callback
      await expect(processCallback(p.deps, verdictFor(batchId, ids[1]!))).rejects.toBeInstanceOf(
        CrashError,
      );
      await processCallback(p.deps, verdictFor(batchId, ids[1]!));

      // Assess
      expect(metaOf(p, batchId), `crash at call ${k}`).toMatchObject({
        submitted_comparisons: 2,
        completed_comparisons: 2,
        failed_comparisons: 0,
      });
      const queued = p.queues.continuation.filter((m) => m.body.batch_id === batchId);
      expect(
        queued.map((m) => m.dedupId),
        `crash at call ${k}`,
      ).toEqual([`${batchId}:1`]);
    }
  });
});

describe('InvocationRecording (the callbacks of one invocation, recorded together)', () => {
  it('records the callbacks of all records in ONE transaction, each record getting its own outcome', async () => {
    // Prepare: three records — two callbacks of the wave and one that never asks (malformed)
    const p = createPipeline();
    const { batchId, ids } = await plannedBatch(p);
    await processCallback(p.deps, verdictFor(batchId, ids[0]!));
    p.ddb.resetHistory();
    const { deps, recording } = withInvocationRecording(p.deps, 3);
    const asRecord = async (work: () => Promise<unknown>) => {
      try {
        return await work();
      } finally {
        recording.settled();
      }
    };

    // Act
    const outcomes = await Promise.all([
      asRecord(() => recordCallback(deps, verdictFor(batchId, ids[0]!))),
      asRecord(async () => undefined),
      asRecord(() => recordCallback(deps, verdictFor(batchId, ids[1]!))),
    ]);

    // Assess
    expect(outcomes).toEqual(['duplicate', undefined, 'recorded']);
    const transactions = p.ddb.commandCalls(TransactWriteCommand);
    expect(transactions).toHaveLength(2);
    expect(transactions[0]!.args[0].input.TransactItems).toHaveLength(3);
    expect(transactions[1]!.args[0].input.TransactItems).toHaveLength(2);
    expect(metaOf(p, batchId)).toMatchObject({ completed_comparisons: 2, failed_comparisons: 0 });
    expect(p.telemetry.metricTotal('DuplicateCallbacks')).toBe(1);
  });

  it('fails every waiting record when the store call fails, counting none of them', async () => {
    // Prepare
    const p = createPipeline();
    const { batchId, ids } = await plannedBatch(p);
    for (let i = 0; i < 4; i++) p.table.failNext('TransactWrite', throttled());
    const { deps, recording } = withInvocationRecording(p.deps, 2);
    const asRecord = (callback: Callback) =>
      recordCallback(deps, callback).finally(() => recording.settled());

    // Act
    const settled = await Promise.allSettled([
      asRecord(verdictFor(batchId, ids[0]!)),
      asRecord(verdictFor(batchId, ids[1]!)),
    ]);

    // Assess
    expect(settled.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(metaOf(p, batchId)).toMatchObject({ completed_comparisons: 0, failed_comparisons: 0 });
    const redelivered = await processCallback(p.deps, verdictFor(batchId, ids[0]!));
    expect(redelivered.outcome).toBe('recorded');
  });
});
