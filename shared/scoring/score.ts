/**
 * The offline scoring pipeline behind `cj score`: decisions in, a report out — the engine's
 * Bradley–Terry posterior (scores with SEs, on the same scale as the engine's batches), the order
 * effect when the file says which item was shown first, the EAP reliability, SSR and split-half
 * reliability as the CJ literature computes them (by judge when judges are known), judge
 * infit/outfit and a summary of the comparison graph. Pure: no I/O, no clock, seeded randomness.
 */
import { DEFAULT_CONFIG, resolveConfig } from '#domain/config.ts';
import { judgeFit } from '#domain/judge-fit.ts';
import { engineFit } from '#domain/prior.ts';
import {
  conventionalFit,
  scaleSeparationReliability,
  splitHalfReliability,
} from '#domain/reliability.ts';
import type { ResultRow } from '#messages/state.ts';
import type { Decisions } from './decisions.ts';

export interface ScoreOptions {
  /** Prior of the scores. Default BT_PRIOR_MODE (empirical Bayes); `alpha` alone implies fixed. */
  prior?: 'empirical_bayes' | 'fixed';
  /** Ridge prior precision of the fixed prior (variance 1/alpha). Default BT_PRIOR_ALPHA. */
  alpha?: number;
  /** Split-half repetitions. Default SPLIT_HALF_SPLITS. */
  splits?: number;
  /** Seed of the split-half halvings (and of approximate SEs). Default 1. */
  seed?: number;
}

/** One scored item: the same row the engine's results carry (1 = highest score; ties share a rank). */
export type ItemScore = ResultRow;

export type SplitBy = 'judge' | 'decision';

export interface ScoreReport {
  items: ItemScore[];
  reliability: {
    /** EAP reliability of the posterior: the figure to quote. */
    eap: number;
    /** SSR as the literature computes it (ε-adjusted estimate, information SEs, like sirt::btm). */
    ssr: number;
    split_half_median: number;
    split_half_spearman_brown: number;
    splits: number;
    split_by: SplitBy;
  };
  /** Log-odds bonus of the item shown first, when the file says which was (null otherwise). */
  order_effect: {
    estimate: number;
    se: number;
    ci95: [number, number];
    first_shown_win_rate: number;
    decisions: number;
  } | null;
  judges: {
    judge: string;
    decisions: number;
    infit: number;
    outfit: number;
    flagged: boolean;
  }[];
  /** How judges are flagged, with the threshold in force (null: too few judges to flag). */
  judge_flag: { rule: string; infit_threshold: number | null };
  summary: {
    items: number;
    decisions: number;
    judges: number;
    components: number;
    items_all_wins: number;
    items_all_losses: number;
    /** The score model: posterior under this prior and its variance. */
    prior: 'empirical_bayes' | 'fixed';
    prior_variance: number;
    alpha: number;
    sweeps: number;
    converged: boolean;
  };
  /** Conditions the user must see (also printed on stderr by the CLI). */
  warnings: string[];
}

export const DEFAULT_SCORE_SEED = 1;

/** Connected components of the comparison graph (union–find with path halving). */
export function countComponents(n: number, winners: Int32Array, losers: Int32Array): number {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    let x = i;
    while (parent[x] !== x) {
      const up = parent[parent[x] as number] as number;
      parent[x] = up;
      x = up;
    }
    return x;
  };
  let components = n;
  for (let k = 0; k < winners.length; k++) {
    const a = find(winners[k] as number);
    const b = find(losers[k] as number);
    if (a !== b) {
      parent[a] = b;
      components--;
    }
  }
  return components;
}

/** Scores closer than the posterior fit's own precision (BT_POSTERIOR_TOLERANCE) share a rank. */
const RANK_TIE_TOLERANCE = DEFAULT_CONFIG.BT_POSTERIOR_TOLERANCE;

/** Ranks by descending score, 1 = best; equal scores share the best rank of their group. */
function competitionRanks(scores: Float64Array): Int32Array {
  const order = Array.from(scores, (_, i) => i).sort(
    (a, b) => (scores[b] as number) - (scores[a] as number),
  );
  const ranks = new Int32Array(scores.length);
  order.forEach((item, position) => {
    const previous = order[position - 1];
    ranks[item] =
      previous !== undefined &&
      Math.abs((scores[previous] as number) - (scores[item] as number)) <= RANK_TIE_TOLERANCE
        ? (ranks[previous] as number)
        : position + 1;
  });
  return ranks;
}

export function scoreDecisions(decisions: Decisions, options: ScoreOptions = {}): ScoreReport {
  const alpha = options.alpha ?? DEFAULT_CONFIG.BT_PRIOR_ALPHA;
  const prior =
    options.prior ?? (options.alpha === undefined ? DEFAULT_CONFIG.BT_PRIOR_MODE : 'fixed');
  const splits = options.splits ?? DEFAULT_CONFIG.SPLIT_HALF_SPLITS;
  const seed = options.seed ?? DEFAULT_SCORE_SEED;
  const { itemIds, winners, losers, judges, judgeIds, order } = decisions;
  const n = itemIds.length;
  const m = winners.length;
  const data = { n, winners, losers };
  const warnings: string[] = [];

  const config = resolveConfig({ BT_PRIOR_MODE: prior, BT_PRIOR_ALPHA: alpha });
  const fit = engineFit(order === null ? data : { ...data, order }, config);
  if (!fit.converged) {
    warnings.push(`the Bradley–Terry posterior did not converge in ${fit.sweeps} sweeps`);
  }
  const se = fit.se;
  const comparisons = new Int32Array(n);
  const wins = new Int32Array(n);
  for (let k = 0; k < m; k++) {
    const w = winners[k] as number;
    const l = losers[k] as number;
    wins[w] = (wins[w] as number) + 1;
    comparisons[w] = (comparisons[w] as number) + 1;
    comparisons[l] = (comparisons[l] as number) + 1;
  }
  const ranks = competitionRanks(fit.scores);
  const items = itemIds.map((id, i) => ({
    id,
    score: fit.scores[i] as number,
    se: se[i] as number,
    rank: ranks[i] as number,
    comparisons: comparisons[i] as number,
    wins: wins[i] as number,
  }));
  items.sort((a, b) => a.rank - b.rank || a.id.localeCompare(b.id));

  let splitBy: SplitBy = 'decision';
  let groups: Int32Array | undefined;
  if (judges !== null) {
    if (judgeIds.length >= 2) {
      splitBy = 'judge';
      groups = judges;
    } else {
      warnings.push(
        'only one judge: split-half reliability uses random halves of the decisions instead of the judges',
      );
    }
  }
  const splitHalf = splitHalfReliability(data, {
    splits,
    seed,
    ...(groups === undefined ? {} : { groups }),
  });

  // SSR and judge fit as the literature computes them: from the conventional estimate.
  const conventional = conventionalFit(data);
  const fitReport =
    judges === null
      ? null
      : judgeFit({
          scores: conventional.scores,
          winners,
          losers,
          judges,
          judgeCount: judgeIds.length,
        });
  const judgeRows =
    fitReport?.judges.map((j) => ({
      judge: judgeIds[j.judge] as string,
      decisions: j.decisions,
      infit: j.infit,
      outfit: j.outfit,
      flagged: j.flagged,
    })) ?? [];

  const components = countComponents(n, winners, losers);
  if (components > 1) {
    warnings.push(
      `the comparison graph has ${components} disconnected components: scores in different components are not on a common scale (the prior keeps them finite, centred on 0)`,
    );
  }
  const allWins = items.filter((i) => i.wins === i.comparisons).length;
  const allLosses = items.filter((i) => i.wins === 0).length;

  return {
    items,
    reliability: {
      eap: fit.reliability,
      ssr: scaleSeparationReliability(conventional.scores, conventional.se),
      split_half_median: splitHalf.median,
      split_half_spearman_brown: splitHalf.spearmanBrown,
      splits: splitHalf.splits,
      split_by: splitBy,
    },
    order_effect: orderEffectOf(fit.orderEffect, order, m),
    judges: judgeRows,
    judge_flag: {
      rule: `infit > mean + ${DEFAULT_CONFIG.JUDGE_MISFIT_SD_MULTIPLIER} SD of the judges' infit (with at least ${DEFAULT_CONFIG.JUDGE_MISFIT_MIN_JUDGES} judges)`,
      infit_threshold: fitReport?.infitThreshold ?? null,
    },
    summary: {
      items: n,
      decisions: m,
      judges: judgeIds.length,
      components,
      items_all_wins: allWins,
      items_all_losses: allLosses,
      prior,
      prior_variance: fit.priorVariance,
      alpha,
      sweeps: fit.sweeps,
      converged: fit.converged,
    },
    warnings,
  };
}

function orderEffectOf(
  effect: ReturnType<typeof engineFit>['orderEffect'],
  order: Int8Array | null,
  m: number,
): ScoreReport['order_effect'] {
  if (effect === null || order === null) return null;
  let known = 0;
  let firstWins = 0;
  for (let k = 0; k < m; k++) {
    if (order[k] === 0) continue;
    known++;
    if (order[k] === 1) firstWins++;
  }
  return {
    estimate: effect.estimate,
    se: effect.se,
    ci95: [effect.estimate - 1.96 * effect.se, effect.estimate + 1.96 * effect.se],
    first_shown_win_rate: known === 0 ? 0 : firstWins / known,
    decisions: known,
  };
}

export const ITEM_CSV_COLUMNS = ['rank', 'id', 'score', 'se', 'comparisons', 'wins'] as const;
