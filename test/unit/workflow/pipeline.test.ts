/**
 * Whole batches through every workflow step (API → continuation → judge → callback → sweeper) on
 * the real store, engine and messaging adapter: the story's reference scenarios, a faulty mock
 * (duplicated, dropped and failed callbacks), and the DynamoDB/SQS requests one callback and one
 * wave of k comparisons cost (docs/data-model.md, "Measured request counts").
 */
import { describe, expect, it } from 'vitest';
import { itemSize, readUnits, writeUnits } from '#bench/support/ddb-cost.ts';
import type { ResultRow } from '#messages/state.ts';
import { createBatch, getBatch, getResults } from '#shared/workflow/api.ts';
import { processCallback } from '#shared/workflow/callback.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import { processComparisonRequest } from '#shared/workflow/judge.ts';
import { runSweep } from '#shared/workflow/sweeper.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import {
  createPipeline,
  deliverOne,
  drain,
  metaOf,
  ONE_MATCHING_PER_WAVE,
  type Pipeline,
  type Processors,
  testEssays,
} from '#test/helpers/pipeline.ts';

function processors(p: Pipeline): Processors {
  return {
    continuation: (t) => runContinuation(p.deps, t),
    judge: (request, receiveCount) => processComparisonRequest(p.deps, request, receiveCount),
    callback: (callback) => processCallback(p.deps, callback),
  };
}

/** Drains the queues; when they are idle and the batch still runs, lets the sweeper act. */
async function runBatch(p: Pipeline, batchId: string, maxSweeps = 50): Promise<void> {
  for (let sweep = 0; sweep <= maxSweeps; sweep++) {
    await drain(p, processors(p));
    if (metaOf(p, batchId).status !== 'RUNNING') return;
    p.advance(p.deps.config.COMPARISON_DEADLINE_SECONDS * 1000 + 60_000);
    await runSweep(p.deps);
  }
  throw new Error(`batch ${batchId} still running after ${maxSweeps} sweeps`);
}

async function create(p: Pipeline, body: Record<string, unknown>): Promise<string> {
  const created = await createBatch(p.deps, body, TEST_CALLER);
  return (created.body as { batch_id: string }).batch_id;
}

function decisionPath(p: Pipeline): string[] {
  const path: string[] = [];
  for (const line of p.telemetry.lines('continuation_decision')) {
    const decision = String(line.decision);
    if (path.at(-1) !== decision) path.push(decision);
  }
  return path;
}

describe('whole batches through the workflow', () => {
  it('story scenario, resampling off: 5 essays, exactly 10 comparisons, denominator 10, success', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await create(p, {
      essays: testEssays(5),
      judge: { provider: 'mock', profile: 'eng5_lower5_gpt51_low', seed: 1 },
      config: { RESAMPLING_ENABLED: false },
    });

    // Act
    await runBatch(p, batchId);

    // Assess
    const meta = metaOf(p, batchId);
    expect(meta).toMatchObject({
      submitted_comparisons: 10,
      completed_comparisons: 10,
      failed_comparisons: 0,
      total_comparisons: 10,
      resampling_pass_count: 0,
      event_published: true,
    });
    expect(String(meta.status)).toMatch(/^COMPLETE_/);
    expect(p.events).toEqual([
      expect.objectContaining({ batch_id: batchId, completion_denominator: 10 }),
    ]);
  });

  it('story scenario, small net: 10 coverage + 3 resampling waves = 40, path REQUEST_MORE → RESAMPLE → FINALIZE', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await create(p, {
      essays: testEssays(5),
      judge: { provider: 'mock', profile: 'eng5_lower5_gpt51_low', seed: 1 },
      config: {
        MIN_RESAMPLING_NET_SIZE: 5,
        MAX_RESAMPLING_PASSES_FOR_SMALL_NET: 3,
        SCORE_STABILITY_THRESHOLD: 0,
      },
    });

    // Act
    await runBatch(p, batchId);

    // Assess
    const meta = metaOf(p, batchId);
    expect(meta).toMatchObject({ submitted_comparisons: 40, resampling_pass_count: 3 });
    expect(String(meta.status)).toMatch(/^COMPLETE_/);
    expect(decisionPath(p)).toEqual(['REQUEST_MORE_COMPARISONS', 'RESAMPLE', 'FINALIZE_SCORING']);
    expect(p.events).toEqual([expect.objectContaining({ completion_denominator: 40 })]);
    for (const line of p.telemetry.lines('gate_evaluation')) {
      expect(line.completion_denominator).toBe(40);
    }
  });

  it('counts every comparison once under duplicated, dropped and failed callbacks', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await create(p, {
      essays: testEssays(8),
      budget: 40,
      judge: {
        provider: 'mock',
        profile: 'default',
        duplicate_callbacks: 1,
        drop_rate: 0.2,
        failure_rate: 0.1,
        seed: 7,
      },
    });

    // Act
    await runBatch(p, batchId);

    // Assess
    const meta = metaOf(p, batchId);
    const comparisons = [...p.table.items.values()].filter(
      (item) =>
        item.pk === `BATCH#${batchId}` &&
        String(item.sk).startsWith('CMP#') &&
        Number(item.iteration) <= Number(meta.current_iteration),
    );
    expect(comparisons.every((c) => c.status !== 'PENDING')).toBe(true);
    expect(meta.submitted_comparisons).toBe(comparisons.length);
    expect(meta.completed_comparisons).toBe(
      comparisons.filter((c) => c.status === 'COMPLETED').length,
    );
    expect(meta.failed_comparisons).toBe(comparisons.filter((c) => c.status === 'FAILED').length);
    expect(Number(meta.submitted_comparisons)).toBeLessThanOrEqual(40);
    expect(p.telemetry.metricTotal('DuplicateCallbacks')).toBeGreaterThan(0);
    expect(p.telemetry.metricTotal('ComparisonsTimedOut')).toBeGreaterThan(0);
    expect(p.events.filter((e) => e.batch_id === batchId)).toHaveLength(1);
    expect(p.deadLetters).toHaveLength(0);
    // Every gate evaluation of the run logged all four counters and the denominator, consistently.
    const gates = p.telemetry.lines('gate_evaluation');
    expect(gates.length).toBeGreaterThan(10);
    for (const gate of gates) {
      expect(gate).toEqual(
        expect.objectContaining({
          batch_id: batchId,
          submitted_comparisons: expect.any(Number),
          completed_comparisons: expect.any(Number),
          failed_comparisons: expect.any(Number),
          pending_callbacks: expect.any(Number),
          completion_denominator: 28,
          decision: expect.any(String),
        }),
      );
      expect(gate.pending_callbacks).toBe(
        Number(gate.submitted_comparisons) -
          Number(gate.completed_comparisons) -
          Number(gate.failed_comparisons),
      );
    }
  });
});

describe('grades from anchor essays', () => {
  it('projects grades end to end: the scale in the state, grades and probabilities per essay, boundaries in the metadata', async () => {
    // Prepare: 12 essays of falling quality; two anchors each of A (best), B and C.
    const scale = ['C', 'B', 'A'];
    const anchors: Record<number, string> = { 0: 'A', 1: 'A', 5: 'B', 6: 'B', 10: 'C', 11: 'C' };
    const essays = testEssays(12).map((essay, index) =>
      anchors[index] === undefined ? essay : { ...essay, anchor_grade: anchors[index] },
    );
    const p = createPipeline();
    const created = await createBatch(
      p.deps,
      {
        essays,
        grade_scale: scale,
        budget: 90,
        judge: { provider: 'mock', profile: 'default', seed: 3 },
      },
      TEST_CALLER,
    );
    const batchId = (created.body as { batch_id: string }).batch_id;

    // Act
    await runBatch(p, batchId);
    const results = await getResults(p.deps, batchId, TEST_CALLER);
    const state = await getBatch(p.deps, batchId, TEST_CALLER);

    // Assess: the state echoes the scale, the metadata has two boundaries between the grades.
    const meta = state.body as {
      processing_metadata: Record<string, unknown>;
      grade_scale: unknown;
    };
    expect(meta.grade_scale).toEqual(scale);
    expect(meta.processing_metadata.grades).toMatchObject({
      scale,
      anchors_per_grade: [2, 2, 2],
      boundaries: [
        { lower: 'C', upper: 'B', score: expect.any(Number), se: expect.any(Number) },
        { lower: 'B', upper: 'A', score: expect.any(Number), se: expect.any(Number) },
      ],
    });
    // Every row has a grade on the scale and probabilities summing to 1; anchors keep their grade.
    const rows = (results.body as { essays: ResultRow[] }).essays;
    expect(rows).toHaveLength(12);
    for (const row of rows) {
      expect(scale).toContain(row.grade);
      const probabilities = Object.values(row.grade_probabilities ?? {});
      expect(Object.keys(row.grade_probabilities ?? {})).toEqual(scale);
      expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    }
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(essays[0]!.id)?.anchor_grade).toBe('A');
    expect(byId.get(essays[2]!.id)?.anchor_grade).toBeUndefined();
    // The best essays project to A and the weakest to C.
    expect(byId.get(essays[0]!.id)?.grade).toBe('A');
    expect(byId.get(essays[11]!.id)?.grade).toBe('C');
  });
});

describe('measured request counts (docs/data-model.md)', () => {
  it('one callback: 1 TransactWriteItems + 1 GetItem (5 WCU + 1 RCU), plus 1 SendMessage when it drains the wave', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = await create(p, {
      essays: testEssays(4),
      config: { RESAMPLING_ENABLED: false, ...ONE_MATCHING_PER_WAVE },
    });
    await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
    const [first, second] = p.queues.comparison.splice(0);
    const cmpKey = `CMP#${first!.body.comparison_id}`;
    const comparisonBytes = itemSize(p.table.get(`BATCH#${batchId}`, cmpKey)!);
    const metaBytes = itemSize(metaOf(p, batchId));
    const answer = (comparisonId: string) =>
      processCallback(p.deps, {
        v: 1,
        batch_id: batchId,
        comparison_id: comparisonId,
        outcome: 'verdict',
        winner: 'A',
      });

    // Act
    const start = p.callLog.length;
    await answer(first!.body.comparison_id);
    const middle = p.callLog.length;
    await answer(second!.body.comparison_id);

    // Assess
    expect(p.callLog.slice(start, middle)).toEqual(['TransactWrite', 'Get']);
    expect(p.callLog.slice(middle)).toEqual(['TransactWrite', 'Get', 'SendMessage']);
    const pendingIndexDelete = 1;
    const wcu =
      writeUnits(comparisonBytes, true) + writeUnits(metaBytes, true) + pendingIndexDelete;
    expect(wcu).toBe(5);
    expect(readUnits(itemSize(metaOf(p, batchId)))).toBe(1);
  });

  it.each([2, 10, 26, 60])(
    'planning a wave of %i comparisons: 10 fixed DynamoDB requests + ceil(k/25) BatchWrites, ceil(k/10) SendMessageBatch, 2 WCU per comparison',
    async (k) => {
      // Prepare: a batch of 2k essays plans a first wave of k disjoint pairs
      const p = createPipeline();
      const batchId = await create(p, {
        essays: testEssays(2 * k),
        config: { PAIRING_STRATEGY: 'random', ...ONE_MATCHING_PER_WAVE },
      });
      // A first wave and its callbacks, so the measured run is an ordinary later wave.
      await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
      const steps = processors(p);
      while ((await deliverOne(p, 'comparison', steps.judge)) !== 'empty') {
        await deliverOne(p, 'callback', steps.callback);
      }
      const before = metaOf(p, batchId);
      const measuredFrom = p.callLog.length;
      p.queues.continuation.length = 0;

      // Act
      await runContinuation(p.deps, {
        v: 1,
        batch_id: batchId,
        iteration: Number(before.current_iteration),
        cause: 'callbacks_drained',
      });

      // Assess
      const after = metaOf(p, batchId);
      const wave = Number(after.submitted_comparisons) - Number(before.submitted_comparisons);
      expect(wave).toBeGreaterThan(0);
      const calls = p.callLog.slice(measuredFrom);
      const count = (name: string) => calls.filter((c) => c === name).length;
      // META: Get; loadSnapshot (settings cached): Query the latest wave + Query SCORES#;
      // closeWave: BatchWrite VERDICTS + Update WAVE; saveScores: Put; planWave (META given):
      // Query (leftovers) + BatchWrite… + Put WAVE + Update META; sending: Update WAVE (sent).
      expect(count('Get')).toBe(1);
      expect(count('Query')).toBe(3);
      expect(count('Put')).toBe(2);
      expect(count('Update')).toBe(3);
      expect(count('BatchWrite')).toBe(Math.ceil(wave / 25) + 1);
      expect(count('SendMessageBatch')).toBe(Math.ceil(wave / 10));
      expect(calls).toHaveLength(10 + Math.ceil(wave / 25) + Math.ceil(wave / 10));
      const item = p.table.get(
        `BATCH#${batchId}`,
        `CMP#${String(after.current_iteration).padStart(6, '0')}-000000`,
      )!;
      const pendingIndexPut = 1;
      expect(writeUnits(itemSize(item)) + pendingIndexPut).toBe(2);
    },
  );
});
