/**
 * The engine's score model in one place: the Bradley–Terry posterior (`#domain/posterior.ts`)
 * with the prior and stopping rule the configuration sets. `decide` (every wave: the scores that
 * steer adaptive pairing, the stability check and the reported scores), the finalization report
 * and `cj score` all fit through here, so every score the system prints is on one scale.
 *
 * BT_PRIOR_MODE `empirical_bayes` (default): N(0, s²) with s² estimated from the data within
 * [BT_EB_MIN_VARIANCE, 1/BT_PRIOR_ALPHA]; `fixed`: s² = 1/BT_PRIOR_ALPHA, the weak ridge.
 */
import type { EngineConfig } from '#domain/config.ts';
import {
  fitPosterior,
  type PosteriorData,
  type PosteriorFit,
  type PosteriorOptions,
} from '#domain/posterior.ts';
import type { ComparisonRecord } from '#domain/types.ts';

export type PriorSettings = Pick<
  EngineConfig,
  | 'BT_PRIOR_MODE'
  | 'BT_PRIOR_ALPHA'
  | 'BT_EB_MIN_VARIANCE'
  | 'BT_EB_VARIANCE_PRIOR_MEDIAN'
  | 'BT_EB_VARIANCE_PRIOR_LOG_SD'
  | 'BT_EB_INTEGRATE_VARIANCE'
  | 'BT_ORDER_EFFECT'
  | 'BT_ORDER_EFFECT_PRIOR_SD'
  | 'BT_POSTERIOR_TOLERANCE'
  | 'BT_POSTERIOR_MAX_SWEEPS'
>;

/** The posterior options the settings describe. */
export function posteriorOptions(settings: PriorSettings): PosteriorOptions {
  const widest = 1 / settings.BT_PRIOR_ALPHA;
  return {
    ...(settings.BT_PRIOR_MODE === 'fixed' ? { priorVariance: widest } : {}),
    hyperprior: {
      median: settings.BT_EB_VARIANCE_PRIOR_MEDIAN,
      logSd: settings.BT_EB_VARIANCE_PRIOR_LOG_SD,
    },
    integrateVariance: settings.BT_EB_INTEGRATE_VARIANCE,
    minVariance: Math.min(settings.BT_EB_MIN_VARIANCE, widest),
    maxVariance: widest,
    orderEffect: settings.BT_ORDER_EFFECT,
    orderPriorSd: settings.BT_ORDER_EFFECT_PRIOR_SD,
    tolerance: settings.BT_POSTERIOR_TOLERANCE,
    maxSweeps: settings.BT_POSTERIOR_MAX_SWEEPS,
  };
}

/** Fits the engine's posterior to `data` under `settings`. */
export function engineFit(data: PosteriorData, settings: PriorSettings): PosteriorFit {
  return fitPosterior(data, posteriorOptions(settings));
}

/**
 * The successful comparisons of a batch history as posterior data: winner, loser and the display
 * order (+1 winner shown first as "Essay A", −1 second, 0 when judged in both orders, whose
 * verdict is balanced). At most `limit` successes are taken (the counters' view).
 */
export function successData(
  n: number,
  comparisons: readonly ComparisonRecord[],
  limit = Number.POSITIVE_INFINITY,
): PosteriorData {
  let m = 0;
  for (const c of comparisons) if (c.status === 'COMPLETED' && m < limit) m++;
  const winners = new Int32Array(m);
  const losers = new Int32Array(m);
  const order = new Int8Array(m);
  let k = 0;
  for (const c of comparisons) {
    if (c.status !== 'COMPLETED' || k >= m) continue;
    const aWon = c.winner === 'A';
    winners[k] = aWon ? c.a : c.b;
    losers[k] = aWon ? c.b : c.a;
    order[k] = c.usage?.order_flip !== undefined ? 0 : aWon ? 1 : -1;
    k++;
  }
  return { n, winners, losers, order };
}
