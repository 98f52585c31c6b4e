import { describe, expect, it } from 'vitest';
import { hashSeed, normal, randomInt, seededRandom, shuffleInPlace } from '#domain/random.ts';

function draws(seed: number, count: number): number[] {
  const rng = seededRandom(seed);
  return Array.from({ length: count }, () => rng());
}

describe('seededRandom', () => {
  it('repeats its sequence for the same seed and differs for another', () => {
    // Act
    const a = draws(7, 100);
    const b = draws(7, 100);
    const c = draws(8, 100);

    // Assess
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('draws uniformly in [0, 1)', () => {
    // Prepare
    const values = draws(123, 100_000);

    // Act
    const buckets = new Array<number>(10).fill(0);
    for (const v of values) buckets[Math.floor(v * 10)]! += 1;
    const mean = values.reduce((s, v) => s + v, 0) / values.length;

    // Assess
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
});

describe('hashSeed', () => {
  it('is stable, 32-bit, and sensitive to parts and their boundaries', () => {
    // Act
    const h = hashSeed('batch-1', 3);

    // Assess
    expect(hashSeed('batch-1', 3)).toBe(h);
    expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    expect(hashSeed('batch-1', 4)).not.toBe(h);
    expect(hashSeed('batch-2', 3)).not.toBe(h);
    expect(hashSeed('a', 1)).not.toBe(hashSeed('a1'));
    expect(hashSeed('1')).not.toBe(hashSeed(1));
  });
});

describe('normal', () => {
  it('has mean 0 and variance 1', () => {
    // Prepare
    const rng = seededRandom(99);

    // Act
    const values = Array.from({ length: 100_000 }, () => normal(rng));
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);

    // Assess
    expect(values.every(Number.isFinite)).toBe(true);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
  });
});

describe('randomInt', () => {
  it('stays within [0, bound)', () => {
    // Prepare
    const rng = seededRandom(5);

    // Act
    const values = Array.from({ length: 10_000 }, () => randomInt(rng, 7));

    // Assess
    expect(new Set(values)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
  });
});

describe('shuffleInPlace', () => {
  it('returns a seeded permutation of the same array', () => {
    // Prepare
    const items = Array.from({ length: 50 }, (_, i) => i);
    const other = [...items];

    // Act
    const result = shuffleInPlace(items, seededRandom(1));
    shuffleInPlace(other, seededRandom(1));

    // Assess
    expect(result).toBe(items);
    expect([...items].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(items).toEqual(other);
    expect(items).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('puts every item in every position about equally often', () => {
    // Prepare
    const rng = seededRandom(2024);
    const counts = Array.from({ length: 4 }, () => new Array<number>(4).fill(0));

    // Act
    for (let t = 0; t < 40_000; t++) {
      const items = shuffleInPlace([0, 1, 2, 3], rng);
      items.forEach((item, position) => {
        counts[item]![position]! += 1;
      });
    }

    // Assess
    for (const row of counts) for (const c of row) expect(Math.abs(c - 10_000)).toBeLessThan(400);
  });
});
