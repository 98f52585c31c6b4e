/**
 * No double spend under duplicated and stale triggers (docs/data-model.md, "Per-wave
 * ledger"): on a local cloud of its own that delivers 30 % of the messages of every queue twice,
 * and every continuation trigger twice (the sweeper re-triggers drained batches every 2 s too), each
 * comparison reaches the provider once. Batches are judged through the OpenAI-compatible adapter
 * against a local fake server, so provider calls are counted where they arrive.
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from '#bench/support/soak.ts';

describe('no double spend', () => {
  it('calls the provider once per comparison when triggers and requests are duplicated', async () => {
    // Prepare: duplicates return 2 s after their first delivery was processed, often before its
    // callback is recorded; the judge's lease holds such a copy back until the lease ends, when it
    // finds the comparison answered (docs/judges.md, "Errors, retries, timeouts")
    const options = {
      batches: 3,
      essays: 12,
      perEssay: 4,
      // Every trigger is duplicated: at 30 % a run could meet no stale trigger at all (the copy
      // of a batch's last trigger finds it final) and prove nothing about them (CI, 2026-12-03).
      chaos: 'duplicate=0.3,duplicate@continuation=1,redelivery_s=2',
      seed: 17,
      killHostEverySeconds: 0,
      maxHostKills: 0,
      deadlineSeconds: 120,
      timeoutSeconds: 240,
      scheduleIntervalSeconds: 2,
    };

    // Act
    const report = await runSoak(options);

    // Assess: duplicates and stale triggers happened, every promise held, one call per comparison
    expect(report.details.problems).toEqual([]);
    expect(report).toMatchObject({
      batches: 3,
      terminal: 3,
      succeeded: 3,
      stuck: 0,
      counter_mismatches: 0,
      duplicate_counts: 0,
      events_per_batch_min: 1,
      events_per_batch_max: 1,
    });
    expect(report.faults_injected.duplicate).toBeGreaterThan(10);
    expect(report.details.stale_triggers).toBeGreaterThan(0);
    expect(report.details.requests_resent).toBe(0);
    expect(report.details.judge_skipped + report.details.judge_copies_held_back).toBeGreaterThan(0);
    expect(report.details.comparisons).toBeGreaterThan(0);
    expect(report.details.comparisons).toBeLessThanOrEqual(3 * 24);
    expect(report.details.provider_calls).toBe(report.details.comparisons);
    expect(report.provider_calls_per_comparison).toBe(1);
  }, 360_000);
});
