/** At-least-once delivery: duplicated callbacks count once; lost callbacks are timed out. */

import { describe, expect, it } from 'vitest';
import type { CreateBatchRequest } from '#cli/api.ts';
import { isTerminal } from '#domain/types.ts';
import { runBatch } from '#test/helpers/batch-runner.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { integrationTarget } from '#test/helpers/integration-target.ts';

/** Short enough that the sweeper (run every few seconds by the local cloud in tests) fails drops fast. */
const TEST_DEADLINE_SECONDS = 3;

function coverageOnly(duplicates: number): CreateBatchRequest {
  return {
    essays: makeEssays(6, { seed: 66 }),
    judge: {
      provider: 'mock',
      profile: 'default',
      latency_ms: 10,
      seed: 66,
      duplicate_callbacks: duplicates,
    },
    // Full coverage and nothing else, so the expected counters do not depend on pairing choices.
    config: { RESAMPLING_ENABLED: false, SCORE_STABILITY_THRESHOLD: 0 },
  };
}

// Each test runs batches of its own and mostly waits for them: they run at once.
describe.concurrent('callback delivery', () => {
  it('every callback delivered twice gives the same counters and outcome as once', async () => {
    // Prepare
    const { api } = await integrationTarget();

    // Act
    const [once, twice] = await Promise.all([
      runBatch(api, coverageOnly(0)),
      runBatch(api, coverageOnly(1)),
    ]);

    // Assess
    const counters = (s: typeof once.final) => ({
      status: s.status,
      failure_reason: s.failure_reason ?? null,
      submitted: s.submitted_comparisons,
      completed: s.completed_comparisons,
      failed: s.failed_comparisons,
      pending: s.pending_callbacks,
    });
    expect(counters(twice.final)).toEqual(counters(once.final));
    expect(once.final.submitted_comparisons).toBe(15);
    expect(twice.final.completed_comparisons).toBe(15);
    const results = await api.getResults(twice.batchId);
    const judged = results.essays.reduce((sum, r) => sum + r.comparisons, 0);
    expect(judged).toBe(2 * twice.final.completed_comparisons);
  });

  it('with 25 % of callbacks dropped the sweeper times them out and the batch ends', async () => {
    // Prepare
    const { api } = await integrationTarget();

    // Act
    const run = await runBatch(
      api,
      {
        essays: makeEssays(12, { seed: 1010 }),
        budget: 66,
        judge: {
          provider: 'mock',
          profile: 'default',
          latency_ms: 10,
          seed: 1010,
          drop_rate: 0.25,
        },
        config: { COMPARISON_DEADLINE_SECONDS: TEST_DEADLINE_SECONDS },
      },
      { timeoutMs: 240_000 },
    );

    // Assess: 66 comparisons at a 25 % drop rate lose at least one with probability 1 − 0.75^66
    // ≈ 1 − 6·10⁻⁹ (at 10 %, one run in a thousand lost none and failed).
    expect(isTerminal(run.final.status)).toBe(true);
    expect(run.final.failed_comparisons).toBeGreaterThan(0);
    expect(run.final.completed_comparisons + run.final.failed_comparisons).toBe(
      run.final.submitted_comparisons,
    );
  });
});
