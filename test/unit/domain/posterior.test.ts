import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  eapReliability,
  fitPosterior,
  logisticTiltedMoments,
  type PosteriorData,
  type PosteriorOptions,
  probitTiltedMoments,
} from '#domain/posterior.ts';
import { normal, seededRandom } from '#domain/random.ts';
import {
  btDataFromPairs,
  randomBtData,
  referencePosteriorMcmc,
} from '#test/helpers/reference-bt.ts';

const OPTIONS: PosteriorOptions = {
  minVariance: 0.25,
  maxVariance: 100,
  orderEffect: true,
  orderPriorSd: 1,
  tolerance: 1e-6,
  maxSweeps: 2000,
};

/** Moments of N(d; mean, variance)·likelihood(d) by a fine trapezoid rule (reference). */
function numericTilted(mean: number, variance: number, likelihood: (d: number) => number) {
  const sd = Math.sqrt(variance);
  const lo = Math.min(mean - 12 * sd, -40);
  const hi = Math.max(mean + 12 * sd, 40);
  const steps = 200_000;
  const h = (hi - lo) / steps;
  let z = 0;
  let m1 = 0;
  let m2 = 0;
  for (let s = 0; s <= steps; s++) {
    const d = lo + s * h;
    const w =
      (s === 0 || s === steps ? 0.5 : 1) *
      Math.exp(-((d - mean) ** 2) / (2 * variance)) *
      likelihood(d);
    z += w;
    m1 += w * d;
    m2 += w * d * d;
  }
  const mu = m1 / z;
  return { mean: mu, variance: m2 / z - mu * mu };
}

const logistic = (d: number) => 1 / (1 + Math.exp(-d));

describe('tilted moments', () => {
  it.each([
    [0, 1],
    [2, 0.5],
    [-3, 2],
    [-12, 1],
    [8, 9],
    [-30, 40],
    [0.5, 0.01],
  ])('logistic: mean %d, variance %d agree with numerical integration', (mean, variance) => {
    // Act
    const got = logisticTiltedMoments(mean, variance);
    const want = numericTilted(mean, variance, logistic);
    // Assess: the four-probit mixture is within 5.4e-6 of σ everywhere.
    expect(got.mean).toBeCloseTo(want.mean, 3);
    expect(got.variance / want.variance).toBeCloseTo(1, 2);
  });

  it('probit: closed form agrees with numerical integration of Φ(λd)', () => {
    // Prepare: λ² = π/8; Φ by the logistic-free series is not needed: integrate Φ numerically.
    const lambda = Math.sqrt(Math.PI / 8);
    // Φ tabulated once by the trapezoid rule on [−12, 12] and interpolated.
    const step = 1e-4;
    const table = new Float64Array(240_001);
    for (let k = 1; k < table.length; k++) {
      const t = -12 + k * step;
      const density = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
      table[k] = (table[k - 1] as number) + 0.5 * step * (density(t - step) + density(t));
    }
    const phi = (x: number) => {
      if (x <= -12) return 0;
      if (x >= 12) return 1;
      const position = (x + 12) / step;
      const k = Math.floor(position);
      const f = position - k;
      return (1 - f) * (table[k] as number) + f * (table[k + 1] as number);
    };
    for (const [mean, variance] of [
      [0, 1],
      [1.5, 2],
      [-2, 0.5],
    ] as const) {
      // Act
      const got = probitTiltedMoments(mean, variance);
      const want = numericTilted(mean, variance, (d) => phi(lambda * d));
      // Assess
      expect(got.mean).toBeCloseTo(want.mean, 3);
      expect(got.variance).toBeCloseTo(want.variance, 3);
    }
  });
});

describe('fitPosterior', () => {
  // A long MCMC run: CPU-bound, so a generous timeout on a shared machine.
  it('matches a long MCMC run of the exact posterior on a small data set', {
    timeout: 60_000,
  }, () => {
    // Prepare: 8 essays, 40 random comparisons, prior variance 2.25 (true SD 1.5).
    const { data } = randomBtData(8, 40, 4, 1.5);
    const reference = referencePosteriorMcmc(data, 2.25, 60_000, 9);
    // Act
    const fit = fitPosterior(data, { ...OPTIONS, priorVariance: 2.25 });
    // Assess: EP's means within 0.1 logit and SDs within 15 % of the exact posterior's.
    for (let i = 0; i < 8; i++) {
      expect(Math.abs((fit.scores[i] as number) - (reference.mean[i] as number))).toBeLessThan(0.1);
      expect((fit.se[i] as number) / (reference.sd[i] as number)).toBeGreaterThan(0.85);
      expect((fit.se[i] as number) / (reference.sd[i] as number)).toBeLessThan(1.15);
    }
    expect(fit.converged).toBe(true);
  });

  it('estimates the prior variance near the true spread of the scores', () => {
    // Prepare: 300 essays with true SD 2, 20 random comparisons each.
    const { data } = randomBtData(300, 3000, 7, 2);
    // Act
    const fit = fitPosterior(data, OPTIONS);
    // Assess
    expect(fit.priorVariance).toBeGreaterThan(3);
    expect(fit.priorVariance).toBeLessThan(5.3);
  });

  it('gives 95 % intervals that cover the true scores about 95 % of the time', {
    timeout: 60_000,
  }, () => {
    // Prepare: five data sets of 200 essays, 10 random comparisons each.
    let covered = 0;
    let total = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const { data, truth } = randomBtData(200, 1000, seed, 2);
      // Act
      const fit = fitPosterior(data, OPTIONS);
      const centre = truth.reduce((s, v) => s + v, 0) / truth.length;
      for (let i = 0; i < 200; i++) {
        const error = (fit.scores[i] as number) - ((truth[i] as number) - centre);
        if (Math.abs(error) <= 1.96 * (fit.se[i] as number)) covered++;
        total++;
      }
    }
    // Assess: 1,000 intervals; 95 % ± 3 binomial SEs.
    expect(covered / total).toBeGreaterThan(0.93);
    expect(covered / total).toBeLessThan(0.97);
  });

  it('integrating the prior variance out widens the SEs but not the reliability', () => {
    // Prepare: 60 essays, 8 random comparisons each: the spread is only loosely known.
    const { data } = randomBtData(60, 240, 9, 2);
    // Act
    const plugIn = fitPosterior(data, { ...OPTIONS, hyperprior: { median: 4, logSd: 1.5 } });
    const integrated = fitPosterior(data, {
      ...OPTIONS,
      hyperprior: { median: 4, logSd: 1.5 },
      integrateVariance: true,
    });
    // Assess: wider on average; the reliability (scale-free) barely moves; scores keep their order.
    const meanSe = (f: typeof plugIn) => f.se.reduce((a, b) => a + b, 0) / f.se.length;
    expect(meanSe(integrated)).toBeGreaterThan(meanSe(plugIn));
    expect(Math.abs(integrated.reliability - plugIn.reliability)).toBeLessThan(0.02);
    expect(plugIn.reliability).toBeCloseTo(eapReliability(plugIn.scores, plugIn.se), 12);
    const order = (f: typeof plugIn) =>
      Array.from(f.scores.keys()).sort((a, b) => (f.scores[b] as number) - (f.scores[a] as number));
    expect(order(integrated).slice(0, 10)).toEqual(order(plugIn).slice(0, 10));
  });

  it('keeps the prior variance at the floor on coin-flip data instead of flattening to zero', () => {
    // Prepare: every pair of 20 essays judged both ways: no essay is better than another.
    const pairs: [number, number][] = [];
    for (let i = 0; i < 20; i++) {
      for (let j = i + 1; j < 20; j++) pairs.push([i, j], [j, i]);
    }
    // Act
    const fit = fitPosterior(btDataFromPairs(20, pairs), OPTIONS);
    // Assess
    expect(fit.priorVariance).toBe(0.25);
    for (const score of fit.scores) expect(Math.abs(score)).toBeLessThan(1e-6);
  });

  it('keeps all-win and all-loss essays finite', () => {
    // Prepare: essay 0 beats everyone, essay 3 loses to everyone.
    const data = btDataFromPairs(4, [
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 2],
      [2, 1],
      [1, 3],
      [2, 3],
    ]);
    // Act
    const fit = fitPosterior(data, OPTIONS);
    // Assess
    expect(Number.isFinite(fit.scores[0])).toBe(true);
    expect(fit.scores[0]).toBeGreaterThan(fit.scores[1] as number);
    expect(fit.scores[3]).toBeLessThan(fit.scores[2] as number);
    for (const se of fit.se) expect(se).toBeGreaterThan(0);
  });

  it('gives an essay without comparisons score 0 and about the prior SD', () => {
    // Prepare: essays 0-2 compared, essay 3 never.
    const data = btDataFromPairs(4, [
      [0, 1],
      [1, 2],
      [0, 2],
      [2, 1],
    ]);
    // Act
    const fit = fitPosterior(data, { ...OPTIONS, priorVariance: 4 });
    // Assess: its posterior is the prior; the centred SE shrinks it by (1 − 2/n) plus Σv/n².
    expect(
      Math.abs(
        (fit.scores[3] ?? 0) + ((fit.scores[0] ?? 0) + (fit.scores[1] ?? 0) + (fit.scores[2] ?? 0)),
      ),
    ).toBeLessThan(1e-9);
    expect(fit.se[3]).toBeGreaterThan(1.4);
    expect(fit.se[3]).toBeLessThan(2);
  });

  it('recovers an injected order effect and removes it from the scores', () => {
    // Prepare: 150 essays, 3,000 comparisons, the first-shown essay favoured by 0.6 logits;
    // display order random, so each comparison's winner was first or second.
    const rng = seededRandom(11);
    const n = 150;
    const truth = Float64Array.from({ length: n }, () => 2 * normal(rng));
    const pairs: [number, number][] = [];
    const order: number[] = [];
    for (let k = 0; k < 3000; k++) {
      const first = Math.floor(rng() * n);
      let second = Math.floor(rng() * (n - 1));
      if (second >= first) second++;
      const pFirst = logistic((truth[first] as number) - (truth[second] as number) + 0.6);
      const firstWon = rng() < pFirst;
      pairs.push(firstWon ? [first, second] : [second, first]);
      order.push(firstWon ? 1 : -1);
    }
    const data = { ...btDataFromPairs(n, pairs), order: Int8Array.from(order) };
    // Act
    const fit = fitPosterior(data, OPTIONS);
    const blind = fitPosterior({ ...data, order: undefined }, OPTIONS);
    // Assess
    const effect = fit.orderEffect;
    expect(effect).not.toBeNull();
    expect(Math.abs((effect?.estimate ?? 0) - 0.6)).toBeLessThan(3 * (effect?.se ?? 0));
    expect(effect?.se).toBeLessThan(0.1);
    expect(effect?.comparisons).toBe(3000);
    expect(blind.orderEffect).toBeNull();
  });

  it('estimates no order effect when every order is unknown or balanced, or when switched off', () => {
    // Prepare
    const { data } = randomBtData(30, 200, 3, 2);
    const balanced = { ...data, order: new Int8Array(200) };
    const known = { ...data, order: new Int8Array(200).fill(1) };
    // Act / Assess
    expect(fitPosterior(balanced, OPTIONS).orderEffect).toBeNull();
    expect(fitPosterior(known, { ...OPTIONS, orderEffect: false }).orderEffect).toBeNull();
    expect(fitPosterior(known, OPTIONS).orderEffect).not.toBeNull();
  });

  it('is deterministic and equivariant under relabelling the essays', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (seed) => {
        // Prepare: a random data set and the same data with essay labels reversed.
        const { data } = randomBtData(12, 60, seed, 1.5);
        const flip = (i: number) => 11 - i;
        const relabelled = {
          n: 12,
          winners: data.winners.map(flip),
          losers: data.losers.map(flip),
        };
        // Act
        const a = fitPosterior(data, OPTIONS);
        const again = fitPosterior(data, OPTIONS);
        const b = fitPosterior(relabelled, OPTIONS);
        // Assess
        expect(again.scores).toEqual(a.scores);
        for (let i = 0; i < 12; i++) {
          expect(b.scores[flip(i)]).toBeCloseTo(a.scores[i] as number, 9);
          expect(b.se[flip(i)]).toBeCloseTo(a.se[i] as number, 9);
        }
      }),
      { numRuns: 20 },
    );
  });

  it.each([
    [{ n: 2, winners: Int32Array.of(0), losers: Int32Array.of(2) }, 'outside'],
    [{ n: 2, winners: Int32Array.of(1), losers: Int32Array.of(1) }, 'itself'],
    [{ n: 2, winners: Int32Array.of(0, 1), losers: Int32Array.of(1) }, 'differ in length'],
    [
      { n: 2, winners: Int32Array.of(0), losers: Int32Array.of(1), order: Int8Array.of(2) },
      'order',
    ],
  ])('rejects malformed data %#', (data, message) => {
    expect(() => fitPosterior(data as PosteriorData, OPTIONS)).toThrow(message);
  });

  it('rejects a bad prior', () => {
    const { data } = randomBtData(5, 10, 1);
    expect(() => fitPosterior(data, { ...OPTIONS, priorVariance: 0 })).toThrow('priorVariance');
    expect(() => fitPosterior(data, { ...OPTIONS, minVariance: 0 })).toThrow('bounds');
  });
});

describe('eapReliability', () => {
  it('is var(scores) / (var(scores) + mean SE²) with population variances', () => {
    // Prepare: scores ±1 ⇒ variance 1; SEs 1 and √3 ⇒ mean SE² 2.
    expect(eapReliability([1, -1], [1, Math.sqrt(3)])).toBeCloseTo(1 / 3, 12);
  });

  it('is 0 for fewer than two scores or no spread and no noise', () => {
    expect(eapReliability([1], [0.5])).toBe(0);
    expect(eapReliability([0, 0], [0, 0])).toBe(0);
  });
});
