import { describe, expect, it } from 'vitest';
import { decisionsCsv, generateDecisions, writeTempFile } from '#bench/support/decision-files.ts';
import { main } from '#cli/main.ts';
import { parseCsv } from '#shared/scoring/csv.ts';
import type { ScoreReport } from '#shared/scoring/score.ts';
import { captureIo } from '#test/helpers/cli-io.ts';

function sampleFile(): string {
  const { rows } = generateDecisions({ items: 12, decisions: 240, judges: 6, seed: 4 });
  return writeTempFile(decisionsCsv(rows));
}

describe('cj score', () => {
  it('--json prints items, reliability, judges and summary', async () => {
    // Prepare
    const file = sampleFile();
    const io = captureIo();

    // Act
    const code = await main(['score', file, '--json', '--splits', '4', '--seed', '9'], io);

    // Assess
    expect(code).toBe(0);
    const report = JSON.parse(io.out()) as ScoreReport;
    expect(report.items).toHaveLength(12);
    expect(Object.keys(report.items[0] ?? {})).toEqual([
      'id',
      'score',
      'se',
      'rank',
      'comparisons',
      'wins',
    ]);
    expect(report.reliability).toMatchObject({ splits: 4, split_by: 'judge' });
    expect(report.judges).toHaveLength(6);
    expect(Object.keys(report.judges[0] ?? {})).toEqual([
      'judge',
      'decisions',
      'infit',
      'outfit',
      'flagged',
    ]);
    expect(report.summary).toMatchObject({ items: 12, decisions: 240, judges: 6, components: 1 });
    expect(io.err()).toBe('');
  });

  it('--format csv prints one row per item with a header', async () => {
    // Prepare
    const file = sampleFile();
    const io = captureIo();

    // Act
    const code = await main(['score', file, '--format', 'csv', '--splits', '2'], io);

    // Assess
    expect(code).toBe(0);
    const records = parseCsv(io.out());
    expect(records[0]?.fields).toEqual(['rank', 'id', 'score', 'se', 'comparisons', 'wins']);
    expect(records).toHaveLength(13);
    expect(records.slice(1).map((r) => Number(r.fields[0]))).toEqual(
      [...records.slice(1).map((r) => Number(r.fields[0]))].sort((a, b) => a - b),
    );
  });

  it('prints a readable summary by default, with the same seed giving the same figures', async () => {
    // Prepare
    const file = sampleFile();
    const first = captureIo();
    const second = captureIo();

    // Act
    await main(['score', file, '--splits', '3'], first);
    await main(['score', file, '--splits', '3'], second);

    // Assess
    expect(first.out()).toMatch(/^items {8}12 /);
    expect(first.out()).toMatch(/split-half .* median over 3 random halves of the judges/);
    expect(first.out()).toBe(second.out());
  });

  it('uses named columns', async () => {
    // Prepare
    const file = writeTempFile('better,worse\na,b\nb,c\nc,a\na,c\n');
    const io = captureIo();

    // Act
    const code = await main(
      ['score', file, '--json', '--winner-col', 'better', '--loser-col', 'worse', '--splits', '1'],
      io,
    );

    // Assess
    expect(code).toBe(0);
    expect((JSON.parse(io.out()) as ScoreReport).reliability.split_by).toBe('decision');
  });

  it('warns on stderr when the comparison graph is disconnected, and still scores', async () => {
    // Prepare
    const file = writeTempFile('winner,loser\na,b\nb,a\nx,y\ny,x\n');
    const io = captureIo();

    // Act
    const code = await main(['score', file, '--json', '--splits', '1'], io);

    // Assess
    expect(code).toBe(0);
    expect(io.err()).toMatch(/warning: the comparison graph has 2 disconnected components/);
    expect((JSON.parse(io.out()) as ScoreReport).summary.components).toBe(2);
  });

  it.each([
    [
      'an item compared with itself',
      'winner,loser\na,b\nb,b\n',
      /line 3: item "b" is compared with itself/,
    ],
    ['a missing column', 'winner,judge\na,j\n', /line 1: missing columns/],
    ['an empty file', '', /empty file/],
    ['a blank id', 'winner,loser\na,\n', /line 2: blank loser id/],
  ])('refuses %s with exit 2, naming the file and the line', async (_name, text, message) => {
    // Prepare
    const file = writeTempFile(text);
    const io = captureIo();

    // Act
    const code = await main(['score', file], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.err()).toContain(file);
    expect(io.out()).toBe('');
  });

  it.each([
    [['--alpha', '0'], /--alpha: must be a positive number/],
    [['--splits', '1.5'], /--splits: must be a positive integer/],
    [['--seed', '0.5'], /--seed: must be an integer/],
    [['--format', 'xml'], /--format: expected json, csv or text/],
    [['--json', '--format', 'csv'], /--json: conflicts with --format csv/],
  ])('refuses bad flags %j with exit 2', async (flags, message) => {
    // Prepare
    const file = sampleFile();
    const io = captureIo();

    // Act
    const code = await main(['score', file, ...flags], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toMatch(message);
  });

  it('refuses a missing or unreadable file with exit 2', async () => {
    // Prepare
    const io = captureIo();
    const none = captureIo();

    // Act
    const code = await main(['score', '/nonexistent/decisions.csv'], io);
    const missing = await main(['score'], none);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toMatch(/cannot read file \(ENOENT\)/);
    expect(missing).toBe(2);
    expect(none.err()).toMatch(/<decisions.csv>: missing file/);
  });
});
