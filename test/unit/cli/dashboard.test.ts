/**
 * `cj dashboard`'s rows (pure) and its server over real loopback HTTP, against the fake API: the
 * rows follow a batch to its end through an API whose list fails every third read (one list read
 * per refresh, no read per batch), the report link
 * serves the batch's report, and polling gives up after the documented failures in a row.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '#cli/api.ts';
import { type RunningDashboard, startDashboard } from '#cli/dashboard.ts';
import { main } from '#cli/main.ts';
import { GaveUpError } from '#cli/retry.ts';
import {
  dashboardRows,
  renderDashboardPage,
  renderDashboardRows,
} from '#shared/report/dashboard.ts';
import { captureIo } from '#test/helpers/cli-io.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { type FakeApi, startFakeApi } from '#test/helpers/fake-api.ts';
import { makeBatchState } from '#test/helpers/report-factories.ts';

const FAST_RETRY = { maxConsecutiveFailures: 6, baseDelayMs: 5, maxDelayMs: 20 };

describe('the dashboard rows', () => {
  it('show status, progress toward the denominator and pending callbacks, newest first, with totals', () => {
    // Prepare
    const states = [
      makeBatchState({ batch_id: 'old-done', created_at: '2026-11-27T08:00:00.000Z' }),
      makeBatchState({
        batch_id: 'new-<running>',
        status: 'RUNNING',
        created_at: '2026-11-27T09:00:00.000Z',
        completed_comparisons: 30,
        failed_comparisons: 6,
        pending_callbacks: 14,
        completion_denominator: 120,
        finalized_at: null,
      }),
      makeBatchState({
        batch_id: 'failed',
        status: 'FAILED',
        failure_reason: 'no_successful_comparisons',
        created_at: '2026-11-27T07:00:00.000Z',
      }),
    ];

    // Act
    const rows = dashboardRows(states);
    const html = renderDashboardRows({
      rows,
      refreshedAt: '2026-11-27T09:01:02.000Z',
      retrying: null,
    });

    // Assess
    expect(rows.map((row) => [row.batchId, row.progress])).toEqual([
      ['new-<running>', 0.3],
      ['old-done', 1],
      ['failed', 1],
    ]);
    expect(html).toContain('<div class="value" id="total-pending">14</div>');
    expect(html).toContain('<div class="value" id="running">1</div>');
    expect(html).toContain('data-batch="new-&lt;running&gt;" data-status="RUNNING"');
    expect(html).toContain('36 / 120 (30 %)');
    expect(html).toContain('<td class="n pending">14</td>');
    expect(html).toContain('href="batches/new-%3Crunning%3E/report"');
    expect(html).toContain('FAILED (no_successful_comparisons)');
    expect(html).toContain('updated <time id="refreshed-at"');
    expect(html).not.toContain('<running>');
  });

  it('say when there is no batch yet, and what is being retried', () => {
    // Act
    const html = renderDashboardRows({
      rows: [],
      refreshedAt: null,
      retrying: { message: 'API error 500: boom', failures: 2, maxFailures: 6, nextInMs: 2000 },
    });

    // Assess
    expect(html).toContain('No batches on this cloud yet');
    expect(html).toContain(
      'API error 500: boom — retrying in 2.0 s (failure 2 in a row; gives up at 6)',
    );
    expect(html).toContain('waiting for the first read');
  });

  it('come in a page that refreshes itself and asks nothing beyond its own server', () => {
    // Act
    const html = renderDashboardPage(3000, 'http://127.0.0.1:4000');

    // Assess
    expect(html).toContain("fetch('rows'");
    expect(html).toContain('setTimeout(tick,3000)');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });
});

describe('the dashboard server', () => {
  let api: FakeApi;
  let dashboard: RunningDashboard | undefined;

  afterEach(async () => {
    await dashboard?.close();
    dashboard = undefined;
    await api?.close();
  });

  async function submitted(options: Parameters<typeof startFakeApi>[0]): Promise<void> {
    api = await startFakeApi(options);
    const dir = mkdtempSync(join(tmpdir(), 'cj-dashboard-'));
    const file = join(dir, 'essays.jsonl');
    writeFileSync(
      file,
      `${makeEssays(5)
        .map((e) => JSON.stringify(e))
        .join('\n')}\n`,
    );
    expect(await main(['submit', file, '--budget', '20'], captureIo({ CJ_API_URL: api.url }))).toBe(
      0,
    );
  }

  async function get(path: string): Promise<{ status: number; text: string }> {
    const response = await fetch(new URL(path, dashboard?.url));
    return { status: response.status, text: await response.text() };
  }

  it('follows a batch to its end through an API failing every third read, and serves its report', async () => {
    // Prepare
    await submitted({ step: 4, failEvery: 3 });
    const errors: string[] = [];

    // Act
    dashboard = await startDashboard({
      client: new ApiClient({ baseUrl: api.url }),
      port: 0,
      refreshMs: 5,
      io: { stderr: (text) => errors.push(text) },
      retry: FAST_RETRY,
    });
    // Generous: on a loaded 2-core machine the whole test once took over 20 s (clean-clone CI).
    const deadline = Date.now() + 40_000;
    while (dashboard.snapshot().rows[0]?.terminal !== true && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 10));
    }
    const stateReads = api.requests.filter((request) => request.path === '/batches/batch-1');
    const rows = await get('rows');
    const json = JSON.parse((await get('api/batches')).text) as { source: string; rows: unknown[] };
    const page = await get('');
    const report = await get('batches/batch-1/report');
    const missing = await get('nowhere');

    // Assess
    expect(api.failedReads).toBeGreaterThan(0);
    expect(errors.join('')).toMatch(/retrying in .* \(failure 1 in a row, giving up at 6\)/);
    expect(rows.text).toContain('data-batch="batch-1" data-status="COMPLETE_STABLE"');
    expect(rows.text).toContain('<td class="n pending">0</td>');
    expect(json).toMatchObject({
      source: `GET /batches at ${api.url}`,
      rows: [{ batchId: 'batch-1' }],
    });
    expect(stateReads).toEqual([]);
    expect(page.text).toContain('<title>cj dashboard</title>');
    expect(report.status).toBe(200);
    expect(report.text).toContain('<g class="essay" data-id="');
    expect(missing.status).toBe(404);
  }, 60_000);

  it('gives up after the documented failures in a row with the last error', async () => {
    // Prepare
    // An API that drops the connection of every read.
    api = await startFakeApi({ failEvery: 1, failures: ['reset'] });

    // Act
    dashboard = await startDashboard({
      client: new ApiClient({ baseUrl: api.url }),
      port: 0,
      refreshMs: 5,
      io: { stderr: () => undefined },
      retry: FAST_RETRY,
    });
    const ended = await dashboard.done.catch((error: unknown) => error);

    // Assess
    expect(ended).toBeInstanceOf(GaveUpError);
    expect((ended as GaveUpError).failures).toBe(6);
    expect((ended as GaveUpError).exitCode).toBe(4);
  });
});
