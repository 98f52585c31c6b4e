/**
 * Small, fast, seeded randomness for the whole engine (pair planning, mock judge, simulator,
 * split-half reliability, stochastic SE estimation). Everything that draws random numbers takes an
 * `Rng` so runs are reproducible from a seed; `Math.random` is never used by engine code.
 */

/** A uniform draw in [0, 1). */
export type Rng = () => number;

const UINT32 = 4294967296;

/**
 * mulberry32: 32-bit state, passes the usual statistical batteries for this use and is a handful
 * of integer operations per draw. Seeds are reduced to 32 bits (`seed >>> 0`).
 */
export function seededRandom(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / UINT32;
  };
}

/**
 * Stable 32-bit hash of its parts (FNV-1a over the parts joined with a separator that cannot occur
 * in a number, then a murmur3 finaliser for avalanche). Used to derive independent seeds, e.g.
 * `hashSeed(batchId, iteration)`. `hashSeed('a', 1)` differs from `hashSeed('a1')`.
 */
export function hashSeed(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = typeof part === 'number' ? `n:${part}` : `s:${part}`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0x1f; // part separator (unit separator control code)
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Standard normal draw (Box–Muller; uses two uniforms, keeps no hidden state). */
export function normal(rng: Rng): number {
  // 1 - u is in (0, 1], so the logarithm is finite.
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Uniform integer in [0, bound). */
export function randomInt(rng: Rng, bound: number): number {
  return Math.floor(rng() * bound);
}

/** Fisher–Yates shuffle; returns the same array for chaining. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}
