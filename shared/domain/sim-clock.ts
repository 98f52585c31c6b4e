/**
 * Simulated wall time of a batch (docs/engine-rules.md, "Simulator"): how long each wave takes when
 * the judge has a latency distribution and limited concurrency, callbacks get lost, and the
 * sweeper times lost ones out after the comparison deadline. Pure and seeded.
 *
 * One wave, as the deployed engine runs it: the continuation step writes the wave at `start`, and
 * every comparison's deadline is `start + COMPARISON_DEADLINE_SECONDS`. The judge works through the
 * wave in order with `concurrency` calls in flight. A request picked up after its deadline is
 * answered at once with a `timeout` failure (the judge checks the deadline first). A lost callback
 * is never answered: the first sweeper run after its deadline fails it with `timeout`, and so it
 * does for a callback still on its way at that run (the callback arrives late and counts nothing).
 * The wave ends when its last comparison is settled; the gate then lets the next step run.
 */
import { normal, type Rng } from '#domain/random.ts';

/** Judge latency, in seconds: fixed, or log-normal given by its median and 99th percentile. */
export type LatencyDistribution =
  | { kind: 'fixed'; seconds: number }
  | { kind: 'lognormal'; median: number; p99: number };

/** z of the 99th percentile of the standard normal. */
const Z99 = 2.3263478740408408;

/**
 * `fixed:S`, `S` or `lognormal:MEDIAN:P99` (seconds). Throws a RangeError naming what is wrong.
 */
export function parseLatency(spec: string): LatencyDistribution {
  const parts = spec.split(':');
  const numbers = parts.slice(parts.length === 1 ? 0 : 1).map((p) => Number(p));
  const valid = numbers.every((x) => Number.isFinite(x) && x >= 0);
  if (parts.length === 1 || (parts[0] === 'fixed' && parts.length === 2)) {
    if (!valid) throw new RangeError(`latency "${spec}": seconds must be a number >= 0`);
    return { kind: 'fixed', seconds: numbers[0] as number };
  }
  if (parts[0] === 'lognormal' && parts.length === 3) {
    const [median, p99] = numbers as [number, number];
    if (!valid || median <= 0 || p99 < median) {
      throw new RangeError(`latency "${spec}": need 0 < median <= p99`);
    }
    return { kind: 'lognormal', median, p99 };
  }
  throw new RangeError(`latency "${spec}": expected fixed:S, S or lognormal:MEDIAN:P99`);
}

/** One draw, in seconds. A log-normal with p99 = median is the fixed median. */
export function sampleLatency(distribution: LatencyDistribution, rng: Rng): number {
  if (distribution.kind === 'fixed') return distribution.seconds;
  const sigma = Math.log(distribution.p99 / distribution.median) / Z99;
  return distribution.median * Math.exp(sigma * normal(rng));
}

/** The first sweeper run strictly after `time` (runs at `phase + k·period`). */
export function nextSweep(time: number, sweeper: { period: number; phase: number }): number {
  const k = Math.floor((time - sweeper.phase) / sweeper.period) + 1;
  return sweeper.phase + Math.max(0, k) * sweeper.period;
}

export interface WaveComparison {
  /** Seconds the judge spends on it once it is picked up. */
  latency: number;
  /** Its callback is lost (the judge worked, nothing arrives). */
  lost: boolean;
}

export interface WaveTimingInput {
  /** Time the wave is written (seconds since the batch started). */
  start: number;
  comparisons: readonly WaveComparison[];
  /** Judge calls in flight at once (Infinity: unbounded). */
  concurrency: number;
  deadlineSeconds: number;
  sweeper: { period: number; phase: number };
}

export interface WaveTiming {
  /** When each comparison was settled (callback counted, or failed by the judge or sweeper). */
  settledAt: Float64Array;
  /** 1 where the comparison ended as a `timeout` (deadline passed before a callback counted). */
  timedOut: Uint8Array;
  /** When the last comparison was settled (`start` for an empty wave). */
  end: number;
}

/** Settles one wave (see the module comment). */
export function timeWave(input: WaveTimingInput): WaveTiming {
  const { start, comparisons, deadlineSeconds, sweeper } = input;
  const count = comparisons.length;
  const settledAt = new Float64Array(count);
  const timedOut = new Uint8Array(count);
  const deadline = start + deadlineSeconds;
  const sweptAt = nextSweep(deadline, sweeper);
  const slots = Math.max(1, Math.min(count, input.concurrency));
  // Free times of the judge's slots; the earliest free slot takes the next request.
  const free = new Float64Array(slots).fill(start);
  let end = start;
  for (let i = 0; i < count; i++) {
    const { latency, lost } = comparisons[i] as WaveComparison;
    // Unbounded: every request starts at once. Bounded: the earliest free slot (a linear scan
    // over at most `concurrency` slots).
    let slot = slots === count ? i : 0;
    if (slots < count) {
      for (let s = 1; s < slots; s++) if ((free[s] as number) < (free[slot] as number)) slot = s;
    }
    const begin = free[slot] as number;
    if (begin > deadline) {
      // Picked up too late: the judge answers `timeout` without calling the provider (unless
      // the sweeper got there first).
      settledAt[i] = Math.min(begin, sweptAt);
      timedOut[i] = 1;
    } else {
      const finish = begin + latency;
      free[slot] = finish;
      if (lost || finish > sweptAt) {
        settledAt[i] = sweptAt;
        timedOut[i] = 1;
      } else {
        settledAt[i] = finish;
      }
    }
    if ((settledAt[i] as number) > end) end = settledAt[i] as number;
  }
  return { settledAt, timedOut, end };
}
