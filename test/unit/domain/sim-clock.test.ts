import { describe, expect, it } from 'vitest';
import { seededRandom } from '#domain/random.ts';
import {
  nextSweep,
  parseLatency,
  sampleLatency,
  timeWave,
  type WaveComparison,
} from '#domain/sim-clock.ts';

const SWEEPER = { period: 60, phase: 0 };

function comparisons(...latencies: number[]): WaveComparison[] {
  return latencies.map((latency) => ({ latency, lost: false }));
}

describe('parseLatency', () => {
  it('reads fixed, bare and log-normal latencies', () => {
    // Act + Assess
    expect(parseLatency('fixed:2.5')).toEqual({ kind: 'fixed', seconds: 2.5 });
    expect(parseLatency('4')).toEqual({ kind: 'fixed', seconds: 4 });
    expect(parseLatency('lognormal:3:30')).toEqual({ kind: 'lognormal', median: 3, p99: 30 });
  });

  it.each(['lognormal:3', 'lognormal:0:3', 'lognormal:30:3', 'fixed:-1', 'gamma:1:2', 'x'])(
    'rejects %s',
    (spec) => {
      // Act + Assess
      expect(() => parseLatency(spec)).toThrow(RangeError);
    },
  );
});

describe('sampleLatency', () => {
  it('a log-normal has the median and 99th percentile it was given', () => {
    // Prepare
    const rng = seededRandom(5);
    const distribution = parseLatency('lognormal:3:30');
    // Act
    const draws = Array.from({ length: 40_000 }, () => sampleLatency(distribution, rng)).sort(
      (x, y) => x - y,
    );
    // Assess
    expect(draws[20_000]).toBeGreaterThan(2.85);
    expect(draws[20_000]).toBeLessThan(3.15);
    expect(draws[39_600]).toBeGreaterThan(27);
    expect(draws[39_600]).toBeLessThan(33);
  });

  it('a fixed latency is always itself', () => {
    // Act + Assess
    expect(sampleLatency({ kind: 'fixed', seconds: 1.5 }, seededRandom(1))).toBe(1.5);
  });
});

describe('nextSweep', () => {
  it('is the first sweeper run strictly after the time', () => {
    // Act + Assess
    expect(nextSweep(60, { period: 60, phase: 10 })).toBe(70);
    expect(nextSweep(70, { period: 60, phase: 10 })).toBe(130);
    expect(nextSweep(5, { period: 60, phase: 10 })).toBe(10);
  });
});

describe('timeWave', () => {
  it('unbounded: the wave lasts its slowest callback', () => {
    // Act
    const timing = timeWave({
      start: 100,
      comparisons: comparisons(1, 7, 3),
      concurrency: Number.POSITIVE_INFINITY,
      deadlineSeconds: 60,
      sweeper: SWEEPER,
    });
    // Assess
    expect([...timing.settledAt]).toEqual([101, 107, 103]);
    expect([...timing.timedOut]).toEqual([0, 0, 0]);
    expect(timing.end).toBe(107);
  });

  it('with limited concurrency a request waits for the earliest free slot', () => {
    // Act
    const timing = timeWave({
      start: 0,
      comparisons: comparisons(4, 1, 2, 2),
      concurrency: 2,
      deadlineSeconds: 60,
      sweeper: SWEEPER,
    });
    // Assess: slot A 0→4, slot B 0→1→3 (third), then the fourth starts at 3 on slot B
    expect([...timing.settledAt]).toEqual([4, 1, 3, 5]);
    expect(timing.end).toBe(5);
  });

  it('a lost callback, or one slower than the deadline, fails at the first sweep after the deadline', () => {
    // Act
    const timing = timeWave({
      start: 30,
      comparisons: [
        { latency: 2, lost: true },
        { latency: 100, lost: false },
        { latency: 5, lost: false },
      ],
      concurrency: 10,
      deadlineSeconds: 60,
      sweeper: { period: 60, phase: 15 },
    });
    // Assess: deadline 90, sweeps at 15, 75, 135
    expect([...timing.settledAt]).toEqual([135, 130, 35]);
    expect([...timing.timedOut]).toEqual([1, 0, 0]);
    expect(timing.end).toBe(135);
  });

  it('a request picked up after its deadline is answered at once with a timeout', () => {
    // Act
    const timing = timeWave({
      start: 0,
      comparisons: comparisons(50, 50),
      concurrency: 1,
      deadlineSeconds: 40,
      sweeper: { period: 60, phase: 30 },
    });
    // Assess: the first answers at 50, before the sweep at 90 saw it overdue; the second starts
    // at 50, past its deadline of 40
    expect([...timing.settledAt]).toEqual([50, 50]);
    expect([...timing.timedOut]).toEqual([0, 1]);
  });

  it('an empty wave ends where it starts', () => {
    // Act + Assess
    expect(
      timeWave({ start: 9, comparisons: [], concurrency: 5, deadlineSeconds: 60, sweeper: SWEEPER })
        .end,
    ).toBe(9);
  });
});
