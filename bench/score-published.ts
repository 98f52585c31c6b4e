/**
 * Checks `cj score` against published reliability figures: Kinnear, Jones & Davies (2025),
 * "Comparative judgement as a research tool: a meta-analysis of application and reliability"
 * (https://doi.org/10.31219/osf.io/c9q3b_v1), whose public repository georgekinnear/cj-meta-analysis
 * holds each study's decisions (data/<session>.csv: judge, candidate_chosen, candidate_not_chosen)
 * and its SSR and median judge-split split-half correlation (data/01-meta-analysis-data.csv).
 * The data carry no licence, so they are not in this repository: the script fetches the
 * repository at a pinned commit into .cache/ (bench/support/published-data.ts), or reads a copy
 * of its data/ folder given with --data. Where it can do neither it says why and skips (exit 0).
 *
 *   npm run -s bench:score-published -- [--data /path/to/cj-meta-analysis/data] [--splits 100]
 *     [--only Session1,Session2] [--candidates] [--markdown]
 *
 * Scores every session with `cj score`'s defaults and reports, for SSR and for the split-half,
 * the median absolute difference from the published figure and the share within TOLERANCE.
 * `--candidates` also scores the conventions `cj score` could have used instead (the weak ridge
 * α = 0.01 with SEs of the centred scores — the former default — or with information SEs; the
 * EAP reliability of the posterior in place of SSR; ridge half fits for the split-half), which is
 * how the defaults were chosen (docs/score.md). Prints JSON (one row per session and the
 * summary), or a Markdown table and the summary.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { obtainPublishedData } from '#bench/support/published-data.ts';
import { fitBradleyTerry, winProbability } from '#domain/bradley-terry.ts';
import { scaleSeparationReliability, splitHalfReliability } from '#domain/reliability.ts';
import { csvField, parseCsv } from '#shared/scoring/csv.ts';
import { type Decisions, readDecisions } from '#shared/scoring/decisions.ts';
import { scoreDecisions } from '#shared/scoring/score.ts';

/** Agreement asked for, on both SSR and the split-half correlation. */
const TOLERANCE = 0.05;
/** The published figures used 100 judge splits (02-computation.R). */
const PUBLISHED_SPLITS = 100;
/** The former default prior precision, scored as a candidate. */
const RIDGE_ALPHA = 0.01;

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    splits: { type: 'string' },
    only: { type: 'string' },
    candidates: { type: 'boolean' },
    markdown: { type: 'boolean' },
  },
});
const obtained = obtainPublishedData({
  ...(values.data === undefined ? {} : { given: values.data }),
  cacheRoot: fileURLToPath(new URL('../.cache', import.meta.url)),
});
if (!obtained.ok) {
  process.stderr.write(`bench:score-published: skipped: ${obtained.reason}\n`);
  process.stdout.write(`${JSON.stringify({ skipped: obtained.reason })}\n`);
  process.exit(0);
}
const { dataDir } = obtained;
if (obtained.source === 'fetched') {
  process.stderr.write(`bench:score-published: fetched the published data into ${dataDir}\n`);
}
const splits = values.splits === undefined ? PUBLISHED_SPLITS : Number(values.splits);
const only = values.only?.split(',');

const published = parseCsv(readFileSync(join(dataDir, '01-meta-analysis-data.csv'), 'utf8'));
const header = published[0]?.fields ?? [];
const col = (name: string) => header.indexOf(name);

interface Candidates {
  /** SSR of the weak-ridge MAP with SEs of the centred scores (the former default). */
  ssr_ridge_centred: number;
  /** The same scores with information SEs 1/√(Σ p(1 − p)). */
  ssr_ridge_information: number;
  /** Judge-split split-half with weak-ridge half fits (the former default). */
  split_half_ridge: number;
}

interface Row {
  session: string;
  items: number;
  decisions: number;
  judges: number;
  published_ssr: number;
  ssr: number;
  /** EAP reliability of the posterior scores (the engine's own figure; not published). */
  eap: number;
  published_split_half: number;
  split_half: number;
  candidates?: Candidates;
  /** Rows comparing an item with itself: `cj score` refuses them, so they are dropped here. */
  self_comparisons_dropped: number;
  split_by: string;
  seconds: number;
  error?: string;
}

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

function candidatesOf(decisions: Decisions): Candidates {
  const data = {
    n: decisions.itemIds.length,
    winners: decisions.winners,
    losers: decisions.losers,
  };
  const ridge = fitBradleyTerry(data, { alpha: RIDGE_ALPHA, seSeed: 1 });
  const information = new Float64Array(data.n);
  for (let k = 0; k < data.winners.length; k++) {
    const w = data.winners[k] as number;
    const l = data.losers[k] as number;
    const p = winProbability(ridge.scores[w] as number, ridge.scores[l] as number);
    information[w] = (information[w] as number) + p * (1 - p);
    information[l] = (information[l] as number) + p * (1 - p);
  }
  const byJudge = decisions.judges !== null && decisions.judgeIds.length >= 2;
  return {
    ssr_ridge_centred: scaleSeparationReliability(
      ridge.scores,
      ridge.se ?? new Float64Array(data.n),
    ),
    ssr_ridge_information: scaleSeparationReliability(
      ridge.scores,
      Array.from(information, (v) => 1 / Math.sqrt(v)),
    ),
    split_half_ridge: splitHalfReliability(data, {
      splits,
      seed: 1,
      estimator: 'ridge',
      alpha: RIDGE_ALPHA,
      ...(byJudge ? { groups: decisions.judges as Int32Array } : {}),
    }).median,
  };
}

function median(list: number[]): number {
  const sorted = list.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
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
    const report = scoreDecisions(decisions, { splits });
    rows.push({
      session,
      items: report.summary.items,
      decisions: report.summary.decisions,
      judges: report.summary.judges,
      published_ssr: publishedSsr,
      ssr: report.reliability.ssr,
      eap: report.reliability.eap,
      published_split_half: publishedSplit,
      split_half: report.reliability.split_half_median,
      ...(values.candidates ? { candidates: candidatesOf(decisions) } : {}),
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
      eap: Number.NaN,
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
const comparableSplit = scored.filter((r) => Number.isFinite(r.published_split_half));

/** Median |figure − published| and how many sessions lie within TOLERANCE. */
function agreement(
  rowsOf: Row[],
  figure: (r: Row) => number | undefined,
  publishedOf: (r: Row) => number,
) {
  const differences = rowsOf
    .map((r) => Math.abs((figure(r) ?? Number.NaN) - publishedOf(r)))
    .filter(Number.isFinite);
  const within = differences.filter((d) => d <= TOLERANCE).length;
  return {
    compared: differences.length,
    median_abs_difference: median(differences),
    within_tolerance: within,
    share_within_tolerance: differences.length === 0 ? Number.NaN : within / differences.length,
  };
}

const summary = {
  sessions: rows.length,
  scored: scored.length,
  refused: rows.length - scored.length,
  splits,
  tolerance: TOLERANCE,
  ssr: agreement(
    scored,
    (r) => r.ssr,
    (r) => r.published_ssr,
  ),
  split_half: agreement(
    comparableSplit,
    (r) => r.split_half,
    (r) => r.published_split_half,
  ),
  ...(values.candidates
    ? {
        candidates: {
          ssr_ridge_centred: agreement(
            scored,
            (r) => r.candidates?.ssr_ridge_centred,
            (r) => r.published_ssr,
          ),
          ssr_ridge_information: agreement(
            scored,
            (r) => r.candidates?.ssr_ridge_information,
            (r) => r.published_ssr,
          ),
          eap_in_place_of_ssr: agreement(
            scored,
            (r) => r.eap,
            (r) => r.published_ssr,
          ),
          split_half_ridge: agreement(
            comparableSplit,
            (r) => r.candidates?.split_half_ridge,
            (r) => r.published_split_half,
          ),
        },
      }
    : {}),
};

if (values.markdown) {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
  const lines = [
    '| study | items | decisions | judges | published SSR | cj score SSR | published SHR | cj score SHR | EAP reliability |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) =>
      r.error
        ? `| ${r.session} | refused: ${r.error} | | | ${f(r.published_ssr)} | | ${f(r.published_split_half)} | | |`
        : `| ${r.session}${r.self_comparisons_dropped ? ` (${r.self_comparisons_dropped} self-comparisons dropped)` : ''} | ${r.items} | ${r.decisions} | ${r.judges} | ${f(r.published_ssr)} | ${f(r.ssr)} | ${f(r.published_split_half)} | ${f(r.split_half)} | ${f(r.eap)} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n\n${JSON.stringify(summary)}\n`);
} else {
  process.stdout.write(`${JSON.stringify({ summary, rows }, null, 2)}\n`);
}
