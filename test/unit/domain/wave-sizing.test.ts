import { describe, expect, it } from 'vitest';
import { pairKey, planWave } from '#domain/pairing.ts';
import type { ComparisonRecord, PlannedPair } from '#domain/types.ts';
import {
  extendWave,
  maxAppearances,
  type PlanRound,
  pendingAwareSe,
  waveTarget,
} from '#domain/wave-sizing.ts';
import { makeConfig } from '#test/helpers/domain-factories.ts';

const pair = (a: number, b: number): PlannedPair => ({ a, b, kind: 'coverage' });

function sizing(overrides: Record<string, unknown>, maxPairs = 1000) {
  const config = makeConfig(overrides);
  return {
    comparisons: [],
    maxPairs,
    iteration: 1,
    minComparisons: config.WAVE_MIN_COMPARISONS,
    maxRounds: config.WAVE_MAX_APPEARANCES_PER_ESSAY,
  };
}

describe('waveTarget', () => {
  it('grows with the successes so far, up to WAVE_MIN_COMPARISONS; nothing to grow on without a success', () => {
    // Prepare
    const config = makeConfig({
      WAVE_MIN_COMPARISONS: 150,
      WAVE_GROWTH_FACTOR: 2,
      WAVE_MAX_APPEARANCES_PER_ESSAY: 5,
    });
    // Act + Assess
    expect(waveTarget(config, 0)).toEqual({ minComparisons: 0, maxRounds: 5 });
    expect(waveTarget(config, 30)).toEqual({ minComparisons: 60, maxRounds: 5 });
    expect(waveTarget(config, 500)).toEqual({ minComparisons: 150, maxRounds: 5 });
  });
});

describe('pendingAwareSe', () => {
  it("adds the Fisher information of an essay's comparisons in the wave to its precision", () => {
    // Prepare: essay 3 is ln 3 logits above the others, so p(0 beats 3) = 1/4
    const scores = Float64Array.from([0, 0, 0, Math.log(3), 0]);
    const se = Float64Array.from([0.5, 0.5, 0.5, 0.5, 0.5]);
    const wave = [pair(0, 1), pair(0, 2), pair(0, 3)];
    const seOf = (precision: number) => 1 / Math.sqrt(precision);
    // Act
    const shrunk = pendingAwareSe(scores, se, wave, 1) as Float64Array;
    const doubled = pendingAwareSe(scores, se, wave, 2) as Float64Array;
    // Assess: precision 4 plus p(1 − p) per comparison (1/4 at even odds, 3/16 against essay 3)
    expect(shrunk[0]).toBeCloseTo(seOf(4 + 1 / 4 + 1 / 4 + 3 / 16), 12);
    expect(shrunk[1]).toBeCloseTo(seOf(4 + 1 / 4), 12);
    expect(shrunk[3]).toBeCloseTo(seOf(4 + 3 / 16), 12);
    expect(shrunk[4]).toBe(0.5);
    expect(doubled[1]).toBeCloseTo(seOf(4 + 2 / 4), 12);
  });

  it('leaves the SEs alone at weight 0, before any scores and for an empty wave', () => {
    // Prepare
    const scores = Float64Array.from([0, 1]);
    const se = Float64Array.from([0.5, 0.5]);
    // Act + Assess
    expect(pendingAwareSe(scores, se, [pair(0, 1)], 0)).toBe(se);
    expect(pendingAwareSe(null, null, [pair(0, 1)], 1)).toBeNull();
    expect(pendingAwareSe(scores, se, [], 1)).toBe(se);
  });
});

describe('extendWave', () => {
  it('plans rounds over the real planner: each a matching, no pair twice, new pairs only', () => {
    // Prepare
    const config = makeConfig({ WAVE_MIN_COMPARISONS: 1000, WAVE_MAX_APPEARANCES_PER_ESSAY: 3 });
    const history: ComparisonRecord[] = [
      { a: 0, b: 1, status: 'COMPLETED', winner: 'A', kind: 'coverage', iteration: 1 },
    ];
    const round: PlanRound = (comparisons, maxPairs) =>
      planWave({
        n: 12,
        kind: 'coverage',
        maxPairs,
        comparisons,
        scores: null,
        se: null,
        strategy: 'random',
        seed: 3,
        config,
      });
    // Act
    const wave = extendWave(round(history, 1000), round, {
      comparisons: history,
      maxPairs: 1000,
      iteration: 2,
      minComparisons: 1000,
      maxRounds: 3,
    });
    // Assess
    expect(wave.length).toBeGreaterThan(12);
    expect(maxAppearances(wave)).toBe(3);
    const keys = wave.map((p) => pairKey(p.a, p.b));
    expect(new Set(keys).size).toBe(wave.length);
    expect(keys).not.toContain(pairKey(0, 1));
  });

  it('shows each round the rounds before it as pending comparisons of the wave', () => {
    // Prepare
    const seen: ComparisonRecord[][] = [];
    const round: PlanRound = (comparisons) => {
      seen.push([...comparisons]);
      return [pair(seen.length * 2, seen.length * 2 + 1)];
    };
    // Act
    extendWave([pair(0, 1)], round, sizing({ WAVE_MIN_COMPARISONS: 3 }));
    // Assess
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual([
      { a: 0, b: 1, status: 'PENDING', kind: 'coverage', iteration: 1 },
      { a: 2, b: 3, status: 'PENDING', kind: 'coverage', iteration: 1 },
    ]);
  });

  it('stops at WAVE_MIN_COMPARISONS, at WAVE_MAX_APPEARANCES_PER_ESSAY rounds and at maxPairs', () => {
    // Prepare
    let next = 0;
    const round: PlanRound = () => {
      next += 2;
      return [pair(next, next + 1), pair(next + 100, next + 101)];
    };
    // Act
    const bySize = extendWave([pair(0, 1)], round, sizing({ WAVE_MIN_COMPARISONS: 3 }));
    const byRounds = extendWave(
      [pair(0, 1)],
      round,
      sizing({ WAVE_MIN_COMPARISONS: 100, WAVE_MAX_APPEARANCES_PER_ESSAY: 3 }),
    );
    const byBudget = extendWave([pair(0, 1)], round, sizing({ WAVE_MIN_COMPARISONS: 100 }, 4));
    // Assess
    expect(bySize).toHaveLength(3);
    expect(byRounds).toHaveLength(5);
    expect(byBudget).toHaveLength(4);
  });

  it('one round per wave under WAVE_MAX_APPEARANCES_PER_ESSAY = 1, and a first round cut to maxPairs', () => {
    // Prepare
    const round: PlanRound = () => {
      throw new Error('no second round');
    };
    // Act
    const wave = extendWave(
      [pair(0, 1), pair(2, 3), pair(4, 5)],
      round,
      sizing({ WAVE_MAX_APPEARANCES_PER_ESSAY: 1 }, 2),
    );
    // Assess
    expect(wave).toEqual([pair(0, 1), pair(2, 3)]);
  });

  it('ends the wave when a round adds no new pair, and never adds a pair twice', () => {
    // Prepare
    const calls: number[] = [];
    const round: PlanRound = () => {
      calls.push(1);
      return [pair(1, 0), pair(0, 1)];
    };
    // Act
    const wave = extendWave([pair(0, 1)], round, sizing({}));
    // Assess
    expect(wave).toEqual([pair(0, 1)]);
    expect(calls).toHaveLength(1);
  });

  it('an empty first round stays empty (nothing plannable)', () => {
    // Act + Assess
    expect(extendWave([], () => [pair(0, 1)], sizing({}))).toEqual([]);
  });
});
