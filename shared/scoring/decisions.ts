/**
 * Reads comparative-judgement decisions from CSV (one decision per row, with a header) into the
 * indexed form the Bradley–Terry fit takes, validating every row: each problem is reported with
 * the line it is on. Column names match case-insensitively and ignoring surrounding spaces; ids
 * are trimmed. Blank lines are skipped.
 */
import { type CsvRecord, InputError, parseCsv } from './csv.ts';

/** The column pairs recognised when no column is named, in order of preference. */
export const DEFAULT_COLUMN_SETS = [
  { winner: 'winner', loser: 'loser' },
  { winner: 'candidate_chosen', loser: 'candidate_not_chosen' },
] as const;

export const DEFAULT_JUDGE_COLUMN = 'judge';

/**
 * Column saying which item was shown first (on the left, or as "A"): its value is the id of the
 * winner or of the loser of that row; blank means not recorded. Used when present.
 */
export const DEFAULT_FIRST_COLUMN = 'shown_first';

export interface ColumnOptions {
  winnerCol?: string;
  loserCol?: string;
  /** A named judge column must exist; unnamed, a `judge` column is used when present. */
  judgeCol?: string;
  /** As judgeCol, for the shown-first column (default `shown_first`, when present). */
  firstCol?: string;
}

export interface Decisions {
  /** Item ids in order of first appearance; index = position. */
  readonly itemIds: string[];
  readonly winners: Int32Array;
  readonly losers: Int32Array;
  /** Judge ids in order of first appearance (empty without a judge column). */
  readonly judgeIds: string[];
  /** Judge index per decision (null without a judge column). */
  readonly judges: Int32Array | null;
  /**
   * Per decision: +1 when the winner was shown first, −1 when the loser was, 0 when not recorded
   * (null without a shown-first column).
   */
  readonly order: Int8Array | null;
  /** Line of the file each decision is on. */
  readonly lines: Int32Array;
  readonly columns: { winner: string; loser: string; judge: string | null; first: string | null };
}

function normalise(name: string): string {
  return name.trim().toLowerCase();
}

function findColumn(header: string[], name: string): number {
  const wanted = normalise(name);
  return header.findIndex((h) => normalise(h) === wanted);
}

function resolveColumns(
  header: CsvRecord,
  options: ColumnOptions,
): {
  winner: number;
  loser: number;
  judge: number;
  first: number;
  names: Decisions['columns'];
} {
  const fields = header.fields;
  const found = `found: ${fields.map((f) => JSON.stringify(f)).join(', ')}`;
  let winner: number;
  let loser: number;
  let names: { winner: string; loser: string };
  if (options.winnerCol !== undefined || options.loserCol !== undefined) {
    names = {
      winner: options.winnerCol ?? DEFAULT_COLUMN_SETS[0].winner,
      loser: options.loserCol ?? DEFAULT_COLUMN_SETS[0].loser,
    };
    winner = findColumn(fields, names.winner);
    loser = findColumn(fields, names.loser);
    const missing = [winner === -1 ? names.winner : null, loser === -1 ? names.loser : null]
      .filter((n) => n !== null)
      .map((n) => JSON.stringify(n));
    if (missing.length > 0) {
      throw new InputError(`missing column ${missing.join(' and ')} (${found})`, header.line);
    }
  } else {
    const set = DEFAULT_COLUMN_SETS.find(
      (s) => findColumn(fields, s.winner) !== -1 && findColumn(fields, s.loser) !== -1,
    );
    if (!set) {
      const expected = DEFAULT_COLUMN_SETS.map((s) => `${s.winner},${s.loser}`).join(' or ');
      throw new InputError(
        `missing columns: expected ${expected} (or name them with --winner-col/--loser-col; ${found})`,
        header.line,
      );
    }
    names = { winner: set.winner, loser: set.loser };
    winner = findColumn(fields, set.winner);
    loser = findColumn(fields, set.loser);
  }
  if (winner === loser) {
    throw new InputError(
      `winner and loser columns are the same column ${JSON.stringify(names.winner)}`,
      header.line,
    );
  }
  let judge = -1;
  let judgeName: string | null = null;
  if (options.judgeCol !== undefined) {
    judge = findColumn(fields, options.judgeCol);
    if (judge === -1) {
      throw new InputError(
        `missing column ${JSON.stringify(options.judgeCol)} (${found})`,
        header.line,
      );
    }
    judgeName = options.judgeCol;
  } else {
    judge = findColumn(fields, DEFAULT_JUDGE_COLUMN);
    if (judge !== -1) judgeName = DEFAULT_JUDGE_COLUMN;
  }
  if (judge !== -1 && (judge === winner || judge === loser)) {
    throw new InputError('the judge column is also the winner or loser column', header.line);
  }
  let first = -1;
  let firstName: string | null = null;
  if (options.firstCol !== undefined) {
    first = findColumn(fields, options.firstCol);
    if (first === -1) {
      throw new InputError(
        `missing column ${JSON.stringify(options.firstCol)} (${found})`,
        header.line,
      );
    }
    firstName = options.firstCol;
  } else {
    first = findColumn(fields, DEFAULT_FIRST_COLUMN);
    if (first !== -1) firstName = DEFAULT_FIRST_COLUMN;
  }
  if (first !== -1 && [winner, loser, judge].includes(first)) {
    throw new InputError(
      'the shown-first column is also the winner, loser or judge column',
      header.line,
    );
  }
  return {
    winner,
    loser,
    judge,
    first,
    names: { ...names, judge: judgeName, first: firstName },
  };
}

function isBlank(record: CsvRecord): boolean {
  return record.fields.every((f) => f.trim() === '');
}

/** Parses and validates a decisions file; throws InputError naming the problem and its line. */
export function readDecisions(text: string, options: ColumnOptions = {}): Decisions {
  const records = parseCsv(text).filter((r) => !isBlank(r));
  const header = records[0];
  if (header === undefined) throw new InputError('empty file: no header and no decisions', null);
  const columns = resolveColumns(header, options);
  const rows = records.length - 1;
  if (rows === 0) {
    throw new InputError('no decisions: the file has a header and no rows', header.line);
  }
  const width = header.fields.length;
  const itemIndex = new Map<string, number>();
  const judgeIndex = new Map<string, number>();
  const itemIds: string[] = [];
  const judgeIds: string[] = [];
  const winners = new Int32Array(rows);
  const losers = new Int32Array(rows);
  const judges = columns.judge === -1 ? null : new Int32Array(rows);
  const order = columns.first === -1 ? null : new Int8Array(rows);
  const lines = new Int32Array(rows);
  const indexOf = (map: Map<string, number>, ids: string[], id: string): number => {
    let index = map.get(id);
    if (index === undefined) {
      index = ids.length;
      map.set(id, index);
      ids.push(id);
    }
    return index;
  };
  for (let r = 1; r < records.length; r++) {
    const record = records[r] as CsvRecord;
    const { line, fields } = record;
    if (fields.length !== width) {
      throw new InputError(
        `expected ${width} fields as in the header, found ${fields.length}`,
        line,
      );
    }
    const winner = (fields[columns.winner] as string).trim();
    const loser = (fields[columns.loser] as string).trim();
    if (winner === '') throw new InputError(`blank winner id (${columns.names.winner})`, line);
    if (loser === '') throw new InputError(`blank loser id (${columns.names.loser})`, line);
    if (winner === loser) {
      throw new InputError(`item ${JSON.stringify(winner)} is compared with itself`, line);
    }
    const k = r - 1;
    winners[k] = indexOf(itemIndex, itemIds, winner);
    losers[k] = indexOf(itemIndex, itemIds, loser);
    lines[k] = line;
    if (judges !== null) {
      const judge = (fields[columns.judge] as string).trim();
      if (judge === '') throw new InputError(`blank judge id (${columns.names.judge})`, line);
      judges[k] = indexOf(judgeIndex, judgeIds, judge);
    }
    if (order !== null) {
      const first = (fields[columns.first] as string).trim();
      if (first === winner) order[k] = 1;
      else if (first === loser) order[k] = -1;
      else if (first !== '') {
        throw new InputError(
          `${columns.names.first} ${JSON.stringify(first)} is neither the winner nor the loser of this row`,
          line,
        );
      }
    }
  }
  return { itemIds, winners, losers, judgeIds, judges, order, lines, columns: columns.names };
}
