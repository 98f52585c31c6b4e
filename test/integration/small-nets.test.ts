/**
 * The story's small-net scenarios end to end: real bundled handlers behind the HTTP API, real
 * queues and table (moto_server or LocalStack), the counter invariants (docs/engine-rules.md) on every state snapshot.
 */

import { describe, expect, it } from 'vitest';
import { isSuccess } from '#domain/types.ts';
import { followBatch, runBatch } from '#test/helpers/batch-runner.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { functionLogLines, integrationTarget } from '#test/helpers/integration-target.ts';

const FAST_JUDGE_MS = 20;

function expectDiagnosticsShape(meta: Record<string, unknown> | undefined): void {
  expect(meta).toBeDefined();
  expect(meta?.bt_se_summary).toEqual({
    mean_se: expect.any(Number),
    max_se: expect.any(Number),
    mean_comparisons_per_item: expect.any(Number),
    isolated_items: expect.any(Number),
  });
  expect(meta?.bt_quality_flags).toEqual({
    bt_se_inflated: expect.any(Boolean),
    comparison_coverage_sparse: expect.any(Boolean),
    has_isolated_items: expect.any(Boolean),
  });
}

// Each test runs a batch of its own and mostly waits for its waves: they run at once.
describe.concurrent('small nets', () => {
  it('a 2-essay batch completes with consistent counters and scores', async () => {
    // Prepare
    const { api } = await integrationTarget();
    const essays = makeEssays(2, { seed: 2 });

    // Act
    const run = await runBatch(api, {
      essays,
      judge: { provider: 'mock', profile: 'default', latency_ms: FAST_JUDGE_MS, seed: 2 },
    });
    const results = await api.getResults(run.batchId);

    // Assess
    expect(isSuccess(run.final.status)).toBe(true);
    expect(run.final.completed_comparisons).toBeGreaterThan(0);
    expect(results.essays.map((r) => r.id).sort()).toEqual(['e000', 'e001']);
    for (const row of results.essays) {
      expect(Number.isFinite(row.score)).toBe(true);
      expect(row.se).toBeGreaterThan(0);
    }
    const wins = results.essays.reduce((sum, r) => sum + r.wins, 0);
    expect(wins).toBe(run.final.completed_comparisons);
  });

  it('5 essays (eng5_lower5_gpt51_low), resampling off: exactly the 10 pairs, once each', async () => {
    // Prepare
    const { api } = await integrationTarget();
    const essays = makeEssays(5, { seed: 5 });

    // Act
    const run = await runBatch(api, {
      essays,
      judge: {
        provider: 'mock',
        profile: 'eng5_lower5_gpt51_low',
        latency_ms: FAST_JUDGE_MS,
        seed: 5,
      },
      config: { RESAMPLING_ENABLED: false },
    });

    // Assess
    const { final } = run;
    expect(isSuccess(final.status)).toBe(true);
    expect(final.submitted_comparisons).toBe(10);
    expect(final.completed_comparisons).toBe(10);
    expect(final.failed_comparisons).toBe(0);
    expect(final.completion_denominator).toBe(10);
    const meta = final.processing_metadata;
    expect(meta?.max_possible_pairs).toBe(10);
    expect(meta?.successful_pairs_count).toBe(10);
    expect(meta?.unique_coverage_complete).toBe(true);
    expect(meta?.resampling_pass_count).toBe(0);
    expectDiagnosticsShape(meta);
  });

  it('5 essays, small net of 5 with 3 resampling passes and stability out of reach: 40 comparisons', async () => {
    // Prepare: a slower judge keeps the first wave in flight long enough to be seen mid-run.
    const target = await integrationTarget();
    const essays = makeEssays(5, { seed: 55 });
    const created = await target.api.createBatch({
      essays,
      judge: { provider: 'mock', profile: 'eng5_lower5_gpt51_low', latency_ms: 400, seed: 55 },
      config: {
        MIN_RESAMPLING_NET_SIZE: 5,
        MAX_RESAMPLING_PASSES_FOR_SMALL_NET: 3,
        SCORE_STABILITY_THRESHOLD: 0,
      },
    });

    // Act
    const run = await followBatch(target.api, created.batch_id, { pollMs: 25 });

    // Assess
    const { final } = run;
    expect(isSuccess(final.status)).toBe(true);
    expect(final.submitted_comparisons).toBe(40);
    expect(final.completed_comparisons).toBe(40);
    expect(final.completion_denominator).toBe(40);
    expect(final.processing_metadata?.resampling_pass_count).toBe(3);
    expect(final.processing_metadata?.unique_coverage_complete).toBe(true);
    expectDiagnosticsShape(final.processing_metadata);
    const midRun = run.snapshots.find(
      (s) => s.submitted_comparisons === 10 && !isSuccess(s.status),
    );
    expect(midRun, 'a snapshot with the coverage wave in flight').toBeDefined();
    expect(midRun?.status).toBe('RUNNING');
    if (target.kind === 'local') {
      const lines = functionLogLines(target, 'continuation', 'continuation_decision').filter(
        (line) => line.batch_id === created.batch_id && line.decision !== 'WAIT',
      );
      const decisions = lines.map((line) => String(line.decision));
      const path = decisions.filter((decision, i) => decision !== decisions[i - 1]);
      expect(path).toEqual(['REQUEST_MORE_COMPARISONS', 'RESAMPLE', 'FINALIZE_SCORING']);
      const planned = (decision: string) =>
        lines
          .filter((line) => line.decision === decision)
          .reduce((sum, line) => sum + Number(line.wave_size), 0);
      expect(planned('REQUEST_MORE_COMPARISONS')).toBe(10);
      expect(planned('RESAMPLE')).toBe(30);
    }
  });
});
