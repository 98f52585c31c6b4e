/**
 * `cj report` against a real loopback HTTP API (the fake API: state, results, and no wave-history
 * route, as an API deployed before it had one) and `cj score --report` on a decisions file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decisionsCsv, generateDecisions, writeTempFile } from '#bench/support/decision-files.ts';
import { main } from '#cli/main.ts';
import { captureIo } from '#test/helpers/cli-io.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { type FakeApi, startFakeApi } from '#test/helpers/fake-api.ts';

function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(pattern)].length;
}

describe('cj report', () => {
  let api: FakeApi;
  let dir: string;

  beforeEach(async () => {
    api = await startFakeApi({ step: 50 });
    dir = mkdtempSync(join(tmpdir(), 'cj-report-'));
    const file = join(dir, 'essays.jsonl');
    writeFileSync(
      file,
      `${makeEssays(7)
        .map((e) => JSON.stringify(e))
        .join('\n')}\n`,
    );
    await main(['submit', file, '--budget', '20'], captureIo({ CJ_API_URL: api.url }));
    await main(['wait', 'batch-1', '--poll-ms', '5'], captureIo({ CJ_API_URL: api.url }));
  });

  afterEach(async () => {
    await api.close();
  });

  it('writes one HTML file with a mark and a row per essay and prints its path', async () => {
    // Prepare
    const io = captureIo({ CJ_API_URL: api.url }, { cwd: dir });

    // Act
    const code = await main(['report', 'batch-1', '--out', 'out/report.html'], io);

    // Assess
    expect(code).toBe(0);
    const path = join(dir, 'out', 'report.html');
    expect(io.out()).toBe(`${path}\n`);
    const html = readFileSync(path, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(count(html, /<g class="essay" data-id="/g)).toBe(7);
    expect(count(html, /<tr data-id="/g)).toBe(7);
    expect(html).toContain('This API serves no wave history');
  });

  it('names the file after the batch by default, and fails with exit 3 for an unknown batch', async () => {
    // Prepare
    const io = captureIo({ CJ_API_URL: api.url }, { cwd: dir });
    const missing = captureIo({ CJ_API_URL: api.url }, { cwd: dir });

    // Act
    const code = await main(['report', 'batch-1'], io);
    const missingCode = await main(['report', 'no-such-batch'], missing);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toBe(`${join(dir, 'report-batch-1.html')}\n`);
    expect(missingCode).toBe(3);
    expect(missing.err()).toContain('API error 404');
  });
});

describe('cj report of a running batch', () => {
  let api: FakeApi;

  beforeEach(async () => {
    api = await startFakeApi({ finalStatus: null, step: 2 });
  });

  afterEach(async () => {
    await api.close();
  });

  it('asks for no results and says the batch has no scores yet', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'cj-report-running-'));
    const file = join(dir, 'essays.jsonl');
    writeFileSync(
      file,
      `${makeEssays(4)
        .map((e) => JSON.stringify(e))
        .join('\n')}\n`,
    );
    await main(['submit', file, '--budget', '20'], captureIo({ CJ_API_URL: api.url }));
    const io = captureIo({ CJ_API_URL: api.url }, { cwd: dir });

    // Act
    const code = await main(['report', 'batch-1'], io);

    // Assess
    expect(code).toBe(0);
    const html = readFileSync(join(dir, 'report-batch-1.html'), 'utf8');
    expect(html).toContain('No scores yet');
    expect(html).toContain('RUNNING');
    expect(api.requests.some((request) => request.path.endsWith('/results'))).toBe(false);
  });
});

describe('cj score --report', () => {
  it('writes the same page with judge infit/outfit next to its usual output', async () => {
    // Prepare
    const { rows } = generateDecisions({ items: 12, decisions: 240, judges: 6, seed: 4 });
    const file = writeTempFile(decisionsCsv(rows));
    const out = join(mkdtempSync(join(tmpdir(), 'cj-score-report-')), 'score.html');
    const io = captureIo();

    // Act
    const code = await main(['score', file, '--splits', '2', '--report', out], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toContain('SSR');
    expect(io.err()).toContain(`cj score: report written to ${out}`);
    const html = readFileSync(out, 'utf8');
    expect(count(html, /<g class="essay" data-id="/g)).toBe(12);
    expect(count(html, /<tr data-judge="/g)).toBe(6);
    expect(html).toContain('Judge fit (infit and outfit)');
  });
});
