/**
 * Factories for `cj score` tests and benchmarks: decision CSV files written by hand or generated
 * from a known truth in the shape of real CJ exports (judge, candidate_chosen, candidate_not_chosen).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normal, seededRandom } from '#domain/random.ts';
import { csvField } from '#shared/scoring/csv.ts';

export interface DecisionRow {
  judge: string;
  winner: string;
  loser: string;
  /** Id of the item shown first (with `positionBias`). */
  shownFirst?: string;
}

export interface GeneratedDecisions {
  rows: DecisionRow[];
  /** True score of each item id. */
  truth: Map<string, number>;
  /** Judges that decide at random. */
  erratic: Set<string>;
}

export interface GenerateOptions {
  items: number;
  decisions: number;
  judges: number;
  seed: number;
  /** SD of the true scores (logits). Default 1.5. */
  sd?: number;
  /** This many judges (the last ones) toss a coin instead of judging. Default 0. */
  erraticJudges?: number;
  /**
   * Logit bonus of the item shown first (the first drawn of each pair); the rows then say which
   * item was shown first. Default: no bias, order not recorded.
   */
  positionBias?: number;
}

/**
 * Decisions from a Bradley–Terry truth: each decision picks a judge and a pair of distinct items
 * uniformly at random; an ordinary judge prefers i over j with probability σ(θ_i − θ_j).
 */
export function generateDecisions(options: GenerateOptions): GeneratedDecisions {
  const rng = seededRandom(options.seed);
  const sd = options.sd ?? 1.5;
  const ids = Array.from({ length: options.items }, (_, i) => `item-${i + 1}`);
  const judges = Array.from({ length: options.judges }, (_, j) => `judge-${j + 1}`);
  const erratic = new Set(judges.slice(options.judges - (options.erraticJudges ?? 0)));
  const truth = new Map(ids.map((id) => [id, sd * normal(rng)]));
  const rows: DecisionRow[] = [];
  for (let k = 0; k < options.decisions; k++) {
    const judge = judges[Math.floor(rng() * judges.length)] as string;
    const i = Math.floor(rng() * ids.length);
    let j = Math.floor(rng() * (ids.length - 1));
    if (j >= i) j++;
    const a = ids[i] as string;
    const b = ids[j] as string;
    const bias = options.positionBias ?? 0;
    const p = erratic.has(judge)
      ? 0.5
      : 1 / (1 + Math.exp((truth.get(b) as number) - (truth.get(a) as number) - bias));
    const row = rng() < p ? { judge, winner: a, loser: b } : { judge, winner: b, loser: a };
    rows.push(options.positionBias === undefined ? row : { ...row, shownFirst: a });
  }
  return { rows, truth, erratic };
}

/** CSV text with the given column names (default the cj-meta-analysis export's). */
export function decisionsCsv(
  rows: readonly DecisionRow[],
  columns: { judge?: string | null; winner?: string; loser?: string } = {},
): string {
  const judge = columns.judge === undefined ? 'judge' : columns.judge;
  const winner = columns.winner ?? 'candidate_chosen';
  const loser = columns.loser ?? 'candidate_not_chosen';
  const first = rows.some((r) => r.shownFirst !== undefined);
  const header = [
    ...(judge === null ? [] : [judge]),
    winner,
    loser,
    ...(first ? ['shown_first'] : []),
  ];
  const lines = rows.map((r) =>
    [
      ...(judge === null ? [] : [r.judge]),
      r.winner,
      r.loser,
      ...(first ? [r.shownFirst ?? ''] : []),
    ]
      .map(csvField)
      .join(','),
  );
  return `${[header.join(','), ...lines].join('\n')}\n`;
}

/** Writes text to a fresh temporary folder and returns the file's path. */
export function writeTempFile(text: string, name = 'decisions.csv'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cj-score-')), name);
  writeFileSync(file, text);
  return file;
}
