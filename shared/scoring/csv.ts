/**
 * A strict RFC 4180 CSV reader that remembers where each record starts, so every input error can
 * name its line. Fields are separated by commas, records by CRLF or LF; a field in double quotes
 * may hold commas, line breaks and doubled quotes (""). A UTF-8 byte-order mark is ignored.
 * Refused (with the line): an unterminated quoted field, text after a closing quote, and a quote
 * inside an unquoted field (almost always a broken export, so better refused than guessed at).
 */

/** Bad input file; `line` is the 1-based line of the file the problem is on (null: whole file). */
export class InputError extends Error {
  constructor(
    message: string,
    readonly line: number | null,
  ) {
    super(line === null ? message : `line ${line}: ${message}`);
    this.name = 'InputError';
  }
}

export interface CsvRecord {
  /** 1-based line on which the record starts. */
  readonly line: number;
  readonly fields: string[];
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

/** Parses CSV text into records (blank lines are kept as records with one empty field). */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const end = text.length;
  let line = 1;
  let pos = start;
  while (pos < end) {
    const recordLine = line;
    const fields: string[] = [];
    for (;;) {
      let value: string;
      if (text.charCodeAt(pos) === QUOTE) {
        const fieldLine = line;
        let parts = '';
        let from = pos + 1;
        for (;;) {
          const close = text.indexOf('"', from);
          if (close === -1) {
            throw new InputError('quoted field is never closed', fieldLine);
          }
          const chunk = text.slice(from, close);
          line += countLineBreaks(chunk);
          parts += chunk;
          if (text.charCodeAt(close + 1) === QUOTE) {
            parts += '"';
            from = close + 2;
          } else {
            pos = close + 1;
            break;
          }
        }
        value = parts;
        const next = text.charCodeAt(pos);
        if (pos < end && next !== COMMA && next !== LF && next !== CR) {
          throw new InputError('unexpected text after a closing quote', line);
        }
      } else {
        let stop = pos;
        while (stop < end) {
          const c = text.charCodeAt(stop);
          if (c === COMMA || c === LF || c === CR) break;
          if (c === QUOTE) {
            throw new InputError('quote inside an unquoted field (quote the whole field)', line);
          }
          stop++;
        }
        value = text.slice(pos, stop);
        pos = stop;
      }
      fields.push(value);
      if (pos < end && text.charCodeAt(pos) === COMMA) {
        pos++;
        continue;
      }
      break;
    }
    // At a record end: CRLF, LF, a lone CR, or the end of the text.
    if (text.charCodeAt(pos) === CR) pos++;
    if (text.charCodeAt(pos) === LF) pos++;
    if (pos <= end) line++;
    records.push({ line: recordLine, fields });
  }
  return records;
}

function countLineBreaks(chunk: string): number {
  let count = 0;
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk.charCodeAt(i);
    if (c === LF) count++;
    else if (c === CR && chunk.charCodeAt(i + 1) !== LF) count++;
  }
  return count;
}

/** Quotes a field for CSV output when it needs it (comma, quote, line break, outer spaces). */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
