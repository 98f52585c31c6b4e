import { describe, expect, it } from 'vitest';
import { decisionsCsv, generateDecisions } from '#bench/support/decision-files.ts';
import {
  conventionalFit,
  pearson,
  spearmanBrown,
  splitHalfReliability,
} from '#domain/reliability.ts';
import { readDecisions } from '#shared/scoring/decisions.ts';
import { btDataFromPairs } from '#test/helpers/reference-bt.ts';

describe('splitHalfReliability with groups (judge split)', () => {
  it('with two judges, correlates the two judges’ fits over the items both compared', () => {
    // Prepare: judge 0 compares items 0..3, judge 1 compares items 1..4 (items 1..3 in both).
    const pairs: [number, number][] = [
      [0, 1],
      [1, 2],
      [2, 3],
      [0, 2],
      [3, 1],
      [0, 3],
      [1, 2],
      [2, 4],
      [3, 4],
      [1, 3],
      [4, 2],
      [1, 4],
    ];
    const data = btDataFromPairs(5, pairs);
    const groups = Int32Array.from(pairs.map((_, k) => (k < 6 ? 0 : 1)));
    const first = conventionalFit(btDataFromPairs(5, pairs.slice(0, 6)));
    const second = conventionalFit(btDataFromPairs(5, pairs.slice(6)));
    const shared = [1, 2, 3];
    const expected = pearson(
      shared.map((i) => first.scores[i] as number),
      shared.map((i) => second.scores[i] as number),
    );

    // Act
    const result = splitHalfReliability(data, { seed: 3, splits: 7, groups });

    // Assess: every split is the same partition, so the median is that one correlation.
    expect(result.splits).toBe(7);
    expect(result.median).toBeCloseTo(expected, 12);
    expect(result.spearmanBrown).toBeCloseTo(spearmanBrown(expected), 12);
  });

  it('is deterministic for a seed and agrees with the decision split on same-shape data', () => {
    // Prepare: 40 items, 1,600 decisions, 12 judges each seeing random pairs.
    const { rows } = generateDecisions({ items: 40, decisions: 1600, judges: 12, seed: 21 });
    const decisions = readDecisions(decisionsCsv(rows));
    const data = { n: decisions.itemIds.length, ...decisions };
    const groups = decisions.judges ?? new Int32Array();

    // Act
    const a = splitHalfReliability(data, { seed: 5, splits: 21, groups });
    const b = splitHalfReliability(data, { seed: 5, splits: 21, groups });
    const byDecision = splitHalfReliability(data, { seed: 5, splits: 21 });

    // Assess
    expect(a).toEqual(b);
    expect(a.median).toBeGreaterThan(0.8);
    expect(Math.abs(a.median - byDecision.median)).toBeLessThan(0.05);
  });

  it('makes no split with fewer than two judges, and refuses a groups array of the wrong length', () => {
    // Prepare
    const data = btDataFromPairs(3, [
      [0, 1],
      [1, 2],
      [2, 0],
    ]);

    // Act / Assess
    expect(splitHalfReliability(data, { seed: 1, groups: Int32Array.from([0, 0, 0]) })).toEqual({
      median: 0,
      spearmanBrown: 0,
      splits: 0,
    });
    expect(() => splitHalfReliability(data, { seed: 1, groups: Int32Array.from([0, 1]) })).toThrow(
      /groups has 2 entries for 3 comparisons/,
    );
  });
});
