import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { averageRanks, kendallTauB, spearman } from '#cli/agreement.ts';

describe('averageRanks', () => {
  it('gives tied values their average rank', () => {
    // Prepare
    const values = [10, 20, 20, 5];

    // Act
    const ranks = averageRanks(values);

    // Assess
    expect(ranks).toEqual([2, 3.5, 3.5, 1]);
  });
});

describe('spearman', () => {
  it('is 1 for the same order, -1 for the reverse order', () => {
    // Prepare
    const scores = [0.1, 0.5, 2, 3.3];

    // Act
    const same = spearman(scores, [1, 2, 3, 4]);
    const reversed = spearman(scores, [4, 3, 2, 1]);

    // Assess
    expect(same).toBeCloseTo(1, 12);
    expect(reversed).toBeCloseTo(-1, 12);
  });

  it('matches the textbook value with one swapped pair (1 - 6*2/(5*24) = 0.9)', () => {
    // Prepare
    const x = [1, 2, 3, 4, 5];
    const y = [1, 3, 2, 4, 5];

    // Act
    const rho = spearman(x, y);

    // Assess
    expect(rho).toBeCloseTo(0.9, 12);
  });

  it('is NaN when one side is constant and rejects unpaired input', () => {
    // Prepare
    const constant = [1, 1, 1];

    // Act
    const rho = spearman(constant, [1, 2, 3]);

    // Assess
    expect(rho).toBeNaN();
    expect(() => spearman([1, 2], [1])).toThrow(RangeError);
    expect(() => spearman([1], [1])).toThrow(RangeError);
  });

  it('lies in [-1, 1], is symmetric and ignores monotone transforms', () => {
    // Prepare
    const pairs = fc
      .array(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 })), {
        minLength: 3,
        maxLength: 30,
      })
      .filter((p) => new Set(p.map(([x]) => x)).size > 1 && new Set(p.map(([, y]) => y)).size > 1);

    // Act / Assess
    fc.assert(
      fc.property(pairs, (p) => {
        const x = p.map(([a]) => a);
        const y = p.map(([, b]) => b);
        const rho = spearman(x, y);
        expect(rho).toBeGreaterThanOrEqual(-1 - 1e-12);
        expect(rho).toBeLessThanOrEqual(1 + 1e-12);
        expect(spearman(y, x)).toBeCloseTo(rho, 10);
        expect(
          spearman(
            x.map((v) => Math.exp(v / 10)),
            y,
          ),
        ).toBeCloseTo(rho, 10);
      }),
    );
  });
});

describe('kendallTauB', () => {
  it('counts one discordant pair of ten as tau = 0.8', () => {
    // Prepare
    const x = [1, 2, 3, 4, 5];
    const y = [1, 3, 2, 4, 5];

    // Act
    const tau = kendallTauB(x, y);

    // Assess
    expect(tau).toBeCloseTo(0.8, 12);
  });

  it('corrects for ties (tau-b)', () => {
    // Prepare: pairs (1,1) (2,2) (2,3) (3,3): C=4, D=0, ties only in x: 1, only in y: 1
    const x = [1, 2, 2, 3];
    const y = [1, 2, 3, 3];

    // Act
    const tau = kendallTauB(x, y);

    // Assess
    expect(tau).toBeCloseTo(4 / Math.sqrt(5 * 5), 12);
  });

  it('is -1 for the reverse order', () => {
    // Prepare
    const x = [3, 2, 1, 0];

    // Act
    const tau = kendallTauB(x, [0, 1, 2, 3]);

    // Assess
    expect(tau).toBeCloseTo(-1, 12);
  });
});
