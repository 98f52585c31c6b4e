/**
 * The JSONL reader behind every results file: lines split anywhere across chunks (also inside a
 * multi-byte character), blank lines skipped, a last line without newline kept, and an over-long
 * line skipped unread while the lines after it are still read.
 */
import { describe, expect, it } from 'vitest';
import { type JsonlLine, lineBytes, readJsonlLines } from '#shared/judges/batch/jsonl.ts';

async function* chunksOf(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let start = 0; start < bytes.length; start += size) {
    yield bytes.subarray(start, start + size);
  }
}

async function readAll(
  chunks: AsyncIterable<Uint8Array>,
  maxLineBytes = 1024,
): Promise<JsonlLine[]> {
  const lines: JsonlLine[] = [];
  for await (const line of readJsonlLines(chunks, maxLineBytes)) lines.push(line);
  return lines;
}

describe('readJsonlLines', () => {
  it.each([1, 2, 3, 7, 1000])(
    'reads the same lines whatever the chunk size (%i bytes)',
    async (size) => {
      // Prepare: "é" and "✓" are multi-byte, so small chunks cut them in half.
      const text = '{"a":"é"}\n\n{"b":"✓✓"}\r\n   \n{"c":3}';

      // Act
      const lines = await readAll(chunksOf(text, size));

      // Assess
      expect(lines).toEqual([
        { position: 0, text: '{"a":"é"}' },
        { position: 1, text: '{"b":"✓✓"}' },
        { position: 2, text: '{"c":3}' },
      ]);
    },
  );

  it('skips an over-long line unread and goes on with the next one', async () => {
    // Prepare
    const long = `{"pad":"${'x'.repeat(100)}"}`;
    const text = `{"a":1}\n${long}\n{"b":2}\n`;

    // Act
    const lines = await readAll(chunksOf(text, 16), 50);

    // Assess
    expect(lines).toEqual([
      { position: 0, text: '{"a":1}' },
      { position: 1, tooLong: true, bytes: long.length },
      { position: 2, text: '{"b":2}' },
    ]);
  });

  it('counts a line in UTF-8 bytes plus its separator', () => {
    // Act + Assess
    expect(lineBytes('{"a":"é"}')).toBe(11);
  });
});
