/**
 * `cj report <id>`: one self-contained HTML file for a batch — ranking, scale plot, reliability
 * with its reading, judge usage and cost, the decisions wave by wave, quality flags — written from
 * the API's state, results and wave history (each read retried through hiccups).
 */
import { isSuccess } from '#domain/types.ts';
import { batchReportModel } from '#shared/report/model.ts';
import { renderReport } from '#shared/report/page.ts';
import { type ApiClient, ApiError, type BatchResults, type BatchWaves } from '../api.ts';
import type { ParsedArgs } from '../args.ts';
import { stringFlag } from '../args.ts';
import type { Command, Io } from '../command.ts';
import { EXIT } from '../errors.ts';
import { writeReportFile } from '../report-file.ts';
import { readWithRetry } from '../retry.ts';
import { clientFor, resolveTarget, TARGET_FLAGS } from '../target.ts';
import { singleBatchId } from './status.ts';

/** The report of one batch as HTML (also what the dashboard serves). */
export async function batchReportHtml(
  client: ApiClient,
  batchId: string,
  io: Pick<Io, 'stderr'>,
  now: Date = new Date(),
): Promise<string> {
  const state = await readWithRetry(io, () => client.getBatch(batchId));
  // Results exist once the batch is finalized with scores (a FAILED batch may have some).
  let results: BatchResults | null = null;
  if (isSuccess(state.status) || state.status === 'FAILED') {
    results = await readWithRetry(io, () => client.getResults(batchId)).catch((error) => {
      if (error instanceof ApiError && error.status === 409) return null;
      throw error;
    });
  }
  let waves: BatchWaves | null = null;
  let wavesNote: string | null = null;
  try {
    waves = await readWithRetry(io, () => client.getWaves(batchId));
  } catch (error) {
    // An API from before the wave history (a stack not yet redeployed) has no such route.
    if (!(error instanceof ApiError && error.status === 404 && error.field !== 'id')) throw error;
    wavesNote =
      'This API serves no wave history (GET /batches/{id}/waves): redeploy the stack to get it.';
  }
  return renderReport(batchReportModel({ state, results, waves, wavesNote, generatedAt: now }));
}

export const reportCommand: Command = {
  name: 'report',
  summary:
    'write a self-contained HTML report of a batch (ranking, scale plot, reliability, waves)',
  usage: 'cj report <batch-id> [--out report.html]',
  flags: {
    out: {
      type: 'string',
      valueName: 'file',
      description: 'where to write the report (default report-<batch-id>.html here)',
    },
    ...TARGET_FLAGS,
  },
  async run(args: ParsedArgs, io: Io): Promise<number> {
    const batchId = singleBatchId(args);
    const client = clientFor(resolveTarget(args, io.env));
    const html = await batchReportHtml(client, batchId, io);
    const path = writeReportFile(io.cwd, stringFlag(args, 'out') ?? `report-${batchId}.html`, html);
    io.stdout(`${path}\n`);
    return EXIT.OK;
  },
};
