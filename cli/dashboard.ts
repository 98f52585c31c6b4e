/**
 * The server behind `cj dashboard`: lists the caller's batches through the engine's API every
 * `refreshMs` (`GET /batches`, every page: status and counters come with the list, so one list is
 * the whole refresh), and serves the page, its refreshing rows, the snapshot as JSON, and each
 * batch's report. Polling survives hiccups as the
 * CLI's reads do (cli/retry.ts): a transient failure keeps the last snapshot on screen and is
 * retried with backoff; `POLL_MAX_CONSECUTIVE_FAILURES` in a row (or one that retrying cannot fix)
 * end the dashboard with that error's exit code.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type DashboardSnapshot,
  dashboardRows,
  renderDashboardPage,
  renderDashboardRows,
} from '#shared/report/dashboard.ts';
import type { ApiClient } from './api.ts';
import type { Io } from './command.ts';
import { batchReportHtml } from './commands/report.ts';
import { DEFAULT_RETRY_POLICY, describeRetry, FailureStreak, type RetryPolicy } from './retry.ts';

export interface DashboardOptions {
  client: ApiClient;
  /** 0 picks a free port. */
  port: number;
  refreshMs: number;
  io: Pick<Io, 'stderr'>;
  retry?: RetryPolicy;
}

export interface RunningDashboard {
  url: string;
  snapshot(): DashboardSnapshot;
  /** Settles when polling ends: resolves on close(), rejects with the error that ended it. */
  done: Promise<void>;
  close(): Promise<void>;
}

export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const { client, io } = options;
  const source = `GET /batches at ${client.baseUrl}`;
  const policy = options.retry ?? { ...DEFAULT_RETRY_POLICY, baseDelayMs: options.refreshMs };
  let snapshot: DashboardSnapshot = { rows: [], refreshedAt: null, retrying: null };
  const controller = new AbortController();

  async function refresh(): Promise<void> {
    const batches = await client.listBatches();
    snapshot = {
      rows: dashboardRows(batches),
      refreshedAt: new Date().toISOString(),
      retrying: null,
    };
  }

  async function poll(): Promise<void> {
    const streak = new FailureStreak(policy);
    while (!controller.signal.aborted) {
      let delayMs = options.refreshMs;
      try {
        await refresh();
        streak.succeeded();
      } catch (error) {
        delayMs = streak.failed(error); // throws when it gives up
        const message = error instanceof Error ? error.message : String(error);
        snapshot = {
          ...snapshot,
          retrying: {
            message,
            failures: streak.count,
            maxFailures: policy.maxConsecutiveFailures,
            nextInMs: delayMs,
          },
        };
        io.stderr(`cj dashboard: ${describeRetry(error, streak.count, delayMs, policy)}\n`);
      }
      await sleep(delayMs, undefined, { signal: controller.signal }).catch(() => undefined);
    }
  }

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'GET only\n');
    if (path === '/') {
      return send(
        200,
        'text/html; charset=utf-8',
        renderDashboardPage(options.refreshMs, client.baseUrl),
      );
    }
    if (path === '/rows')
      return send(200, 'text/html; charset=utf-8', renderDashboardRows(snapshot));
    if (path === '/api/batches') {
      return send(200, 'application/json', JSON.stringify({ source, ...snapshot }));
    }
    const report = /^\/batches\/([^/]+)\/report$/.exec(path);
    if (report?.[1]) {
      const batchId = decodeURIComponent(report[1]);
      batchReportHtml(client, batchId, io).then(
        (html) => send(200, 'text/html; charset=utf-8', html),
        (error: Error) =>
          send(502, 'text/plain; charset=utf-8', `report of ${batchId}: ${error.message}\n`),
      );
      return;
    }
    send(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const closeServer = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const done = poll().finally(closeServer);
  done.catch(() => undefined); // observed by the caller; never an unhandled rejection
  return {
    url: `http://127.0.0.1:${port}/`,
    snapshot: () => snapshot,
    done,
    async close() {
      controller.abort();
      await done.catch(() => undefined);
    },
  };
}
