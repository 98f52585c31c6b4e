/**
 * The report a person opens, in a real headless browser (Debian's chromium through playwright-core):
 * a batch run on the cloud with the CLI (`cj submit`, `cj wait`), then `cj report`. The page loads
 * with no request beyond its own file, draws one scale-plot mark per essay and one bar per wave,
 * and its ranking table says exactly what `cj results` says. Screenshots go to CJ_SCREENSHOT_DIR
 * (default `.test-results/screenshots`; `docs/images` refreshes the README's).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '#cli/main.ts';
import { launchBrowser } from '#test/helpers/browser.ts';
import { captureIo } from '#test/helpers/cli-io.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { integrationTarget } from '#test/helpers/integration-target.ts';

const ESSAY_COUNT = 24;
const SCREENSHOT_DIR = resolve(process.env.CJ_SCREENSHOT_DIR ?? '.test-results/screenshots');

describe('cj report in a browser', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows one mark per essay, one bar per wave, and the ranking of cj results', async () => {
    // Prepare: a batch through the CLI, as a user runs one.
    const { api } = await integrationTarget();
    const dir = mkdtempSync(join(tmpdir(), 'cj-report-page-'));
    const essays = join(dir, 'essays.jsonl');
    writeFileSync(
      essays,
      `${makeEssays(ESSAY_COUNT, { seed: 21, qualitySd: 2 })
        .map((essay) => JSON.stringify(essay))
        .join('\n')}\n`,
    );
    const env = { CJ_API_URL: api.baseUrl };
    const submit = captureIo(env, { cwd: dir });
    expect(
      await main(
        [
          'submit',
          essays,
          '--json',
          '--mock-profile',
          'realistic',
          '--mock-latency-ms',
          '20',
          '--mock-seed',
          '21',
        ],
        submit,
      ),
    ).toBe(0);
    const batchId = (JSON.parse(submit.out()) as { batch_id: string }).batch_id;
    const wait = captureIo(env, { cwd: dir });
    expect(await main(['wait', batchId, '--json', '--poll-ms', '250'], wait)).toBe(0);
    const final = JSON.parse(wait.out()) as { current_iteration: number };
    const results = captureIo(env, { cwd: dir });
    expect(await main(['results', batchId, '--format', 'csv'], results)).toBe(0);
    const report = captureIo(env, { cwd: dir });
    expect(await main(['report', batchId, '--out', 'report.html'], report)).toBe(0);
    const requests: string[] = [];
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('request', (request) => requests.push(request.url()));

    // Act
    await page.goto(pathToFileURL(report.out().trim()).href);
    const marks = await page.locator('#scale-plot g.essay').count();
    const markIds = await page
      .locator('#scale-plot g.essay')
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-id')));
    const bars = await page.locator('#wave-chart g.wave').count();
    const table = await page
      .locator('#ranking tbody tr')
      .evaluateAll((rows) =>
        rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '')),
      );
    const reading = await page.locator('#reliability-reading').textContent();
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'report.png'), fullPage: false });
    await page.close();

    // Assess
    expect(requests).toEqual([pathToFileURL(report.out().trim()).href]);
    expect(marks).toBe(ESSAY_COUNT);
    expect(bars).toBe(final.current_iteration);
    const csv = results
      .out()
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));
    expect(new Set(markIds)).toEqual(new Set(csv.map((row) => row[1])));
    // rank, id, score, se, 95 % low, 95 % high, comparisons, wins — as cj results prints them.
    expect(
      table.map(([rank, id, score, se, , , comparisons, wins]) => [
        rank,
        id,
        score,
        se,
        comparisons,
        wins,
      ]),
    ).toEqual(
      csv.map(([rank, id, score, se, comparisons, wins]) => [
        rank,
        id,
        Number(score).toFixed(3),
        Number(se).toFixed(3),
        comparisons,
        wins,
      ]),
    );
    expect(reading).toMatch(
      /^(EAP reliability|split-half|SSR) -?\d\.\d\d: (very high|high|moderate|low|very low)\./,
    );
  });
});
