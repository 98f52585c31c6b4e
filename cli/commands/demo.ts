/**
 * `cj demo`: the end-to-end demonstration behind `npm start`. Submits a set of essays with a known
 * latent quality (`metadata.quality`), shows progress, prints the ranking with scores and SEs, and
 * how well it agrees with the known order.
 */

import { join } from 'node:path';
import { kendallTau, spearman } from '#domain/reliability.ts';
import { isSuccess } from '#domain/types.ts';
import type { BatchState, CreateBatchRequest, EssayInput, EssayResult } from '../api.ts';
import { ApiClient } from '../api.ts';
import type { ParsedArgs } from '../args.ts';
import { booleanFlag, checkedNumberFlag, numberFlag, stringFlag } from '../args.ts';
import type { Command, Io } from '../command.ts';
import { CLI_DEFAULTS } from '../defaults.ts';
import { CliError, EXIT } from '../errors.ts';
import { loadEssays } from '../essays.ts';
import { describeState, progressBar, progressTarget } from '../format.ts';
import { withOwnLocalCloud } from '../own-cloud.ts';
import { writeReportFile } from '../report-file.ts';
import { describeRetry, readWithRetry } from '../retry.ts';
import { clientFor, localCloudDir, repoRoot, resolveTarget, TARGET_FLAGS } from '../target.ts';
import { submitBatch } from '../upload.ts';
import { waitForBatch } from '../waiting.ts';
import { batchReportHtml } from './report.ts';
import { batchOptionsFromArgs, SUBMIT_FLAGS } from './submit.ts';

/** Progress lines printed when stderr is not a terminal: one per this share of the target. */
const PLAIN_PROGRESS_STEP = 0.1;

export interface Agreement {
  spearman: number;
  kendall: number;
  essays: number;
}

/** Agreement of result scores with `metadata.quality`; undefined when no essay has a quality. */
export function agreementWithQuality(
  essays: readonly EssayInput[],
  results: readonly EssayResult[],
): Agreement | undefined {
  const quality = new Map<string, number>();
  for (const essay of essays) {
    const value = essay.metadata?.quality;
    if (typeof value === 'number') quality.set(essay.id, value);
  }
  const paired = results.filter((r) => quality.has(r.id));
  if (paired.length < 2) return undefined;
  const scores = paired.map((r) => r.score);
  const truth = paired.map((r) => quality.get(r.id) as number);
  return {
    spearman: spearman(scores, truth),
    kendall: kendallTau(scores, truth),
    essays: paired.length,
  };
}

export function rankingTable(
  essays: readonly EssayInput[],
  results: readonly EssayResult[],
): string {
  const quality = new Map(essays.map((e) => [e.id, e.metadata?.quality]));
  const knownOrder = [...quality.entries()]
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .sort((x, y) => y[1] - x[1])
    .map(([id]) => id);
  const idWidth = Math.max(2, ...results.map((r) => r.id.length));
  const header = `${'rank'.padStart(4)}  ${'id'.padEnd(idWidth)}  ${'score'.padStart(7)}  ${'se'.padStart(6)}  ${'comp'.padStart(5)}  ${'wins'.padStart(5)}  known rank`;
  const rows = [...results]
    .sort((x, y) => x.rank - y.rank)
    .map((r) => {
      const known = knownOrder.indexOf(r.id);
      return `${String(r.rank).padStart(4)}  ${r.id.padEnd(idWidth)}  ${r.score.toFixed(3).padStart(7)}  ${r.se.toFixed(3).padStart(6)}  ${String(r.comparisons).padStart(5)}  ${String(r.wins).padStart(5)}  ${known === -1 ? '-' : known + 1}`;
    });
  return `${[header, ...rows].join('\n')}\n`;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the bundled demo set end to end and compare the ranking with the known order',
  usage:
    'cj demo [file.jsonl|dir] [--budget N] [--mock-...] [--set NAME=VALUE ...] [--timeout-s N]',
  flags: {
    ...SUBMIT_FLAGS,
    'timeout-s': {
      type: 'number',
      valueName: 'N',
      description: `give up after N seconds (default ${CLI_DEFAULTS.WAIT_TIMEOUT_S})`,
    },
    'poll-ms': {
      type: 'number',
      valueName: 'N',
      description: `interval between state reads (default ${CLI_DEFAULTS.WAIT_POLL_MS})`,
    },
    report: {
      type: 'string',
      valueName: 'file',
      description:
        'where to write the batch report (default .local-cloud/reports/<batch-id>.html, or under CJ_LOCAL_CLOUD_DIR)',
    },
    json: { type: 'boolean', description: 'print a JSON summary instead of the table' },
    'own-cloud': {
      type: 'boolean',
      description: 'run a local cloud inside this process for the demo and stop it afterwards',
    },
    ...TARGET_FLAGS,
  },
  async run(args: ParsedArgs, io: Io): Promise<number> {
    const path = args.positionals[0] ?? join(repoRoot(), 'demo', 'essays.jsonl');
    const options = batchOptionsFromArgs(args);
    if (!options.judge) options.judge = { provider: 'mock', profile: 'default' };
    const essays = loadEssays(path, io.cwd);
    if (booleanFlag(args, 'own-cloud')) {
      return withOwnLocalCloud(io, (apiUrl) =>
        runDemo(new ApiClient({ baseUrl: apiUrl }), essays, options, args, io),
      );
    }
    return runDemo(clientFor(resolveTarget(args, io.env)), essays, options, args, io);
  },
};

async function runDemo(
  client: ApiClient,
  essays: EssayInput[],
  options: Omit<CreateBatchRequest, 'essays'>,
  args: ParsedArgs,
  io: Io,
): Promise<number> {
  const json = booleanFlag(args, 'json');
  const timeoutS = numberFlag(args, 'timeout-s') ?? CLI_DEFAULTS.WAIT_TIMEOUT_S;
  const pollMs =
    checkedNumberFlag(args, 'poll-ms', (value) => value > 0, 'a number > 0') ??
    CLI_DEFAULTS.WAIT_POLL_MS;

  const { batchId } = await submitBatch(client, essays, options);
  io.stderr(`submitted ${essays.length} essays as batch ${batchId}\n`);
  let nextPlainStep = 0;
  const showProgress = (state: BatchState) => {
    if (io.stderrIsTTY) {
      io.stderr(`\r${progressBar(state)}\x1b[K`);
      return;
    }
    const share =
      (state.completed_comparisons + state.failed_comparisons) / Math.max(1, progressTarget(state));
    if (share >= nextPlainStep) {
      io.stderr(`${progressBar(state)}\n`);
      nextPlainStep = Math.floor(share / PLAIN_PROGRESS_STEP + 1) * PLAIN_PROGRESS_STEP;
    }
  };
  const { state, timedOut } = await waitForBatch(client, batchId, {
    timeoutMs: timeoutS * 1000,
    pollMs,
    onState: showProgress,
    onRetry: (error, failures, delayMs) =>
      io.stderr(
        `${io.stderrIsTTY ? '\r\x1b[K' : ''}cj: ${describeRetry(error, failures, delayMs)}\n`,
      ),
  });
  if (io.stderrIsTTY) io.stderr('\n');
  if (timedOut) {
    throw new CliError(
      `batch ${batchId} is still ${state.status} after ${timeoutS} s`,
      EXIT.TIMEOUT,
    );
  }
  const report = writeReportFile(
    io.cwd,
    stringFlag(args, 'report') ?? join(localCloudDir(io.env), 'reports', `${batchId}.html`),
    await batchReportHtml(client, batchId, io),
    '--report',
  );
  if (!isSuccess(state.status)) {
    io.stdout(`${describeState(state)}\nreport: ${report}\n`);
    return EXIT.BATCH_FAILED;
  }
  const { essays: results } = await readWithRetry(io, () => client.getResults(batchId));
  const agreement = agreementWithQuality(essays, results);
  if (json) {
    io.stdout(
      `${JSON.stringify({ batch_id: batchId, state, results, agreement, report }, null, 2)}\n`,
    );
    return EXIT.OK;
  }
  io.stdout(`\n${describeState(state)}\n${rankingTable(essays, results)}`);
  if (agreement) {
    io.stdout(
      `\nagreement with the known order over ${agreement.essays} essays: ` +
        `Spearman ${agreement.spearman.toFixed(3)}, Kendall tau-b ${agreement.kendall.toFixed(3)}\n`,
    );
  }
  io.stdout(`\nreport (open it in a browser): ${report}\n`);
  return EXIT.OK;
}
