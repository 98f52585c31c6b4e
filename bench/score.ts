/**
 * Benchmark of `cj score`'s pipeline on a generated export: 100,000 decisions over 5,000 items by
 * 50 judges (defaults), read from CSV text and scored with SEs, SSR, judge-split split-half and
 * judge fit. Prints JSON with per-stage wall times (median over --runs) and the reliability found.
 *
 *   npm run -s bench:score -- [--items 5000] [--decisions 100000] [--judges 50] [--splits 20]
 *     [--runs 3] [--seed 1]
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { spearman } from '#domain/reliability.ts';
import { readDecisions } from '#shared/scoring/decisions.ts';
import { scoreDecisions } from '#shared/scoring/score.ts';
import { decisionsCsv, generateDecisions } from '#test/helpers/decision-files.ts';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '5000' },
    decisions: { type: 'string', default: '100000' },
    judges: { type: 'string', default: '50' },
    splits: { type: 'string', default: '20' },
    runs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
  },
});
const items = Number(values.items);
const decisionCount = Number(values.decisions);
const judges = Number(values.judges);
const splits = Number(values.splits);
const runs = Number(values.runs);
const seed = Number(values.seed);

const generated = generateDecisions({ items, decisions: decisionCount, judges, seed });
const text = decisionsCsv(generated.rows);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

const read: number[] = [];
const score: number[] = [];
const cpu: number[] = [];
let last: ReturnType<typeof scoreDecisions> | undefined;
let lastIds: string[] = [];
for (let r = 0; r < runs; r++) {
  const cpuStart = process.cpuUsage();
  const t0 = performance.now();
  const decisions = readDecisions(text);
  const t1 = performance.now();
  last = scoreDecisions(decisions, { splits, seed });
  const t2 = performance.now();
  const used = process.cpuUsage(cpuStart);
  read.push((t1 - t0) / 1000);
  score.push((t2 - t1) / 1000);
  cpu.push((used.user + used.system) / 1e6);
  lastIds = decisions.itemIds;
}
if (last === undefined) throw new Error('--runs must be at least 1');
const scoreOf = new Map(last.items.map((i) => [i.id, i.score]));
const recovery = spearman(
  lastIds.map((id) => scoreOf.get(id) as number),
  lastIds.map((id) => generated.truth.get(id) as number),
);
process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'score',
      items,
      decisions: decisionCount,
      judges,
      splits,
      runs,
      csv_megabytes: Number((text.length / 1e6).toFixed(2)),
      median_read_seconds: Number(median(read).toFixed(3)),
      median_score_seconds: Number(median(score).toFixed(3)),
      median_total_seconds: Number(median(read.map((x, i) => x + (score[i] as number))).toFixed(3)),
      median_cpu_seconds: Number(median(cpu).toFixed(3)),
      se_method: last.summary.se_method,
      ssr: Number(last.reliability.ssr.toFixed(4)),
      split_half_median: Number(last.reliability.split_half_median.toFixed(4)),
      split_by: last.reliability.split_by,
      spearman_to_truth: Number(recovery.toFixed(4)),
      load_average_1m: Number((loadavg()[0] ?? 0).toFixed(2)),
    },
    null,
    2,
  )}\n`,
);
