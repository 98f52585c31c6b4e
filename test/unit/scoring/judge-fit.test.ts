import { describe, expect, it } from 'vitest';
import { judgeFit } from '#domain/judge-fit.ts';

/** σ(x), written out so the expected values below are recomputed independently. */
const sigma = (x: number) => 1 / (1 + Math.exp(-x));

describe('judgeFit', () => {
  it('matches infit and outfit recomputed by hand', () => {
    // Prepare: items a, b, c with scores 1, 0, −1.
    // judge 0: a>b, b>c (both expected); judge 1: b>a, c>b, a>c (two upsets, one expected).
    const scores = [1, 0, -1];
    const winners = Int32Array.from([0, 1, 1, 2, 0]);
    const losers = Int32Array.from([1, 2, 0, 1, 2]);
    const judges = Int32Array.from([0, 0, 1, 1, 1]);
    const pExpected = sigma(1); // a>b or b>c
    const pUpset = sigma(-1); // b>a or c>b
    const pFar = sigma(2); // a>c
    const outfit1 = (2 * ((1 - pUpset) / pUpset) + (1 - pFar) / pFar) / 3;
    const infit1 =
      (2 * (1 - pUpset) ** 2 + (1 - pFar) ** 2) / (2 * pUpset * (1 - pUpset) + pFar * (1 - pFar));

    // Act
    const report = judgeFit({ scores, winners, losers, judges, judgeCount: 2 });

    // Assess
    const [j0, j1] = report.judges;
    expect(j0?.decisions).toBe(2);
    expect(j0?.outfit).toBeCloseTo((1 - pExpected) / pExpected, 12);
    expect(j0?.outfit).toBeCloseTo(Math.exp(-1), 12);
    expect(j0?.infit).toBeCloseTo((1 - pExpected) ** 2 / (pExpected * (1 - pExpected)), 12);
    expect(j1?.decisions).toBe(3);
    expect(j1?.outfit).toBeCloseTo(outfit1, 12);
    expect(j1?.infit).toBeCloseTo(infit1, 12);
    // Two judges are too few for the flag rule.
    expect(report.infitThreshold).toBeNull();
    expect(report.judges.every((j) => !j.flagged)).toBe(true);
  });

  it('flags exactly the judges whose infit exceeds mean + k·SD', () => {
    // Prepare: six judges; five make the one expected decision a>b, the sixth the upset b>a.
    const scores = [1, -1];
    const winners = Int32Array.from([0, 0, 0, 0, 0, 1]);
    const losers = Int32Array.from([1, 1, 1, 1, 1, 0]);
    const judges = Int32Array.from([0, 1, 2, 3, 4, 5]);
    const input = { scores, winners, losers, judges, judgeCount: 6 };
    const expected = Math.exp(-2); // infit of one expected decision at Δ = 2: (1−p)/p
    const upset = Math.exp(2);
    const mean = (5 * expected + upset) / 6;
    const sd = Math.sqrt((5 * (expected - mean) ** 2 + (upset - mean) ** 2) / 5);

    // Act
    const strict = judgeFit(input, { sdMultiplier: 2 });
    const lenient = judgeFit(input, { sdMultiplier: 2.1 });

    // Assess
    expect(strict.meanInfit).toBeCloseTo(mean, 12);
    expect(strict.sdInfit).toBeCloseTo(sd, 12);
    expect(strict.infitThreshold).toBeCloseTo(mean + 2 * sd, 12);
    expect(strict.judges.map((j) => j.flagged)).toEqual([false, false, false, false, false, true]);
    // One outlier among six sits at (6−1)/√6 ≈ 2.04 SD above the mean: above 2, below 2.1.
    expect(lenient.judges.some((j) => j.flagged)).toBe(false);
  });

  it('leaves judges without decisions unflagged and out of the spread', () => {
    // Prepare
    const input = {
      scores: [0.5, -0.5],
      winners: Int32Array.from([0, 1, 0]),
      losers: Int32Array.from([1, 0, 1]),
      judges: Int32Array.from([0, 1, 2]),
      judgeCount: 4,
    };

    // Act
    const report = judgeFit(input, { minJudges: 3 });

    // Assess
    expect(report.judges[3]).toEqual({
      judge: 3,
      decisions: 0,
      infit: 0,
      outfit: 0,
      flagged: false,
    });
    expect(report.meanInfit).toBeCloseTo((2 * Math.exp(-1) + Math.exp(1)) / 3, 12);
  });

  it('refuses mismatched lengths and judges out of range', () => {
    // Prepare
    const base = { scores: [0, 0], winners: Int32Array.from([0]), losers: Int32Array.from([1]) };

    // Act / Assess
    expect(() => judgeFit({ ...base, judges: Int32Array.from([0, 0]), judgeCount: 1 })).toThrow(
      /differ in length/,
    );
    expect(() => judgeFit({ ...base, judges: Int32Array.from([2]), judgeCount: 2 })).toThrow(
      /outside 0\.\.1/,
    );
  });
});
