/**
 * Benchmark of `cj score`'s pipeline on a generated export: 100,000 decisions over 5,000 items by
 * 50 judges (defaults), read from CSV text and scored with SEs, SSR, judge-split split-half and
 * judge fit. Prints JSON with wall and CPU times (medians over --runs) and the reliability found,
 * for each --splits value (default 1 and 20: the fit alone vs the default report).
 *
 *   npm run -s bench:score -- [--items 5000] [--decisions 100000] [--judges 50] [--splits 1,20]
 *     [--runs 3] [--seed 1]
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { decisionsCsv, generateDecisions } from '#bench/support/decision-files.ts';
import { spearman } from '#domain/reliability.ts';
import { readDecisions } from '#shared/scoring/decisions.ts';
import { scoreDecisions } from '#shared/scoring/score.ts';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '5000' },
    decisions: { type: 'string', default: '100000' },
    judges: { type: 'string', default: '50' },
    splits: { type: 'string', default: '1,20' },
    runs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
  },
});
const items = Number(values.items);
const decisionCount = Number(values.decisions);
const judges = Number(values.judges);
const splitsList = values.splits.split(',').map(Number);
const runs = Number(values.runs);
const seed = Number(values.seed);

const generated = generateDecisions({ items, decisions: decisionCount, judges, seed });
const text = decisionsCsv(generated.rows);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

interface Sample {
  read: number[];
  score: number[];
  cpu: number[];
  report?: ReturnType<typeof scoreDecisions>;
  ids: string[];
}
const samples = new Map<number, Sample>(
  splitsList.map((k) => [k, { read: [], score: [], cpu: [], ids: [] }]),
);
// Interleaved: each run measures every --splits value once, so load changes hit all of them alike.
for (let r = 0; r < runs; r++) {
  for (const splits of splitsList) {
    const sample = samples.get(splits) as Sample;
    const cpuStart = process.cpuUsage();
    const t0 = performance.now();
    const decisions = readDecisions(text);
    const t1 = performance.now();
    sample.report = scoreDecisions(decisions, { splits, seed });
    const t2 = performance.now();
    const used = process.cpuUsage(cpuStart);
    sample.read.push((t1 - t0) / 1000);
    sample.score.push((t2 - t1) / 1000);
    sample.cpu.push((used.user + used.system) / 1e6);
    sample.ids = decisions.itemIds;
  }
}

const results = [...samples].map(([splits, sample]) => {
  const report = sample.report;
  if (report === undefined) throw new Error('--runs must be at least 1');
  const scoreOf = new Map(report.items.map((i) => [i.id, i.score]));
  return {
    splits,
    median_read_seconds: round(median(sample.read)),
    median_score_seconds: round(median(sample.score)),
    median_total_seconds: round(median(sample.read.map((x, i) => x + (sample.score[i] as number)))),
    median_cpu_seconds: round(median(sample.cpu)),
    prior: report.summary.prior,
    sweeps: report.summary.sweeps,
    eap: round(report.reliability.eap, 4),
    ssr: round(report.reliability.ssr, 4),
    split_half_median: round(report.reliability.split_half_median, 4),
    split_by: report.reliability.split_by,
    spearman_to_truth: round(
      spearman(
        sample.ids.map((id) => scoreOf.get(id) as number),
        sample.ids.map((id) => generated.truth.get(id) as number),
      ),
      4,
    ),
  };
});
process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'score',
      items,
      decisions: decisionCount,
      judges,
      runs,
      csv_megabytes: round(text.length / 1e6, 2),
      load_average_1m: round(loadavg()[0] ?? 0, 2),
      results,
    },
    null,
    2,
  )}\n`,
);
