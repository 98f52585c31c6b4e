/**
 * `processing_metadata` and per-essay results of a finalized batch (docs/engine-rules.md, "Processing metadata").
 *
 * Reliability is reported three ways: the EAP reliability of the posterior (the figure to quote:
 * it tracks the true r² under adaptive pairing, BENCHMARKS.md), SSR as the CJ literature computes
 * it (comparable with published figures, optimistic under adaptive pairing, which picks near-equal
 * pairs) and split-half (random halves of the comparisons, each fitted separately, Spearman–Brown
 * corrected).
 */
import type { BtData } from '#domain/bradley-terry.ts';
import type { EngineConfig } from '#domain/config.ts';
import {
  type AnchorObservation,
  fitGradeBoundaries,
  type GradeModel,
  GradeModelError,
  gradeProbabilities,
  mostLikelyGrade,
} from '#domain/grades.ts';
import { type JudgeUsageMode, summarizeUsage, type UsageTotals } from '#domain/judge-usage.ts';
import { maxPossiblePairs, pairKey } from '#domain/pairing.ts';
import { eapReliability, type OrderEffect } from '#domain/posterior.ts';
import { conventionalSsr, splitHalfReliability } from '#domain/reliability.ts';
import type { ComparisonRecord } from '#domain/types.ts';

export interface MetadataInputs {
  essayCount: number;
  comparisons: readonly ComparisonRecord[];
  /** Final fit (from the finalize decision); null when nothing succeeded. */
  scores: Float64Array | null;
  se: Float64Array | null;
  /** The final fit's order effect, prior variance and EAP reliability (null when not estimated). */
  orderEffect?: OrderEffect | null;
  priorVariance?: number | null;
  /** The fit's EAP reliability; computed from scores and SEs when not given. */
  reliability?: number | null;
  resamplingPassCount: number;
  config: EngineConfig;
  /** Seeds the split-half shuffles (same batch ⇒ same figures). */
  seed: number;
  /** How the judge was asked (judge_usage reports it; provider batches cost batch prices). */
  judgeMode?: JudgeUsageMode;
  /**
   * Grades from anchors (docs/grades.md): the batch's scale (lowest first) and each essay's
   * anchor grade as an index into it (null for an essay that is not an anchor).
   */
  grading?: { scale: readonly string[]; anchorGrades: readonly (number | null)[] } | null;
}

export interface EssayResult {
  /** Essay index in the batch (the store maps it back to the client's id). */
  index: number;
  score: number;
  se: number | null;
  /** 1 = best; ties broken by index. */
  rank: number;
  /** Successful comparisons the essay took part in. */
  comparisons: number;
  wins: number;
  /** With a grade scale: the projected grade (index into the scale) and each grade's probability. */
  grade?: number;
  grade_probabilities?: number[];
  /** The essay's given grade when it is an anchor. */
  anchor_grade?: number;
}

export interface ProcessingMetadata {
  max_possible_pairs: number;
  /** Distinct pairs with at least one verdict. */
  successful_pairs_count: number;
  /** Every pair of essays has a verdict. */
  unique_coverage_complete: boolean;
  resampling_pass_count: number;
  successful_comparisons: number;
  failed_comparisons: number;
  bt_se_summary: {
    mean_se: number | null;
    max_se: number | null;
    /** Successful comparisons per essay: 2·completed / n. */
    mean_comparisons_per_item: number;
    /** Essays without any successful comparison. */
    isolated_items: number;
  };
  bt_quality_flags: {
    /** max_se > BT_STANDARD_ERROR_MAX. */
    bt_se_inflated: boolean;
    /** mean_comparisons_per_item < SPARSE_COVERAGE_MIN_COMPARISONS_PER_ITEM. */
    comparison_coverage_sparse: boolean;
    has_isolated_items: boolean;
  };
  reliability: {
    /**
     * EAP reliability var(score) / (var(score) + mean SE²) of the posterior: the figure to quote
     * (within ±0.03 of the true r² in simulation, adaptive pairing included).
     */
    eap: number | null;
    /**
     * Scale separation reliability as the CJ literature computes it (ε-adjusted estimate with
     * information SEs, as sirt::btm): comparable with published figures; optimistic under
     * adaptive pairing.
     */
    ssr: number | null;
    /** Split-half reliability, Spearman–Brown corrected. */
    split_half: number | null;
    /** Median correlation between the two half fits, before the correction. */
    split_half_uncorrected: number | null;
    split_half_splits: number;
  };
  /**
   * The judge's order (position) effect: log-odds bonus of the essay shown first ("Essay A"),
   * estimated with the scores (which are free of it); null when not estimated.
   */
  order_effect: {
    estimate: number;
    se: number;
    /** 95 % interval, estimate ± 1.96 SE. */
    ci95: [number, number];
    /** Share of verdicts that went to the essay shown first. */
    first_shown_win_rate: number;
    comparisons: number;
  } | null;
  /** The score model: prior mode and the prior variance of the scores behind the fit. */
  score_model: { prior: string; prior_variance: number | null };
  /** Grade boundaries fitted to the anchors (absent without a grade scale). */
  grades?: GradesMetadata;
  /** Why a batch with a grade scale has no grades (anchors unusable); absent otherwise. */
  grades_unavailable?: string;
  /** Tokens, estimated cost and order-flip rate summed over the verdicts actually received. */
  judge_usage: UsageTotals;
}

export interface GradesMetadata {
  /** The batch's grade scale, lowest first. */
  scale: string[];
  /** Anchors per grade, in scale order. */
  anchors_per_grade: number[];
  /** Boundary k sits between scale[k] and scale[k + 1], on the score scale, with its SE. */
  boundaries: { lower: string; upper: string; score: number; se: number }[];
  /** Estimated grading noise of the anchors (logits). */
  grading_noise: number;
  converged: boolean;
}

export interface FinalReport {
  metadata: ProcessingMetadata;
  /** Per essay in index order; empty when there are no scores. */
  results: EssayResult[];
}

function successfulData(n: number, comparisons: readonly ComparisonRecord[]): BtData {
  let m = 0;
  for (const c of comparisons) if (c.status === 'COMPLETED') m++;
  const winners = new Int32Array(m);
  const losers = new Int32Array(m);
  let k = 0;
  for (const c of comparisons) {
    if (c.status !== 'COMPLETED') continue;
    const aWon = c.winner === 'A';
    winners[k] = aWon ? c.a : c.b;
    losers[k] = aWon ? c.b : c.a;
    k++;
  }
  return { n, winners, losers };
}

function rankByScore(scores: Float64Array): Int32Array {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  order.sort((x, y) => (scores[y] as number) - (scores[x] as number) || x - y);
  const ranks = new Int32Array(scores.length);
  order.forEach((essay, position) => {
    ranks[essay] = position + 1;
  });
  return ranks;
}

export function buildProcessingMetadata(inputs: MetadataInputs): FinalReport {
  const { essayCount: n, comparisons, scores, se, config } = inputs;
  const data = successfulData(n, comparisons);
  const m = data.winners.length;
  const played = new Int32Array(n);
  const wins = new Int32Array(n);
  for (let k = 0; k < m; k++) {
    const w = data.winners[k] as number;
    const l = data.losers[k] as number;
    played[w] = (played[w] ?? 0) + 1;
    played[l] = (played[l] ?? 0) + 1;
    wins[w] = (wins[w] ?? 0) + 1;
  }
  const judgedPairs = new Set<number>();
  for (const c of comparisons) if (c.status === 'COMPLETED') judgedPairs.add(pairKey(c.a, c.b));
  const isolated = played.reduce((count, p) => (p === 0 ? count + 1 : count), 0);
  const meanPerItem = n === 0 ? 0 : (2 * m) / n;

  let meanSe: number | null = null;
  let maxSe: number | null = null;
  if (se !== null && se.length > 0) {
    meanSe = se.reduce((sum, v) => sum + v, 0) / se.length;
    maxSe = se.reduce((max, v) => Math.max(max, v), 0);
  }
  const eap =
    inputs.reliability ?? (scores !== null && se !== null ? eapReliability(scores, se) : null);
  const ssr = m >= 1 ? conventionalSsr(data) : null;
  let firstWins = 0;
  for (const c of comparisons) if (c.status === 'COMPLETED' && c.winner === 'A') firstWins++;
  const order = inputs.orderEffect ?? null;
  const split =
    m >= 2
      ? splitHalfReliability(data, {
          splits: config.SPLIT_HALF_SPLITS,
          seed: inputs.seed,
          // Random halves of a batch's comparisons can leave 2–3 per essay: the weak-ridge MAP
          // copes, the conventional estimate does not (BENCHMARKS.md, "Ranking efficiency").
          estimator: 'ridge',
          alpha: config.BT_PRIOR_ALPHA,
        })
      : null;

  const metadata: ProcessingMetadata = {
    max_possible_pairs: maxPossiblePairs(n),
    successful_pairs_count: judgedPairs.size,
    unique_coverage_complete: n >= 2 && judgedPairs.size === maxPossiblePairs(n),
    resampling_pass_count: inputs.resamplingPassCount,
    successful_comparisons: m,
    failed_comparisons: comparisons.reduce((k, c) => (c.status === 'FAILED' ? k + 1 : k), 0),
    bt_se_summary: {
      mean_se: meanSe,
      max_se: maxSe,
      mean_comparisons_per_item: meanPerItem,
      isolated_items: isolated,
    },
    bt_quality_flags: {
      bt_se_inflated: maxSe !== null && maxSe > config.BT_STANDARD_ERROR_MAX,
      comparison_coverage_sparse: meanPerItem < config.SPARSE_COVERAGE_MIN_COMPARISONS_PER_ITEM,
      has_isolated_items: isolated > 0,
    },
    reliability: {
      eap,
      ssr,
      split_half: split && split.splits > 0 ? split.spearmanBrown : null,
      split_half_uncorrected: split && split.splits > 0 ? split.median : null,
      split_half_splits: split?.splits ?? 0,
    },
    order_effect:
      order === null
        ? null
        : {
            estimate: order.estimate,
            se: order.se,
            ci95: [order.estimate - 1.96 * order.se, order.estimate + 1.96 * order.se],
            first_shown_win_rate: m === 0 ? 0 : firstWins / m,
            comparisons: order.comparisons,
          },
    score_model: { prior: config.BT_PRIOR_MODE, prior_variance: inputs.priorVariance ?? null },
    judge_usage: summarizeUsage(
      comparisons.filter((c) => c.status === 'COMPLETED').map((c) => c.usage),
      inputs.judgeMode,
    ),
  };

  if (scores === null) return { metadata, results: [] };
  const ranks = rankByScore(scores);
  const results: EssayResult[] = Array.from({ length: n }, (_, i) => ({
    index: i,
    score: scores[i] as number,
    se: se === null ? null : (se[i] as number),
    rank: ranks[i] as number,
    comparisons: played[i] as number,
    wins: wins[i] as number,
  }));
  const grading = inputs.grading ?? null;
  if (grading !== null && se !== null) {
    let model: GradeModel;
    try {
      model = gradeModelOf(grading, scores, se);
    } catch (error) {
      // Input validation makes this unreachable; a batch still finalizes, without grades.
      if (!(error instanceof GradeModelError)) throw error;
      metadata.grades_unavailable = error.message;
      return { metadata, results };
    }
    metadata.grades = {
      scale: [...grading.scale],
      anchors_per_grade: model.anchorsPerGrade,
      boundaries: model.boundaries.map((b, k) => ({
        lower: grading.scale[k] as string,
        upper: grading.scale[k + 1] as string,
        score: b.estimate,
        se: b.se,
      })),
      grading_noise: model.gradingNoise,
      converged: model.converged,
    };
    for (const row of results) {
      const probabilities = gradeProbabilities(row.score, row.se ?? 0, model);
      row.grade = mostLikelyGrade(probabilities);
      row.grade_probabilities = Array.from(probabilities);
      const given = grading.anchorGrades[row.index];
      if (given !== null && given !== undefined) row.anchor_grade = given;
    }
  }
  return { metadata, results };
}

/** Fits the grade model to the anchors' posterior scores (throws GradeModelError on bad anchors). */
function gradeModelOf(
  grading: NonNullable<MetadataInputs['grading']>,
  scores: Float64Array,
  se: Float64Array,
): GradeModel {
  const anchors: AnchorObservation[] = [];
  grading.anchorGrades.forEach((grade, i) => {
    if (grade !== null) {
      anchors.push({ score: scores[i] as number, se: se[i] as number, grade });
    }
  });
  let spread = 0;
  for (const score of scores) spread += score * score;
  spread = Math.sqrt(spread / Math.max(1, scores.length));
  return fitGradeBoundaries(anchors, { grades: grading.scale.length, spread });
}
