/** Judges that fail: a batch is never a success on half-failed data, and all-failed ends FAILED. */

import { describe, expect, it } from 'vitest';
import { isSuccess } from '#domain/types.ts';
import { runBatch } from '#test/helpers/batch-runner.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { integrationTarget } from '#test/helpers/integration-target.ts';

const BUDGET = 40;

// Each test runs a batch of its own and mostly waits for its waves: they run at once.
describe.concurrent('failing judges', () => {
  it.each([
    ['flaky_half', { profile: 'flaky_half' }],
    ['a 60 % failure rate', { profile: 'default', failure_rate: 0.6 }],
  ])('%s never ends in a success status', async (_name, judge) => {
    // Prepare
    const { api } = await integrationTarget();
    const essays = makeEssays(6, { seed: 61 });

    // Act
    const run = await runBatch(api, {
      essays,
      budget: BUDGET,
      judge: { provider: 'mock', latency_ms: 10, seed: 61, ...judge },
    });

    // Assess
    const { final } = run;
    expect(isSuccess(final.status)).toBe(false);
    expect(final.status).toBe('FAILED');
    expect(final.failure_reason).toEqual(expect.any(String));
    expect(final.failed_comparisons).toBeGreaterThan(0);
    for (const snapshot of run.snapshots) {
      expect(isSuccess(snapshot.status)).toBe(false);
    }
  });

  it('always_fail ends FAILED with no_successful_comparisons', async () => {
    // Prepare
    const { api } = await integrationTarget();
    const essays = makeEssays(4, { seed: 4 });

    // Act
    const run = await runBatch(api, {
      essays,
      budget: 20,
      judge: { provider: 'mock', profile: 'always_fail', latency_ms: 10, seed: 4 },
    });

    // Assess
    expect(run.final.status).toBe('FAILED');
    expect(run.final.failure_reason).toBe('no_successful_comparisons');
    expect(run.final.completed_comparisons).toBe(0);
    expect(run.final.failed_comparisons).toBe(run.final.submitted_comparisons);
    expect(run.final.submitted_comparisons).toBeGreaterThan(0);
  });
});
