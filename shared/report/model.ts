/**
 * What a report shows, independent of where it came from: a batch on the engine (`cj report`:
 * state, results and wave history from the API) or a decisions file (`cj score --report`). Pure:
 * the builders map the API's and the scoring pipeline's JSON onto one model the page renders.
 */
import { DEFAULT_CONFIG } from '#domain/config.ts';
import type { BatchResults, BatchState } from '#messages/state.ts';
import type { BatchWaves } from '#messages/waves.ts';

export interface ReportRow {
  rank: number;
  id: string;
  score: number;
  se: number;
  comparisons: number;
  wins: number;
  /** Projected grade where the batch has anchors (null otherwise). */
  grade: string | null;
  /** The essay's given grade when it is an anchor. */
  anchorGrade: string | null;
}

export interface ReportFlag {
  name: string;
  raised: boolean;
  meaning: string;
}

export interface GradeBoundary {
  lower: string;
  upper: string;
  score: number;
  se: number;
}

export interface UsageSection {
  comparisons: number;
  inputTokens: number;
  outputTokens: number;
  /** Estimated USD over the priced comparisons; null when none had a price. */
  costUsd: number | null;
  unpricedComparisons: number;
  /** Priced comparisons whose (batch) price was not checked against the provider's own table. */
  unverifiedPriceComparisons: number;
  orderFlipRate: number | null;
  bothOrdersComparisons: number;
  /** How the judge was called (`sync`, `provider_batch`), when the batch says. */
  mode: string | null;
  /** The judge: provider and model (or mock profile), when known. */
  judge: string | null;
}

export interface JudgeFitRow {
  judge: string;
  decisions: number;
  infit: number;
  outfit: number;
  flagged: boolean;
}

export interface OrderEffect {
  estimate: number;
  se: number;
  firstShownWinRate: number | null;
}

export interface ReportModel {
  kind: 'batch' | 'score';
  title: string;
  /** ISO instant the report was written. */
  generatedAt: string;
  /** Label/value lines of the summary at the top. */
  facts: Array<readonly [string, string]>;
  /** Best first. */
  rows: ReportRow[];
  grades: { scale: string[]; boundaries: GradeBoundary[] } | null;
  reliability: { ssr: number | null; splitHalf: number | null; eap: number | null };
  orderEffect: OrderEffect | null;
  usage: UsageSection | null;
  waves: BatchWaves | null;
  /** Why the wave history is missing (e.g. the API serves none), when it is. */
  wavesNote: string | null;
  flags: ReportFlag[];
  judges: { rows: JudgeFitRow[]; threshold: number | null; rule: string } | null;
  warnings: string[];
}

const FLAG_MEANINGS: Record<string, string> = {
  bt_se_inflated: `Some essay's standard error is above BT_STANDARD_ERROR_MAX (default ${DEFAULT_CONFIG.BT_STANDARD_ERROR_MAX} logits): its place on the scale is uncertain.`,
  comparison_coverage_sparse: `Fewer than SPARSE_COVERAGE_MIN_COMPARISONS_PER_ITEM (default ${DEFAULT_CONFIG.SPARSE_COVERAGE_MIN_COMPARISONS_PER_ITEM}) successful comparisons per essay on average: scores rest on few judgements.`,
  has_isolated_items:
    'At least one essay has no successful comparison: its score is only the prior, not a measurement.',
};

type Json = Record<string, unknown>;

function record(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A grade as the results carry it: a label, or an index into the batch's scale. */
function gradeLabel(value: unknown, scale: readonly string[]): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return scale[value] ?? null;
  return null;
}

function gradesOf(metadata: Json): ReportModel['grades'] {
  const grades = record(metadata.grades);
  const scale = Array.isArray(grades?.scale) ? (grades.scale as unknown[]).map(String) : null;
  if (!grades || !scale) return null;
  const boundaries = Array.isArray(grades.boundaries)
    ? (grades.boundaries as unknown[]).flatMap((b) => {
        const boundary = record(b);
        const score = numberOrNull(boundary?.score);
        if (!boundary || score === null) return [];
        return [
          {
            lower: String(boundary.lower ?? ''),
            upper: String(boundary.upper ?? ''),
            score,
            se: numberOrNull(boundary.se) ?? 0,
          },
        ];
      })
    : [];
  return { scale, boundaries };
}

function judgeLabel(judge: unknown): string | null {
  const choice = record(judge);
  if (!choice || typeof choice.provider !== 'string') return null;
  if (choice.provider === 'mock') return `mock (${String(choice.profile ?? 'default')})`;
  return typeof choice.model === 'string' ? `${choice.provider} ${choice.model}` : choice.provider;
}

function usageOf(metadata: Json, judge: unknown): UsageSection | null {
  const usage = record(metadata.judge_usage);
  if (!usage) return null;
  return {
    comparisons: numberOrNull(usage.comparisons) ?? 0,
    inputTokens: numberOrNull(usage.input_tokens) ?? 0,
    outputTokens: numberOrNull(usage.output_tokens) ?? 0,
    costUsd: numberOrNull(usage.cost_usd),
    unpricedComparisons: numberOrNull(usage.unpriced_comparisons) ?? 0,
    unverifiedPriceComparisons: numberOrNull(usage.unverified_price_comparisons) ?? 0,
    orderFlipRate: numberOrNull(usage.order_flip_rate),
    bothOrdersComparisons: numberOrNull(usage.both_orders_comparisons) ?? 0,
    mode: typeof usage.mode === 'string' ? usage.mode : null,
    judge: judgeLabel(judge ?? metadata.judge),
  };
}

function orderEffectOf(metadata: Json): OrderEffect | null {
  const effect = record(metadata.order_effect);
  const estimate = numberOrNull(effect?.estimate);
  const se = numberOrNull(effect?.se);
  if (estimate === null || se === null) return null;
  return { estimate, se, firstShownWinRate: numberOrNull(effect?.first_shown_win_rate) };
}

function flagsOf(metadata: Json): ReportFlag[] {
  const flags = record(metadata.bt_quality_flags) ?? {};
  return Object.entries(flags)
    .filter(([, raised]) => typeof raised === 'boolean')
    .map(([name, raised]) => ({
      name,
      raised: raised as boolean,
      meaning: FLAG_MEANINGS[name] ?? name.replaceAll('_', ' '),
    }));
}

export interface BatchReportInputs {
  state: BatchState;
  /** Absent for a batch without results (running, cancelled): the page says so. */
  results: BatchResults | null;
  waves: BatchWaves | null;
  wavesNote?: string | null;
  generatedAt: Date;
}

/** The report of a batch on the engine, from its state, results and wave history. */
export function batchReportModel(inputs: BatchReportInputs): ReportModel {
  const { state, results, waves } = inputs;
  const metadata = record(state.processing_metadata) ?? {};
  const reliability = record(metadata.reliability) ?? {};
  const grades = gradesOf(metadata);
  const scale = grades?.scale ?? [];
  const rows: ReportRow[] = [...(results?.essays ?? [])]
    .sort((x, y) => x.rank - y.rank)
    .map((row) => {
      const extra = row as unknown as Json;
      return {
        rank: row.rank,
        id: row.id,
        score: row.score,
        se: row.se,
        comparisons: row.comparisons,
        wins: row.wins,
        grade: gradeLabel(extra.grade, scale),
        anchorGrade: gradeLabel(extra.anchor_grade, scale),
      };
    });
  const done = state.completed_comparisons + state.failed_comparisons;
  const facts: Array<readonly [string, string]> = [
    ['batch', state.batch_id],
    ['status', state.failure_reason ? `${state.status} (${state.failure_reason})` : state.status],
    ['essays', String(state.essay_count)],
    [
      'comparisons',
      `${state.completed_comparisons} completed, ${state.failed_comparisons} failed, ${state.pending_callbacks} pending (${done} of ${state.completion_denominator} expected; budget ${state.total_budget})`,
    ],
    ['waves', String(state.current_iteration)],
    ['created', state.created_at],
    ['finalized', state.finalized_at ?? 'not yet'],
  ];
  const usage = usageOf(metadata, (state as unknown as Json).judge);
  if (usage?.judge) facts.splice(3, 0, ['judge', usage.judge]);
  return {
    kind: 'batch',
    title: `Batch ${state.batch_id}`,
    generatedAt: inputs.generatedAt.toISOString(),
    facts,
    rows,
    grades,
    reliability: {
      ssr: numberOrNull(reliability.ssr),
      splitHalf: numberOrNull(reliability.split_half),
      eap: numberOrNull(reliability.eap),
    },
    orderEffect: orderEffectOf(metadata),
    usage,
    waves,
    wavesNote: inputs.wavesNote ?? null,
    flags: flagsOf(metadata),
    judges: null,
    warnings: [],
  };
}

/** What `cj score` computes (shared/scoring/score.ts `ScoreReport`), as far as the page needs it. */
export interface ScoredDecisions {
  items: ReadonlyArray<{
    rank: number;
    id: string;
    score: number;
    se: number;
    comparisons: number;
    wins: number;
  }>;
  reliability: Json;
  judges: ReadonlyArray<{
    judge: string;
    decisions: number;
    infit: number;
    outfit: number;
    flagged: boolean;
  }>;
  judge_flag: { rule: string; infit_threshold: number | null };
  summary: Json;
  warnings: readonly string[];
}

/** The report of a decisions file scored offline (`cj score --report`), judge fit included. */
export function scoreReportModel(
  report: ScoredDecisions,
  source: string,
  generatedAt: Date,
): ReportModel {
  const summary = report.summary;
  const reliability = report.reliability;
  const facts: Array<readonly [string, string]> = [
    ['decisions file', source],
    ['items', String(summary.items ?? report.items.length)],
    ['decisions', String(summary.decisions ?? '–')],
    ['judges', String(summary.judges ?? report.judges.length)],
    ['graph components', String(summary.components ?? '–')],
    ['standard errors', String(summary.se_method ?? '–')],
  ];
  const allWins = numberOrNull(summary.items_all_wins) ?? 0;
  const allLosses = numberOrNull(summary.items_all_losses) ?? 0;
  const components = numberOrNull(summary.components) ?? 1;
  return {
    kind: 'score',
    title: `Scores of ${source}`,
    generatedAt: generatedAt.toISOString(),
    facts,
    rows: [...report.items]
      .sort((x, y) => x.rank - y.rank)
      .map((item) => ({ ...item, grade: null, anchorGrade: null })),
    grades: null,
    reliability: {
      ssr: numberOrNull(reliability.ssr),
      splitHalf: numberOrNull(reliability.split_half_spearman_brown ?? reliability.split_half),
      eap: numberOrNull(reliability.eap),
    },
    orderEffect: orderEffectOf(report as unknown as Json),
    usage: null,
    waves: null,
    wavesNote: null,
    flags: [
      {
        name: 'disconnected_graph',
        raised: components > 1,
        meaning:
          'The comparisons fall into separate groups never compared with each other: scores of different groups are not on one scale.',
      },
      {
        name: 'items_all_wins_or_losses',
        raised: allWins + allLosses > 0,
        meaning: `${allWins} item(s) won and ${allLosses} lost every comparison: their scores rest on the prior at that end.`,
      },
      {
        name: 'judges_flagged',
        raised: report.judges.some((judge) => judge.flagged),
        meaning: `Judges whose infit is above the threshold (${report.judge_flag.rule}) decide unlike the others.`,
      },
    ],
    judges: {
      rows: report.judges.map((judge) => ({ ...judge })),
      threshold: report.judge_flag.infit_threshold,
      rule: report.judge_flag.rule,
    },
    warnings: [...report.warnings],
  };
}
