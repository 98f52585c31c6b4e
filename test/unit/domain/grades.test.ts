import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AnchorObservation,
  fitGradeBoundaries,
  GradeModelError,
  gradeProbabilities,
  mostLikelyGrade,
  normalQuantile,
} from '#domain/grades.ts';
import { normal, seededRandom } from '#domain/random.ts';
import { normalCdf } from '#domain/special-functions.ts';

/** Anchors whose true scores are N(0, 2²), graded by the true boundaries, observed with an SE. */
function simulatedAnchors(
  count: number,
  boundaries: readonly number[],
  se: number,
  seed: number,
): AnchorObservation[] {
  const rng = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const truth = 2 * normal(rng);
    return {
      score: truth + se * normal(rng),
      se,
      grade: boundaries.filter((c) => c < truth).length,
    };
  });
}

describe('fitGradeBoundaries', () => {
  it('recovers the boundaries from many precise anchors', () => {
    // Prepare: four grades split at −1.5, 0 and 1.2; 400 anchors with SE 0.1.
    const truth = [-1.5, 0, 1.2];
    const anchors = simulatedAnchors(400, truth, 0.1, 3);
    // Act
    const model = fitGradeBoundaries(anchors, { grades: 4, spread: 2 });
    // Assess
    expect(model.converged).toBe(true);
    model.boundaries.forEach((b, k) => {
      expect(Math.abs(b.estimate - (truth[k] as number))).toBeLessThan(0.15);
      expect(b.se).toBeGreaterThan(0);
      expect(b.se).toBeLessThan(0.15);
    });
    expect(model.anchorsPerGrade.reduce((s, c) => s + c, 0)).toBe(400);
  });

  it('handles two anchors per grade: ordered, finite boundaries with honest SEs', () => {
    // Prepare: six grades, two anchors each, SE 0.5.
    const anchors: AnchorObservation[] = [];
    for (let g = 0; g < 6; g++) {
      anchors.push({ score: -2.5 + g, se: 0.5, grade: g }, { score: -2.2 + g, se: 0.5, grade: g });
    }
    // Act
    const model = fitGradeBoundaries(anchors, { grades: 6, spread: 2 });
    // Assess: boundaries fall between neighbouring grades' anchors.
    expect(model.boundaries).toHaveLength(5);
    model.boundaries.forEach((b, k) => {
      expect(Number.isFinite(b.estimate)).toBe(true);
      expect(b.estimate).toBeGreaterThan(-2.5 + k);
      expect(b.estimate).toBeLessThan(-2.2 + k + 1);
      expect(b.se).toBeGreaterThan(0.05);
      if (k > 0) expect(b.estimate).toBeGreaterThan(model.boundaries[k - 1]?.estimate as number);
    });
  });

  it('places boundaries of grades without anchors by the width prior', () => {
    // Prepare: five grades, anchors only in grades 1 and 3.
    const anchors: AnchorObservation[] = [
      { score: -1, se: 0.3, grade: 1 },
      { score: -0.8, se: 0.3, grade: 1 },
      { score: 1, se: 0.3, grade: 3 },
      { score: 1.1, se: 0.3, grade: 3 },
    ];
    // Act
    const model = fitGradeBoundaries(anchors, { grades: 5, spread: 2 });
    // Assess
    const estimates = model.boundaries.map((b) => b.estimate);
    for (let k = 1; k < estimates.length; k++) {
      expect(estimates[k]).toBeGreaterThan(estimates[k - 1] as number);
    }
    expect(estimates[0]).toBeLessThan(-1);
    expect(estimates[3]).toBeGreaterThan(1.1);
    expect(model.anchorsPerGrade).toEqual([0, 2, 0, 2, 0]);
  });

  it.each([
    [[{ score: 0, se: 0.1, grade: 4 }], 'outside 0..3'],
    [[{ score: 0, se: 0.1, grade: 1.5 }], 'outside 0..3'],
    [
      [
        { score: 0, se: 0.1, grade: 2 },
        { score: 1, se: 0.1, grade: 2 },
      ],
      'at least two distinct grades',
    ],
    [[], 'at least two distinct grades'],
  ])('refuses bad anchors %#', (anchors, message) => {
    expect(() => fitGradeBoundaries(anchors, { grades: 4, spread: 1 })).toThrow(GradeModelError);
    expect(() => fitGradeBoundaries(anchors, { grades: 4, spread: 1 })).toThrow(message);
  });
});

describe('gradeProbabilities', () => {
  const model = fitGradeBoundaries(simulatedAnchors(300, [-1, 1], 0.2, 5), {
    grades: 3,
    spread: 2,
  });

  it('sums to 1, never negative, whatever the score and SE', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -20, max: 20, noNaN: true }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        (score, se) => {
          const p = gradeProbabilities(score, se, model);
          expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
          for (const v of p) expect(v).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });

  it('is near certain far from the boundaries and split at a boundary', () => {
    // Act
    const high = gradeProbabilities(8, 0.1, model);
    const low = gradeProbabilities(-8, 0.1, model);
    const boundary = model.boundaries[1]?.estimate as number;
    const atBoundary = gradeProbabilities(boundary, 0.3, model);
    // Assess
    expect(high[2]).toBeGreaterThan(0.999);
    expect(low[0]).toBeGreaterThan(0.999);
    expect(atBoundary[1]).toBeCloseTo(0.5, 6);
    expect(mostLikelyGrade(high)).toBe(2);
  });

  it('spreads probability as the SE grows', () => {
    // Act
    const sharp = gradeProbabilities(0, 0.1, model);
    const vague = gradeProbabilities(0, 3, model);
    // Assess
    expect(sharp[1]).toBeGreaterThan(vague[1] as number);
    expect(vague[0]).toBeGreaterThan(0.2);
  });
});

describe('normal helpers', () => {
  it('normalQuantile inverts normalCdf', () => {
    for (const p of [1e-6, 0.01, 0.1, 0.5, 0.77, 0.99, 1 - 1e-6]) {
      expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 7);
    }
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });
});
