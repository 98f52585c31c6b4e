/**
 * JSONL in and out without holding a file in memory: result files are read line by line from a
 * byte stream (a provider's results file can be hundreds of MB), and request lines are counted in
 * bytes as they are produced, so a part never exceeds the provider's size limit.
 */

const NEWLINE = 0x0a;

/** One line of a JSONL stream: its 0-based position and text, or why it was skipped. */
export type JsonlLine =
  | { position: number; text: string }
  /** Longer than the reader accepts: its bytes were dropped without being decoded. */
  | { position: number; tooLong: true; bytes: number };

/**
 * Splits a byte stream into lines. Only the current line is buffered (at most `maxLineBytes`);
 * blank lines are skipped without a position, a final line without a newline is still read.
 * Splitting at 0x0A is safe for UTF-8: the byte never occurs inside a multi-byte character.
 */
export async function* readJsonlLines(
  chunks: AsyncIterable<Uint8Array>,
  maxLineBytes: number,
): AsyncGenerator<JsonlLine> {
  const decoder = new TextDecoder('utf-8');
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let overflow = false;
  let position = 0;

  const flush = (): JsonlLine | undefined => {
    const bytes = pendingBytes;
    const parts = pending;
    const tooLong = overflow;
    pending = [];
    pendingBytes = 0;
    overflow = false;
    if (tooLong) return { position: position++, tooLong: true, bytes };
    const text = decoder.decode(parts.length === 1 ? parts[0] : concat(parts, bytes)).trim();
    if (text === '') return undefined;
    return { position: position++, text };
  };

  const append = (slice: Uint8Array): void => {
    pendingBytes += slice.length;
    if (overflow) return;
    if (pendingBytes > maxLineBytes) {
      overflow = true;
      pending = [];
      return;
    }
    // Copy: the stream may reuse its chunk buffers.
    pending.push(slice.slice());
  };

  for await (const chunk of chunks) {
    let start = 0;
    for (let index = chunk.indexOf(NEWLINE); index !== -1; index = chunk.indexOf(NEWLINE, start)) {
      append(chunk.subarray(start, index));
      const line = flush();
      if (line) yield line;
      start = index + 1;
    }
    if (start < chunk.length) append(chunk.subarray(start));
  }
  if (pendingBytes > 0) {
    const line = flush();
    if (line) yield line;
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/** UTF-8 size of a line plus its separator (a newline in a file, a comma in a JSON array). */
export function lineBytes(line: string): number {
  return Buffer.byteLength(line, 'utf8') + 1;
}

/** Parses one JSONL line into an object; undefined for anything that is not a JSON object. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
