/**
 * The chaos soak at CI size: a few batches at once on a local cloud of their own with every fault
 * on (rates above the benchmark's, so each kind is injected even in a short run) and one SIGKILL of
 * the function host while they run. Every batch must end terminal with counters equal to its comparison items,
 * no count twice, exactly one outcome event each, and every fault kind must have been injected.
 * BENCHMARKS.md ("Chaos soak") has the full-size figures.
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from '#bench/support/soak.ts';

describe('chaos soak', () => {
  it('finishes every batch exactly under crashes, throttles, conflicts, duplicates, drops and a host kill', async () => {
    // Prepare
    const options = {
      batches: 3,
      essays: 8,
      perEssay: 4,
      chaos: 'crash=0.1,throttle=0.05,conflict=0.05,duplicate=0.3,drop=0.1',
      seed: 12,
      killHostEverySeconds: 20,
      maxHostKills: 1,
      // The kill lands mid-run, not after 20 s: a run without a dropped callback (0.9^48 ≈ 0.6 %)
      // may now end its batches sooner than that.
      firstKillMidRun: true,
      deadlineSeconds: 30,
      scheduleIntervalSeconds: 2,
      timeoutSeconds: 150,
    };

    // Act
    const report = await runSoak(options);

    // Assess
    expect(report.details.problems).toEqual([]);
    expect(report).toMatchObject({
      batches: 3,
      terminal: 3,
      stuck: 0,
      counter_mismatches: 0,
      duplicate_counts: 0,
      events_per_batch_min: 1,
      events_per_batch_max: 1,
    });
    expect(report.succeeded + report.failed + report.cancelled).toBe(3);
    for (const [fault, count] of Object.entries(report.faults_injected)) {
      expect(count, `${fault} injected`).toBeGreaterThan(0);
    }
    expect(report.faults_injected.host_kills).toBe(1);
    // No double spend: one provider call per comparison, plus at most one re-run for each message
    // a crash or the host kill cut off and each callback dropped (a copy that meets a live lease
    // calls nothing; it comes back when the lease ends)
    const { details } = report;
    expect(report.provider_calls_per_comparison_bound).toBe(
      Number(
        (
          1 +
          (details.judge_crash_records + details.inflight_released + report.faults_injected.drop) /
            details.comparisons
        ).toFixed(4),
      ),
    );
    expect(report.provider_calls_per_comparison).toBeLessThanOrEqual(
      report.provider_calls_per_comparison_bound,
    );
    expect(report.provider_calls_within_bound).toBe(true);
    // The provider was asked: only a comparison whose holder was cut off before its call, or one
    // the sweeper timed out before the judge got to it, went without one.
    expect(details.provider_calls).toBeGreaterThanOrEqual(
      details.comparisons -
        details.judge_crash_records -
        details.inflight_released -
        details.timed_out,
    );
  }, 240_000);
});
