/** Human-readable renderings of batch state and results (machine formats live with the commands). */
import type { BatchState, EssayResult } from './api.ts';
import { CLI_DEFAULTS } from './defaults.ts';

/** The figure progress is measured against: the completion denominator, else the budget. */
export function progressTarget(state: BatchState): number {
  return state.completion_denominator ?? state.total_budget;
}

export function progressBar(
  state: BatchState,
  width: number = CLI_DEFAULTS.PROGRESS_BAR_WIDTH,
): string {
  const target = Math.max(1, progressTarget(state));
  const done = state.completed_comparisons + state.failed_comparisons;
  const share = Math.min(1, done / target);
  const filled = Math.round(share * width);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
  return (
    `[${bar}] ${done}/${target} comparisons  ${state.status}` +
    `  pending ${state.pending_callbacks}  failed ${state.failed_comparisons}` +
    `  iteration ${state.current_iteration ?? 0}`
  );
}

export function describeState(state: BatchState): string {
  const meta = state.processing_metadata;
  const lines = [
    `batch        ${state.batch_id}`,
    `status       ${state.status}${state.failure_reason ? ` (${state.failure_reason})` : ''}`,
    `essays       ${state.essay_count}`,
    `comparisons  submitted ${state.submitted_comparisons}, completed ${state.completed_comparisons}, failed ${state.failed_comparisons}, pending ${state.pending_callbacks}`,
    `budget       ${state.total_budget} (completion denominator ${state.completion_denominator ?? 'n/a'})`,
    `iteration    ${state.current_iteration ?? 0}`,
  ];
  if (meta) {
    lines.push(
      `coverage     ${meta.successful_pairs_count ?? '?'}/${meta.max_possible_pairs ?? '?'} pairs judged` +
        `${meta.unique_coverage_complete ? ' (complete)' : ''}, resampling passes ${meta.resampling_pass_count ?? 0}`,
    );
    if (meta.bt_se_summary) {
      const se = meta.bt_se_summary;
      lines.push(
        `standard err mean ${se.mean_se?.toFixed(3) ?? 'n/a'}, max ${se.max_se?.toFixed(3) ?? 'n/a'}, ` +
          `${se.mean_comparisons_per_item.toFixed(1)} comparisons per essay, ${se.isolated_items} isolated`,
      );
    }
    const reliability = meta.reliability;
    if (reliability && reliability.eap !== undefined && reliability.eap !== null) {
      lines.push(
        `reliability  ${reliability.eap.toFixed(3)} (EAP); SSR ${reliability.ssr?.toFixed(3) ?? 'n/a'}, split-half ${reliability.split_half?.toFixed(3) ?? 'n/a'}`,
      );
    }
    const order = meta.order_effect;
    if (order) {
      lines.push(
        `order effect ${order.estimate.toFixed(2)} logits for the essay shown first (95 % ${order.ci95[0].toFixed(2)} to ${order.ci95[1].toFixed(2)}; first shown won ${(100 * order.first_shown_win_rate).toFixed(1)} %)`,
      );
    }
    const grades = meta.grades;
    if (grades) {
      lines.push(
        `grades       ${grades.boundaries.map((b) => `${b.lower}|${b.upper} at ${b.score.toFixed(2)} ± ${b.se.toFixed(2)}`).join(', ')}`,
      );
    }
    const flags = meta.bt_quality_flags;
    if (flags) {
      const raised = Object.entries(flags)
        .filter(([, on]) => on === true)
        .map(([name]) => name);
      lines.push(`flags        ${raised.length > 0 ? raised.join(', ') : 'none'}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const RESULT_COLUMNS = ['rank', 'id', 'score', 'se', 'comparisons', 'wins'] as const;

/**
 * One row per essay, best first. With grades (docs/grades.md) three more kinds of column follow:
 * `grade` (the projected grade), `anchor_grade` (blank unless the essay is an anchor) and one
 * `p_<grade>` column per grade of the scale with that grade's probability.
 */
export function resultsCsv(results: readonly EssayResult[]): string {
  const sorted = [...results].sort((x, y) => x.rank - y.rank);
  const scale = Object.keys(sorted.find((r) => r.grade_probabilities)?.grade_probabilities ?? {});
  const graded = scale.length > 0;
  const header = [
    ...RESULT_COLUMNS,
    ...(graded ? ['grade', 'anchor_grade', ...scale.map((g) => `p_${g}`)] : []),
  ];
  const rows = sorted.map((r) =>
    [
      ...RESULT_COLUMNS.map((column) => csvCell(r[column])),
      ...(graded
        ? [
            csvCell(r.grade ?? ''),
            csvCell(r.anchor_grade ?? ''),
            ...scale.map((g) => csvCell(r.grade_probabilities?.[g] ?? '')),
          ]
        : []),
    ].join(','),
  );
  return `${[header.map(csvCell).join(','), ...rows].join('\n')}\n`;
}
