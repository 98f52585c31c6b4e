/**
 * `cj dashboard [--port P]`: a local page, refreshed every few seconds, with every batch the API
 * lists for you (`GET /batches`) — status, progress toward its completion denominator, pending
 * callbacks, a link to its report (cli/dashboard.ts serves it). Runs until Ctrl-C; ends earlier with the error's exit
 * code when the API keeps failing (cli/retry.ts).
 */
import type { ParsedArgs } from '../args.ts';
import { numberFlag } from '../args.ts';
import type { Command, Io } from '../command.ts';
import { startDashboard } from '../dashboard.ts';
import { CLI_DEFAULTS } from '../defaults.ts';
import { EXIT, UsageError } from '../errors.ts';
import { clientFor, resolveTarget, TARGET_FLAGS } from '../target.ts';

function portFlag(args: ParsedArgs): number {
  const port = numberFlag(args, 'port') ?? CLI_DEFAULTS.DASHBOARD_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError('--port', `expected a port 0..65535 (0: any free one), got ${port}`);
  }
  return port;
}

function refreshFlag(args: ParsedArgs): number {
  const refreshMs = numberFlag(args, 'refresh-ms') ?? CLI_DEFAULTS.DASHBOARD_REFRESH_MS;
  if (!(refreshMs >= 250)) {
    throw new UsageError('--refresh-ms', `expected a number >= 250, got ${refreshMs}`);
  }
  return refreshMs;
}

export const dashboardCommand: Command = {
  name: 'dashboard',
  summary: 'serve a live local page of every batch: status, progress, pending callbacks, reports',
  usage: 'cj dashboard [--port P] [--refresh-ms N]',
  flags: {
    port: {
      type: 'number',
      valueName: 'P',
      description: `loopback port of the page (default ${CLI_DEFAULTS.DASHBOARD_PORT}; 0 picks a free one)`,
    },
    'refresh-ms': {
      type: 'number',
      valueName: 'N',
      description: `interval between two refreshes (default ${CLI_DEFAULTS.DASHBOARD_REFRESH_MS})`,
    },
    ...TARGET_FLAGS,
  },
  async run(args: ParsedArgs, io: Io): Promise<number> {
    const port = portFlag(args);
    const refreshMs = refreshFlag(args);
    const client = clientFor(resolveTarget(args, io.env));
    const dashboard = await startDashboard({ client, port, refreshMs, io });
    io.stdout(`${dashboard.url}\n`);
    io.stderr(`cj dashboard: your batches from ${client.baseUrl}; Ctrl-C stops it\n`);
    const stop = () => void dashboard.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await dashboard.done;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return EXIT.OK;
  },
};
