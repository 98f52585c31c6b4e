import { describe, expect, it } from 'vitest';
import { erfc, erfcx, normalCdf } from '#domain/special-functions.ts';

// Reference values to 10 digits (Abramowitz & Stegun tables; erfcx from its defining identity).
describe('special functions', () => {
  it('erfc matches tabulated values on both sides of 0 within the fit relative error', () => {
    // Prepare
    const table: [number, number][] = [
      [0, 1],
      [0.5, 0.4795001222],
      [1, 0.157299207],
      [2, 0.004677734981],
      [-1, 1.842700793],
      [4, 1.54172579e-8],
    ];
    // Act / Assess
    for (const [x, expected] of table) {
      expect(Math.abs(erfc(x) - expected) / expected).toBeLessThan(2e-7);
    }
  });

  it('erfcx stays finite and accurate in the far tail where exp(x²)·erfc(x) would overflow', () => {
    // Prepare: erfcx(x) ≈ 1/(x√π)·(1 − 1/(2x²) + 3/(4x⁴)) for large x
    const x = 30;
    const asymptotic = (1 / (x * Math.sqrt(Math.PI))) * (1 - 1 / (2 * x * x) + 3 / (4 * x ** 4));
    // Act
    const value = erfcx(x);
    // Assess
    expect(Number.isFinite(value)).toBe(true);
    expect(Math.abs(value - asymptotic) / asymptotic).toBeLessThan(2e-7);
  });

  it('normalCdf is Φ: exactly symmetric, 0.5 at 0 and 0.975 at 1.959964 within the fit error', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7); // the fit's error, not exact
    expect(normalCdf(1.959963985)).toBeCloseTo(0.975, 7);
    expect(normalCdf(-1.3) + normalCdf(1.3)).toBeCloseTo(1, 12);
  });
});
