import { describe, expect, it } from 'vitest';
import { decide } from '#domain/decide.ts';
import type { WavePlanRequest } from '#domain/pairing.ts';
import type { PosteriorData, PosteriorFit } from '#domain/posterior.ts';
import { engineFit, posteriorOptions, successData } from '#domain/prior.ts';
import {
  countersOf,
  makeComparison,
  makeConfig,
  makeSnapshot,
} from '#test/helpers/domain-factories.ts';
import { randomBtData } from '#test/helpers/reference-bt.ts';

describe('posteriorOptions', () => {
  it('estimates the prior variance within [BT_EB_MIN_VARIANCE, 1/BT_PRIOR_ALPHA] by default', () => {
    // Act
    const options = posteriorOptions(makeConfig({ BT_PRIOR_ALPHA: 0.04 }));
    // Assess
    expect(options.priorVariance).toBeUndefined();
    expect(options).toMatchObject({
      minVariance: 0.25,
      maxVariance: 25,
      orderEffect: true,
      orderPriorSd: 1,
      hyperprior: { median: 4, logSd: 1.5 },
    });
  });

  it('fixes the prior variance at 1/BT_PRIOR_ALPHA in fixed mode', () => {
    // Act
    const options = posteriorOptions(makeConfig({ BT_PRIOR_MODE: 'fixed', BT_PRIOR_ALPHA: 0.5 }));
    // Assess
    expect(options.priorVariance).toBe(2);
  });

  it('passes the order-effect switch and the stopping rule through', () => {
    // Act
    const options = posteriorOptions(
      makeConfig({
        BT_ORDER_EFFECT: false,
        BT_POSTERIOR_TOLERANCE: 0.01,
        BT_POSTERIOR_MAX_SWEEPS: 7,
      }),
    );
    // Assess
    expect(options).toMatchObject({ orderEffect: false, tolerance: 0.01, maxSweeps: 7 });
  });
});

describe('engineFit', () => {
  it('is the posterior under the configured prior', () => {
    // Prepare
    const { data } = randomBtData(40, 400, 2, 2);
    // Act
    const eb = engineFit(data, makeConfig());
    const fixed = engineFit(data, makeConfig({ BT_PRIOR_MODE: 'fixed' }));
    // Assess: the weak prior spreads the scores wider than the estimated one.
    expect(fixed.priorVariance).toBe(100);
    expect(eb.priorVariance).toBeGreaterThan(1);
    expect(eb.priorVariance).toBeLessThan(10);
    const spread = (s: Float64Array) => Math.max(...s) - Math.min(...s);
    expect(spread(fixed.scores)).toBeGreaterThan(spread(eb.scores));
  });
});

describe('successData', () => {
  it('takes the successes in history order with their display order', () => {
    // Prepare: A won as shown first (+1), B won as shown second (−1), a both-orders verdict (0),
    // a failure and a pending comparison (left out).
    const comparisons = [
      makeComparison({ a: 0, b: 1, winner: 'A' }),
      makeComparison({ a: 2, b: 0, winner: 'B' }),
      makeComparison({ a: 1, b: 2, status: 'FAILED', winner: undefined }),
      makeComparison({ a: 1, b: 2, winner: 'A', usage: { order_flip: true } }),
      makeComparison({ a: 0, b: 2, status: 'PENDING', winner: undefined }),
    ];
    // Act
    const data = successData(3, comparisons);
    const limited = successData(3, comparisons, 2);
    // Assess
    expect(Array.from(data.winners)).toEqual([0, 0, 1]);
    expect(Array.from(data.losers)).toEqual([1, 2, 2]);
    expect(Array.from(data.order ?? [])).toEqual([1, -1, 0]);
    expect(Array.from(limited.winners)).toEqual([0, 0]);
  });
});

describe('decide with the posterior', () => {
  it('plans from, checks stability with and reports one fit, with its order effect', () => {
    // Prepare: 6 essays, one coverage wave judged; a recording fitter and planner.
    const comparisons = [
      makeComparison({ a: 0, b: 1 }),
      makeComparison({ a: 2, b: 3, winner: 'B' }),
      makeComparison({ a: 4, b: 5 }),
    ];
    const fits: PosteriorFit[] = [];
    const fitter = (data: PosteriorData, config: ReturnType<typeof makeConfig>) => {
      const fit = engineFit(data, config);
      fits.push(fit);
      return fit;
    };
    const requests: WavePlanRequest[] = [];
    const planner = (request: WavePlanRequest) => {
      requests.push(request);
      return [];
    };
    const snapshot = makeSnapshot({
      essayCount: 6,
      comparisons,
      counters: countersOf(comparisons),
      totalBudget: 50,
      currentIteration: 1,
    });
    // Act
    const decision = decide(snapshot, { fit: fitter, planWave: planner });
    // Assess
    expect(fits).toHaveLength(1);
    expect(decision.scores).toBe(fits[0]?.scores);
    expect(decision.se).toBe(fits[0]?.se);
    expect(decision.orderEffect).toEqual(fits[0]?.orderEffect);
    expect(decision.orderEffect?.comparisons).toBe(3);
    expect(decision.priorVariance).toBe(fits[0]?.priorVariance);
    for (const request of requests) {
      expect(request.scores).toBe(fits[0]?.scores);
      expect(request.se).toBe(fits[0]?.se);
    }
  });
});
