/**
 * The local dashboard a person watches, in a real headless browser (Debian's chromium through
 * playwright-core): a batch submitted with the CLI to the local cloud shows up with its pending
 * callbacks while it runs, then with its terminal status, full progress and none pending; its
 * report link opens the batch's report. Screenshots go to CJ_SCREENSHOT_DIR (default
 * `.test-results/screenshots`; `docs/images` refreshes the README's).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDashboard, startDashboard } from '#cli/dashboard.ts';
import { main } from '#cli/main.ts';
import { launchBrowser } from '#test/helpers/browser.ts';
import { captureIo } from '#test/helpers/cli-io.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { integrationTarget } from '#test/helpers/integration-target.ts';
import { waitFor } from '#test/helpers/local-cloud-fixtures.ts';

const ESSAY_COUNT = 16;
const SCREENSHOT_DIR = resolve(process.env.CJ_SCREENSHOT_DIR ?? '.test-results/screenshots');

describe('cj dashboard in a browser', () => {
  let browser: Browser;
  let dashboard: RunningDashboard | undefined;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await dashboard?.close();
    await browser?.close();
  });

  it("shows a running batch's pending callbacks, then its terminal status, and links its report", async () => {
    // Prepare: the dashboard over the local cloud, and a batch whose judge takes its time.
    const target = await integrationTarget();
    dashboard = await startDashboard({
      client: target.api,
      port: 0,
      refreshMs: 500,
      io: { stderr: () => undefined },
    });
    const dir = mkdtempSync(join(tmpdir(), 'cj-dashboard-page-'));
    const essays = join(dir, 'essays.jsonl');
    writeFileSync(
      essays,
      `${makeEssays(ESSAY_COUNT, { seed: 8 })
        .map((essay) => JSON.stringify(essay))
        .join('\n')}\n`,
    );
    const env = { CJ_API_URL: target.api.baseUrl };
    const page = await browser.newPage({ viewport: { width: 1280, height: 360 } });
    await page.goto(dashboard.url);

    // Act: submit, watch it run, then watch it end.
    const submit = captureIo(env, { cwd: dir });
    expect(
      await main(
        ['submit', essays, '--json', '--mock-latency-ms', '1500', '--mock-seed', '8'],
        submit,
      ),
    ).toBe(0);
    const batchId = (JSON.parse(submit.out()) as { batch_id: string }).batch_id;
    const row = page.locator(`#batches-table tr[data-batch="${batchId}"]`);
    // One read of the page in one turn of its event loop: the dashboard redraws every 500 ms,
    // and separate reads could mix two refreshes (pending 0 between two waves).
    const rowState = () =>
      page.locator('body').evaluate((body, id) => {
        const row = body.querySelector(`#batches-table tr[data-batch="${id}"]`);
        return {
          status: row?.getAttribute('data-status') ?? null,
          pending: Number(row?.querySelector('.pending')?.textContent ?? 0),
          progress: Number(row?.querySelector('.bar')?.getAttribute('aria-valuenow') ?? 0),
          totalPending: Number(body.querySelector('#total-pending')?.textContent ?? 0),
        };
      }, batchId);
    // Running, with callbacks pending and some comparisons already back (the README's picture).
    const running = await waitFor(
      async () => {
        const state = await rowState();
        return state.status === 'RUNNING' && state.pending > 0 && state.progress > 0
          ? state
          : undefined;
      },
      'a running row with callbacks pending and some back',
      120_000,
    );
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard.png'), fullPage: true });
    const ended = await waitFor(
      async () => {
        const state = await rowState();
        return state.status !== null && state.status !== 'RUNNING' ? state : undefined;
      },
      'the row in a terminal status',
      240_000,
    );
    const status = captureIo(env, { cwd: dir });
    await main(['status', batchId, '--json'], status);
    await row.locator('a', { hasText: 'report' }).click();
    await page.waitForSelector('#scale-plot');
    const marks = await page.locator('#scale-plot g.essay').count();
    await page.close();

    // Assess
    expect(running.status).toBe('RUNNING');
    expect(running.pending).toBeGreaterThan(0);
    expect(running.totalPending).toBeGreaterThanOrEqual(running.pending);
    expect(ended.status).toBe((JSON.parse(status.out()) as { status: string }).status);
    expect(ended.status).toMatch(/^COMPLETE_/);
    expect(ended.pending).toBe(0);
    expect(ended.progress).toBe(100);
    expect(marks).toBe(ESSAY_COUNT);
  });
});
