/**
 * Checks `cj score` against published reliability figures: Kinnear, Jones & Davies (2025),
 * "Comparative judgement as a research tool: a meta-analysis of application and reliability"
 * (https://doi.org/10.31219/osf.io/c9q3b_v1), whose public repository georgekinnear/cj-meta-analysis
 * holds each study's decisions (data/<session>.csv: judge, candidate_chosen, candidate_not_chosen)
 * and its SSR and median judge-split split-half correlation (data/01-meta-analysis-data.csv).
 * The data carry no licence, so they are not in this repository: point this script at a local
 * copy of the repository's data/ folder.
 *
 *   npm run -s bench:score-published -- --data /path/to/cj-meta-analysis/data [--splits 100]
 *     [--alpha A] [--only Session1,Session2] [--markdown]
 *
 * Prints JSON (one row per session, and the share within TOLERANCE), or a Markdown table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { winProbability } from '#domain/bradley-terry.ts';
import { scaleSeparationReliability } from '#domain/reliability.ts';
import { csvField, parseCsv } from '#shared/scoring/csv.ts';
import { type Decisions, readDecisions } from '#shared/scoring/decisions.ts';
import { scoreDecisions } from '#shared/scoring/score.ts';

/** Agreement the issue asks for, on both SSR and the split-half correlation. */
const TOLERANCE = 0.05;
/** The published figures used 100 judge splits (02-computation.R). */
const PUBLISHED_SPLITS = 100;

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    splits: { type: 'string' },
    alpha: { type: 'string' },
    only: { type: 'string' },
    markdown: { type: 'boolean' },
  },
});
if (values.data === undefined) {
  process.stderr.write('usage: bench/score-published.ts --data <cj-meta-analysis/data>\n');
  process.exit(2);
}
const dataDir = values.data;
const splits = values.splits === undefined ? PUBLISHED_SPLITS : Number(values.splits);
const alpha = values.alpha === undefined ? undefined : Number(values.alpha);
const only = values.only?.split(',');

const published = parseCsv(readFileSync(join(dataDir, '01-meta-analysis-data.csv'), 'utf8'));
const header = published[0]?.fields ?? [];
const col = (name: string) => header.indexOf(name);

interface Row {
  session: string;
  items: number;
  decisions: number;
  judges: number;
  published_ssr: number;
  ssr: number;
  /** SSR from the same scores with sirt's SE convention, 1/sqrt(diagonal of the information). */
  ssr_diagonal_se: number;
  published_split_half: number;
  split_half: number;
  /** Rows comparing an item with itself: `cj score` refuses them, so they are dropped here. */
  self_comparisons_dropped: number;
  split_by: string;
  seconds: number;
  error?: string;
}

const rows: Row[] = [];
for (const record of published.slice(1)) {
  const session = record.fields[col('judging_session')] ?? '';
  if (only && !only.includes(session)) continue;
  const publishedSsr = Number(record.fields[col('ssr')]);
  const publishedSplit = Number(record.fields[col('median_split_corr')]);
  let text: string;
  try {
    text = readFileSync(join(dataDir, `${session}.csv`), 'utf8');
  } catch {
    continue; // Decisions not shared for this session.
  }
  const started = performance.now();
  try {
    const { text: cleaned, dropped } = dropSelfComparisons(text);
    const decisions = readDecisions(cleaned);
    const report = scoreDecisions(decisions, { splits, ...(alpha ? { alpha } : {}) });
    rows.push({
      session,
      items: report.summary.items,
      decisions: report.summary.decisions,
      judges: report.summary.judges,
      published_ssr: publishedSsr,
      ssr: report.reliability.ssr,
      ssr_diagonal_se: diagonalSeSsr(decisions, new Map(report.items.map((i) => [i.id, i.score]))),
      published_split_half: publishedSplit,
      split_half: report.reliability.split_half_median,
      split_by: report.reliability.split_by,
      self_comparisons_dropped: dropped,
      seconds: (performance.now() - started) / 1000,
    });
  } catch (error) {
    rows.push({
      session,
      items: 0,
      decisions: 0,
      judges: 0,
      published_ssr: publishedSsr,
      ssr: Number.NaN,
      ssr_diagonal_se: Number.NaN,
      published_split_half: publishedSplit,
      split_half: Number.NaN,
      split_by: '',
      self_comparisons_dropped: 0,
      seconds: 0,
      error: (error as Error).message,
    });
  }
}

const scored = rows.filter((r) => r.error === undefined);
const within = (a: number, b: number) => Number.isFinite(a) && Math.abs(a - b) <= TOLERANCE;
const comparableSplit = scored.filter((r) => Number.isFinite(r.published_split_half));
const summary = {
  sessions: rows.length,
  scored: scored.length,
  refused: rows.length - scored.length,
  splits,
  alpha: alpha ?? 'default',
  tolerance: TOLERANCE,
  ssr_within: scored.filter((r) => within(r.ssr, r.published_ssr)).length,
  split_half_within: comparableSplit.filter((r) => within(r.split_half, r.published_split_half))
    .length,
  split_half_compared: comparableSplit.length,
  ssr_diagonal_se_within: scored.filter((r) => within(r.ssr_diagonal_se, r.published_ssr)).length,
  median_abs_ssr_diff: median(scored.map((r) => Math.abs(r.ssr - r.published_ssr))),
  median_abs_split_half_diff: median(
    comparableSplit.map((r) => Math.abs(r.split_half - r.published_split_half)),
  ),
};

function dropSelfComparisons(text: string): { text: string; dropped: number } {
  const records = parseCsv(text);
  const fields = records[0]?.fields ?? [];
  const chosen = fields.indexOf('candidate_chosen');
  const notChosen = fields.indexOf('candidate_not_chosen');
  const kept = records.filter(
    (r, i) => i === 0 || chosen === -1 || r.fields[chosen]?.trim() !== r.fields[notChosen]?.trim(),
  );
  return {
    text: kept.map((r) => r.fields.map(csvField).join(',')).join('\n'),
    dropped: records.length - kept.length,
  };
}

/** SSR with SE_i = 1/sqrt(Σ p(1−p) over item i's decisions), the convention of sirt::btm. */
function diagonalSeSsr(decisions: Decisions, scoreOf: Map<string, number>): number {
  const scores = decisions.itemIds.map((id) => scoreOf.get(id) ?? 0);
  const information = new Float64Array(scores.length);
  for (let k = 0; k < decisions.winners.length; k++) {
    const w = decisions.winners[k] as number;
    const l = decisions.losers[k] as number;
    const p = winProbability(scores[w] as number, scores[l] as number);
    information[w] = (information[w] as number) + p * (1 - p);
    information[l] = (information[l] as number) + p * (1 - p);
  }
  return scaleSeparationReliability(
    scores,
    Array.from(information, (v) => 1 / Math.sqrt(v)),
  );
}

function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

if (values.markdown) {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
  const lines = [
    '| study | items | decisions | judges | published SSR | ours | ours, diagonal SEs | published SHR | ours |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) =>
      r.error
        ? `| ${r.session} | refused: ${r.error} | | | ${f(r.published_ssr)} | | | ${f(r.published_split_half)} | |`
        : `| ${r.session}${r.self_comparisons_dropped ? ` (${r.self_comparisons_dropped} self-comparisons dropped)` : ''} | ${r.items} | ${r.decisions} | ${r.judges} | ${f(r.published_ssr)} | ${f(r.ssr)} | ${f(r.ssr_diagonal_se)} | ${f(r.published_split_half)} | ${f(r.split_half)} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n\n${JSON.stringify(summary)}\n`);
} else {
  process.stdout.write(`${JSON.stringify({ summary, rows }, null, 2)}\n`);
}
