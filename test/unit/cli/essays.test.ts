import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '#cli/errors.ts';
import { loadEssays } from '#cli/essays.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'cj-essays-'));
}

describe('loadEssays from a folder', () => {
  it('reads .txt and .md files with the file name as id and ignores other files', () => {
    // Prepare
    const dir = tempDir();
    writeFileSync(join(dir, 'b.md'), 'second');
    writeFileSync(join(dir, 'a.txt'), 'first');
    writeFileSync(join(dir, 'notes.json'), '{}');
    mkdirSync(join(dir, 'sub.txt'));

    // Act
    const essays = loadEssays(dir, '/');

    // Assess
    expect(essays).toEqual([
      { id: 'a', text: 'first' },
      { id: 'b', text: 'second' },
    ]);
  });

  it('rejects two files that give the same id', () => {
    // Prepare
    const dir = tempDir();
    writeFileSync(join(dir, 'a.txt'), 'one');
    writeFileSync(join(dir, 'a.md'), 'two');

    // Act
    const load = () => loadEssays(dir, '/');

    // Assess
    expect(load).toThrow(/essay id "a" is also given by a\.md/);
  });

  it('rejects a folder without essays', () => {
    // Prepare
    const dir = tempDir();

    // Act
    const load = () => loadEssays(dir, '/');

    // Assess
    expect(load).toThrow(/no \.txt or \.md files/);
  });
});

describe('loadEssays from JSONL', () => {
  it('reads id, text and metadata and skips blank lines', () => {
    // Prepare
    const dir = tempDir();
    const lines = [
      JSON.stringify({ id: 'x', text: 'alpha', metadata: { quality: 1.5 } }),
      '',
      JSON.stringify({ id: 'y', text: 'beta', anchor_grade: 'B' }),
    ];
    writeFileSync(join(dir, 'set.jsonl'), `${lines.join('\n')}\n`);

    // Act
    const essays = loadEssays('set.jsonl', dir);

    // Assess
    expect(essays).toEqual([
      { id: 'x', text: 'alpha', metadata: { quality: 1.5 } },
      { id: 'y', text: 'beta', anchor_grade: 'B' },
    ]);
  });

  it.each([
    ['{"id": "a", "text": "secret words"', ':1', 'not valid JSON'],
    ['{"text": "secret words"}', ':1 id', 'non-empty string'],
    ['{"id": "a", "text": 3}', ':1 text', 'expected a string'],
    ['{"id": "a", "text": "secret words", "metadata": 5}', ':1 metadata', 'expected an object'],
    ['[1, 2]', ':1', 'expected an object'],
    ['{"id": "a", "text": "secret words", "anchor_grade": 5}', ':1 anchor_grade', 'a string'],
  ])('names the line and field of %s without quoting essay text', (line, where, text) => {
    // Prepare
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.jsonl'), `${line}\n`);

    // Act
    let error: unknown;
    try {
      loadEssays('bad.jsonl', dir);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).subject).toBe(`${join(dir, 'bad.jsonl')}${where}`);
    expect((error as UsageError).message).toContain(text);
    expect((error as UsageError).message).not.toContain('secret words');
  });

  it('rejects a missing path naming it', () => {
    // Prepare
    const missing = 'does-not-exist.jsonl';

    // Act
    const load = () => loadEssays(missing, tempDir());

    // Assess
    expect(load).toThrow(/does-not-exist\.jsonl: no such file or folder/);
  });
});
