/**
 * A continuation that always throws still ends its batch: each failed step is logged, counted on
 * META and thrown again (SQS redelivers), and the MAX_CONTINUATION_FAILURES-th ends the batch
 * FAILED internal_error with exactly one event (real store on the in-memory table, real messaging
 * adapters on mocked clients).
 */
import { describe, expect, it } from 'vitest';
import type { ContinuationTrigger } from '#messages/queue.ts';
import { createBatch } from '#shared/workflow/api.ts';
import { runGuardedContinuation } from '#shared/workflow/continuation-failures.ts';
import { domainEngine } from '#shared/workflow/engine.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import { createPipeline, metaOf, type Pipeline, testEssays } from '#test/helpers/pipeline.ts';

class PoisonedStep extends Error {
  override name = 'PoisonedStep';
}

function poisonedPipeline(maxFailures: number): Pipeline {
  return createPipeline({
    config: { MAX_CONTINUATION_FAILURES: maxFailures },
    engine: {
      ...domainEngine,
      decide: () => {
        throw new PoisonedStep('decide failed on purpose');
      },
    },
  });
}

async function startedBatch(
  p: Pipeline,
): Promise<{ batchId: string; trigger: ContinuationTrigger }> {
  const created = await createBatch(p.deps, { essays: testEssays(6) }, TEST_CALLER);
  const batchId = (created.body as { batch_id: string }).batch_id;
  const [queued] = p.queues.continuation.splice(0);
  if (!queued) throw new Error('no trigger queued');
  return { batchId, trigger: queued.body };
}

describe('runGuardedContinuation', () => {
  it('throws and counts each failure below the limit, then ends the batch FAILED internal_error with one event', async () => {
    // Prepare
    const p = poisonedPipeline(3);
    const { batchId, trigger } = await startedBatch(p);

    // Act: the same trigger redelivered, as SQS and the sweeper would, five times
    const outcomes: unknown[] = [];
    for (let delivery = 0; delivery < 5; delivery++) {
      outcomes.push(
        await runGuardedContinuation(p.deps, trigger).catch((error: Error) => error.name),
      );
    }

    // Assess
    expect(outcomes).toEqual([
      'PoisonedStep',
      'PoisonedStep',
      'failed_internal_error',
      'final',
      'final',
    ]);
    expect(metaOf(p, batchId)).toMatchObject({
      status: 'FAILED',
      failure_reason: 'internal_error',
      continuation_failures: 3,
      event_published: true,
    });
    expect(p.events).toEqual([
      expect.objectContaining({
        batch_id: batchId,
        status: 'FAILED',
        failure_reason: 'internal_error',
      }),
    ]);
    expect(p.telemetry.lines('continuation_failed')).toHaveLength(3);
    expect(p.telemetry.lines('continuation_failed')[0]).toMatchObject({
      batch_id: batchId,
      error: 'PoisonedStep',
    });
    expect(p.telemetry.lines('batch_failed')).toHaveLength(1);
    expect(p.telemetry.metricTotal('ContinuationFailures')).toBe(3);
    const report = p.table.get(`BATCH#${batchId}`, 'META#REPORT');
    expect(report?.processing_metadata).toEqual({
      failure_reason: 'internal_error',
      continuation_failures: 3,
      last_error: 'PoisonedStep',
    });
  });

  it('refreshes the TTL of META with each counted failure', async () => {
    // Prepare
    const p = poisonedPipeline(5);
    const { batchId, trigger } = await startedBatch(p);
    const before = Number(metaOf(p, batchId).expires_at);

    // Act
    p.advance(3 * 86_400_000);
    await expect(runGuardedContinuation(p.deps, trigger)).rejects.toThrow(PoisonedStep);

    // Assess
    expect(Number(metaOf(p, batchId).expires_at)).toBe(before + 3 * 86_400);
  });

  it('leaves a batch that stopped RUNNING during the failed step to SQS, uncounted', async () => {
    // Prepare: the step fails after a cancel landed
    let cancel = () => undefined as unknown;
    const p = createPipeline({
      config: { MAX_CONTINUATION_FAILURES: 1 },
      engine: {
        ...domainEngine,
        decide: () => {
          cancel();
          throw new PoisonedStep('decide failed on purpose');
        },
      },
    });
    const { batchId, trigger } = await startedBatch(p);
    cancel = () => Object.assign(p.table.get(`BATCH#${batchId}`, 'META')!, { status: 'CANCELLED' });

    // Act
    const outcome = runGuardedContinuation(p.deps, trigger);

    // Assess
    await expect(outcome).rejects.toThrow(PoisonedStep);
    expect(metaOf(p, batchId)).toMatchObject({ status: 'CANCELLED' });
    expect(metaOf(p, batchId).continuation_failures).toBeUndefined();
    expect(p.events).toHaveLength(0);
  });

  it('throws the original error when the failure cannot be counted (the table is down)', async () => {
    // Prepare
    const p = poisonedPipeline(1);
    const { batchId, trigger } = await startedBatch(p);
    p.table.failNext('Update', Object.assign(new Error('no route'), { name: 'NetworkingError' }));

    // Act
    const outcome = runGuardedContinuation(p.deps, trigger);

    // Assess
    await expect(outcome).rejects.toThrow(PoisonedStep);
    expect(metaOf(p, batchId).status).toBe('RUNNING');
    expect(p.telemetry.lines('continuation_failure_not_counted')).toHaveLength(1);
  });

  it.each([
    ['stale', 'rejects'],
    ['not_found', 'unknown_batch'],
    ['already_final', 'failed_internal_error'],
  ] as const)('when the finalization answers %s the step ends %s', async (answer, expected) => {
    // Prepare: the batch moves between the count and the finalization (the store answers so)
    const p = poisonedPipeline(1);
    const { batchId, trigger } = await startedBatch(p);
    const final = { ...metaOf(p, batchId), status: 'FAILED', event_published: true };
    const deps = {
      ...p.deps,
      store: {
        ...p.store,
        finalizeBatch: async () =>
          (answer === 'not_found'
            ? { outcome: answer }
            : { outcome: answer, batch: final }) as never,
      },
    };

    // Act
    const outcome = runGuardedContinuation(deps, trigger);

    // Assess
    if (expected === 'rejects') await expect(outcome).rejects.toThrow(PoisonedStep);
    else await expect(outcome).resolves.toBe(expected);
    expect(p.telemetry.lines('batch_failed')).toHaveLength(0);
    expect(p.events).toHaveLength(0);
  });

  it('counts a thrown non-Error value like an error', async () => {
    // Prepare
    const p = createPipeline({
      config: { MAX_CONTINUATION_FAILURES: 1 },
      engine: {
        ...domainEngine,
        decide: () => {
          throw 'a string';
        },
      },
    });
    const { batchId, trigger } = await startedBatch(p);

    // Act
    const outcome = await runGuardedContinuation(p.deps, trigger);

    // Assess
    expect(outcome).toBe('failed_internal_error');
    expect(metaOf(p, batchId)).toMatchObject({
      status: 'FAILED',
      failure_reason: 'internal_error',
    });
    expect(p.telemetry.lines('continuation_failed')[0]).toMatchObject({
      error_message: 'a string',
    });
  });
});
