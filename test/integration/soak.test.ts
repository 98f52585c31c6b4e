/**
 * The chaos soak at CI size: a few batches at once on a local cloud of their own with every fault
 * on (rates above the benchmark's, so each kind is injected even in a short run) and one SIGKILL of
 * the function host. Every batch must end terminal with counters equal to its comparison items,
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
    // Every comparison was asked of the provider (drops and crashes after the call re-run some).
    expect(report.provider_calls_per_comparison).toBeGreaterThanOrEqual(1);
  }, 240_000);
});
