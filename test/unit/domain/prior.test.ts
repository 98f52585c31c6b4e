import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BtData, type BtOptions, fitBradleyTerry } from '#domain/bradley-terry.ts';
import { decide } from '#domain/decide.ts';
import type { WavePlanRequest } from '#domain/pairing.ts';
import {
  emVariance,
  engineFits,
  fitWithPrior,
  momentVariance,
  precisionFor,
  scoreVariance,
} from '#domain/prior.ts';
import type { ComparisonRecord } from '#domain/types.ts';
import { makeComparison, makeConfig, makeSnapshot } from '#test/helpers/domain-factories.ts';
import { btDataFromPairs, randomBtData } from '#test/helpers/reference-bt.ts';

const fixedSettings = makeConfig({ BT_PRIOR_MODE: 'fixed' });
const ebSettings = makeConfig({ BT_PRIOR_MODE: 'empirical_bayes' });

/** A fitter that records the options of every call and fits for real. */
function recordingFitter() {
  const calls: BtOptions[] = [];
  const fitter = (data: BtData, options: BtOptions) => {
    calls.push(options);
    return fitBradleyTerry(data, options);
  };
  return { calls, fitter };
}

describe('variance estimates', () => {
  it('match a hand calculation', () => {
    // Prepare: scores [-2, 0, 2] have population variance 8/3; SEs [1, 1, 1] have mean square 1.
    const scores = [-2, 0, 2];
    const se = [1, 1, 1];

    // Act
    const variance = scoreVariance(scores);
    const moment = momentVariance(scores, se);
    const em = emVariance(scores, se);

    // Assess
    expect(variance).toBeCloseTo(8 / 3, 12);
    expect(moment).toBeCloseTo(8 / 3 - 1, 12);
    expect(em).toBeCloseTo(8 / 3 + 1, 12);
  });

  it('keep the precision within the floor and the weak ridge, whatever the estimate', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (variance) => {
        // Act
        const alpha = precisionFor(variance, ebSettings);

        // Assess: never weaker than the fixed ridge, never stronger than 1/floor.
        expect(alpha).toBeGreaterThanOrEqual(ebSettings.BT_PRIOR_ALPHA);
        expect(alpha).toBeLessThanOrEqual(1 / ebSettings.BT_EB_MIN_VARIANCE);
      }),
    );
  });

  it('uses 1/variance inside the bounds and the bounds outside', () => {
    // Act / Assess
    expect(precisionFor(4, ebSettings)).toBeCloseTo(0.25, 12);
    expect(precisionFor(-3, ebSettings)).toBeCloseTo(1 / ebSettings.BT_EB_MIN_VARIANCE, 12);
    expect(precisionFor(1e9, ebSettings)).toBeCloseTo(ebSettings.BT_PRIOR_ALPHA, 12);
  });
});

describe('fitWithPrior', () => {
  it('fixed mode is one fit with the weak ridge', () => {
    // Prepare
    const { data } = randomBtData(30, 200, 3, 2);
    const { calls, fitter } = recordingFitter();

    // Act
    const result = fitWithPrior(data, { alpha: 5 }, fixedSettings, fitter);

    // Assess
    expect(calls).toHaveLength(1);
    expect(result.alpha).toBe(fixedSettings.BT_PRIOR_ALPHA);
    const expected = fitBradleyTerry(data, { alpha: fixedSettings.BT_PRIOR_ALPHA });
    expect(Array.from(result.scores)).toEqual(Array.from(expected.scores));
  });

  it('empirical Bayes refits 2 + BT_EB_EM_STEPS times and returns the fit under the alpha it reports', () => {
    for (const steps of [0, 1, 3]) {
      // Prepare
      const { data } = randomBtData(40, 300, 11, 2);
      const { calls, fitter } = recordingFitter();
      const settings = makeConfig({ BT_EB_EM_STEPS: steps });

      // Act
      const result = fitWithPrior(data, { standardErrors: 'exact' }, settings, fitter);

      // Assess
      expect(calls).toHaveLength(2 + steps);
      expect(calls.at(-1)?.alpha).toBe(result.alpha);
      const direct = fitBradleyTerry(data, { alpha: result.alpha });
      for (let i = 0; i < data.n; i++) {
        expect(result.scores[i]).toBeCloseTo(direct.scores[i] as number, 6);
      }
    }
  });

  it('estimates a prior variance near the true spread and shrinks the over-spread weak fit', () => {
    // Prepare: true SD 2 (variance about 4), 15 comparisons per essay.
    const { data, truth } = randomBtData(100, 750, 5, 2);
    const weak = fitBradleyTerry(data, { alpha: ebSettings.BT_PRIOR_ALPHA });

    // Act
    const result = fitWithPrior(data, {}, ebSettings, fitBradleyTerry);

    // Assess
    const estimated = 1 / result.alpha;
    const trueVariance = scoreVariance(truth);
    expect(estimated).toBeGreaterThan(trueVariance / 2);
    expect(estimated).toBeLessThan(trueVariance * 2);
    expect(scoreVariance(result.scores)).toBeLessThan(scoreVariance(weak.scores));
    const errorOf = (scores: Float64Array) =>
      scores.reduce((sum, s, i) => sum + (s - (truth[i] as number)) ** 2, 0);
    expect(errorOf(result.scores)).toBeLessThan(errorOf(weak.scores));
  });

  it('hits the variance floor on uninformative data instead of flattening the scores to zero', () => {
    // Prepare: every pair of 6 essays split 1-1, so the data say the essays are equal.
    const pairs: [number, number][] = [];
    for (let i = 0; i < 6; i++) {
      for (let j = i + 1; j < 6; j++) pairs.push([i, j], [j, i]);
    }
    const data = btDataFromPairs(6, pairs);

    // Act
    const result = fitWithPrior(data, {}, ebSettings, fitBradleyTerry);

    // Assess
    expect(result.alpha).toBeCloseTo(1 / ebSettings.BT_EB_MIN_VARIANCE, 12);
    for (const s of result.scores) expect(Math.abs(s)).toBeLessThan(1e-9);
  });

  it('keeps separated data finite and far less extreme than the weak ridge', () => {
    // Prepare: a perfect chain 0 > 1 > 2 > 3 > 4, each judged twice (no maximum-likelihood fit).
    const pairs: [number, number][] = [];
    for (let i = 0; i < 4; i++) pairs.push([i, i + 1], [i, i + 1]);
    const data = btDataFromPairs(5, pairs);
    const weak = fitBradleyTerry(data, { alpha: ebSettings.BT_PRIOR_ALPHA });

    // Act
    const result = fitWithPrior(data, {}, ebSettings, fitBradleyTerry);

    // Assess
    const range = (s: Float64Array) => Math.max(...s) - Math.min(...s);
    expect(result.scores.every(Number.isFinite)).toBe(true);
    expect(range(result.scores)).toBeLessThan(range(weak.scores));
    expect(result.scores[0]).toBeGreaterThan(result.scores[4] as number);
  });

  it('estimates the spread from compared essays only, so uncompared essays do not shrink it', () => {
    // Prepare: the same comparisons among 40 essays, alone and with 10 more that were never compared.
    const { data } = randomBtData(40, 400, 21, 2);
    const withIsolated: BtData = { ...data, n: 50 };
    const settings = makeConfig({ BT_EB_EM_STEPS: 0 });

    // Act
    const alone = fitWithPrior(data, {}, settings, fitBradleyTerry);
    const isolated = fitWithPrior(withIsolated, {}, settings, fitBradleyTerry);

    // Assess: the isolated essays' SEs (about 10 logits each) would otherwise swamp the estimate.
    const weak = fitBradleyTerry(withIsolated, { alpha: settings.BT_PRIOR_ALPHA });
    expect(momentVariance(weak.scores, weak.se as Float64Array)).toBeLessThan(0);
    expect(1 / isolated.alpha).toBeGreaterThan((1 / alone.alpha) * 0.8);
    expect(1 / isolated.alpha).toBeLessThan((1 / alone.alpha) * 1.25);
  });

  it('falls back to the weak ridge when the fitter gives no standard errors', () => {
    // Prepare
    const { data } = randomBtData(20, 100, 2, 2);
    const { calls, fitter } = recordingFitter();
    const noSe = (d: BtData, o: BtOptions) => ({ ...fitter(d, o), se: null });

    // Act
    const result = fitWithPrior(data, {}, ebSettings, noSe);

    // Assess
    expect(calls).toHaveLength(1);
    expect(result.alpha).toBe(ebSettings.BT_PRIOR_ALPHA);
  });

  it('rejects malformed data like the fitter does', () => {
    // Prepare: an index outside 0..n-1.
    const data = btDataFromPairs(3, [[0, 5]]);

    // Act / Assess
    expect(() => fitWithPrior(data, {}, ebSettings, fitBradleyTerry)).toThrow(RangeError);
  });
});

describe('decide uses the configured prior', () => {
  function history(): ComparisonRecord[] {
    const { data } = randomBtData(12, 60, 9, 2);
    return Array.from(data.winners, (w, k) =>
      makeComparison({ a: w, b: data.losers[k] as number, winner: 'A' }),
    );
  }

  it('reports the empirical-Bayes fit in empirical_bayes mode and the weak-ridge fit in fixed mode', () => {
    // Prepare
    const comparisons = history();
    const data: BtData = {
      n: 12,
      winners: Int32Array.from(comparisons, (c) => c.a),
      losers: Int32Array.from(comparisons, (c) => c.b),
    };

    // Act
    const eb = decide(
      makeSnapshot({
        essayCount: 12,
        comparisons,
        config: makeConfig({ BT_PRIOR_MODE: 'empirical_bayes' }),
      }),
    );
    const fixed = decide(
      makeSnapshot({ essayCount: 12, comparisons, config: makeConfig({ BT_PRIOR_MODE: 'fixed' }) }),
    );

    // Assess
    const expectedEb = fitWithPrior(data, {}, ebSettings, fitBradleyTerry);
    const expectedFixed = fitBradleyTerry(data, { alpha: fixedSettings.BT_PRIOR_ALPHA });
    for (let i = 0; i < 12; i++) {
      expect(eb.scores?.[i]).toBeCloseTo(expectedEb.scores[i] as number, 6);
      expect(fixed.scores?.[i]).toBeCloseTo(expectedFixed.scores[i] as number, 6);
    }
  });

  it('plans with the empirical-Bayes fit but reports the weak-ridge fit in planning-only mode', () => {
    // Prepare
    const comparisons = history();
    const data: BtData = {
      n: 12,
      winners: Int32Array.from(comparisons, (c) => c.a),
      losers: Int32Array.from(comparisons, (c) => c.b),
    };
    const config = makeConfig({ BT_PRIOR_MODE: 'empirical_bayes_planning' });
    const planned: WavePlanRequest[] = [];
    const planWave = (request: WavePlanRequest) => {
      planned.push(request);
      return [];
    };

    // Act
    const decision = decide(makeSnapshot({ essayCount: 12, comparisons, config }), { planWave });

    // Assess
    const eb = fitWithPrior(data, {}, ebSettings, fitBradleyTerry);
    const weak = fitBradleyTerry(data, { alpha: config.BT_PRIOR_ALPHA });
    expect(planned.length).toBeGreaterThan(0);
    for (let i = 0; i < 12; i++) {
      expect(decision.scores?.[i]).toBeCloseTo(weak.scores[i] as number, 6);
      expect(planned[0]?.scores?.[i]).toBeCloseTo(eb.scores[i] as number, 6);
    }
  });
});

describe('engineFits', () => {
  it('reports and plans with the same fit except in planning-only mode', () => {
    // Prepare
    const { data } = randomBtData(30, 240, 4, 2);

    // Act
    const byMode = (['fixed', 'empirical_bayes', 'empirical_bayes_planning'] as const).map((mode) =>
      engineFits(data, {}, makeConfig({ BT_PRIOR_MODE: mode }), fitBradleyTerry),
    );

    // Assess
    const [fixed, eb, planningOnly] = byMode;
    expect(fixed?.reported).toBe(fixed?.planning);
    expect(eb?.reported).toBe(eb?.planning);
    expect(Array.from(planningOnly?.reported.scores ?? [])).toEqual(
      Array.from(fixed?.reported.scores ?? []),
    );
    expect(Array.from(planningOnly?.planning.scores ?? [])).toEqual(
      Array.from(eb?.planning.scores ?? []),
    );
    expect(Array.from(eb?.reported.scores ?? [])).not.toEqual(
      Array.from(fixed?.reported.scores ?? []),
    );
  });
});
