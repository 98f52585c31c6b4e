/** Renderings of a score report: CSV (one row per item) and a short human-readable summary. */
import { csvField } from './csv.ts';
import { ITEM_CSV_COLUMNS, type ScoreReport } from './score.ts';

export function itemsCsv(report: ScoreReport): string {
  const rows = report.items.map((item) =>
    ITEM_CSV_COLUMNS.map((column) => csvField(item[column])).join(','),
  );
  return `${[ITEM_CSV_COLUMNS.join(','), ...rows].join('\n')}\n`;
}

function fixed(value: number, digits = 3): string {
  return value.toFixed(digits);
}

/** The summary a person reads first; every figure is also in the JSON. */
export function reportText(report: ScoreReport, topItems: number): string {
  const { summary: s, reliability: r } = report;
  const lines = [
    `items        ${s.items} (${s.items_all_wins} won every comparison, ${s.items_all_losses} lost every comparison)`,
    `decisions    ${s.decisions}${s.judges > 0 ? ` by ${s.judges} judges` : ''}`,
    `components   ${s.components}${s.components > 1 ? ' (disconnected: scores are not on one scale)' : ''}`,
    `reliability  ${fixed(r.eap)} (EAP, of the posterior scores below)`,
    `SSR          ${fixed(r.ssr)} (as published CJ studies compute it)`,
    `split-half   ${fixed(r.split_half_median)} median over ${r.splits} random halves of the ${r.split_by === 'judge' ? 'judges' : 'decisions'} (Spearman–Brown ${fixed(r.split_half_spearman_brown)})`,
  ];
  const order = report.order_effect;
  if (order !== null) {
    lines.push(
      `order effect ${fixed(order.estimate)} logits for the item shown first (95 % interval ${fixed(order.ci95[0])} to ${fixed(order.ci95[1])}; it won ${fixed(100 * order.first_shown_win_rate, 1)} % of ${order.decisions} decisions)`,
    );
  }
  if (report.judges.length > 0) {
    const flagged = report.judges.filter((j) => j.flagged);
    lines.push(
      `misfit       ${flagged.length} of ${report.judges.length} judges flagged (${report.judge_flag.rule}${report.judge_flag.infit_threshold === null ? '' : `: ${fixed(report.judge_flag.infit_threshold)}`})`,
    );
    for (const j of flagged) {
      lines.push(
        `             ${j.judge}: infit ${fixed(j.infit)}, outfit ${fixed(j.outfit)}, ${j.decisions} decisions`,
      );
    }
  }
  const shown = report.items.slice(0, topItems);
  const idWidth = Math.max(2, ...shown.map((i) => i.id.length));
  lines.push(
    '',
    `${'rank'.padStart(5)}  ${'id'.padEnd(idWidth)}  ${'score'.padStart(8)}  ${'se'.padStart(6)}  comparisons  wins`,
    ...shown.map(
      (i) =>
        `${String(i.rank).padStart(5)}  ${i.id.padEnd(idWidth)}  ${fixed(i.score).padStart(8)}  ${fixed(i.se).padStart(6)}  ${String(i.comparisons).padStart(11)}  ${String(i.wins).padStart(4)}`,
    ),
  );
  if (report.items.length > shown.length) {
    lines.push(`(${report.items.length - shown.length} more: use --json or --format csv)`);
  }
  return `${lines.join('\n')}\n`;
}
