/**
 * `cj list [--status S] [--limit N] [--json]`: the caller's batches, newest first (`GET /batches`,
 * following its cursors up to the limit), one line each: id, status, progress, pending, created.
 */
import { BATCH_STATUSES } from '#domain/types.ts';
import type { BatchSummary } from '../api.ts';
import type { ParsedArgs } from '../args.ts';
import { booleanFlag, checkedNumberFlag, choiceFlag } from '../args.ts';
import type { Command, Io } from '../command.ts';
import { CLI_DEFAULTS } from '../defaults.ts';
import { EXIT, UsageError } from '../errors.ts';
import { readWithRetry } from '../retry.ts';
import { clientFor, resolveTarget, TARGET_FLAGS } from '../target.ts';

/** One aligned line per batch, with a header; a note when there is none. */
export function batchTable(batches: readonly BatchSummary[]): string {
  if (batches.length === 0) return 'no batches\n';
  const rows = batches.map((batch) => [
    batch.batch_id,
    batch.failure_reason ? `${batch.status} (${batch.failure_reason})` : batch.status,
    String(batch.essay_count),
    `${batch.completed_comparisons + batch.failed_comparisons}/${batch.completion_denominator}`,
    String(batch.pending_callbacks),
    batch.created_at,
  ]);
  const header = ['BATCH', 'STATUS', 'ESSAYS', 'DONE', 'PENDING', 'CREATED'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  return `${[header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

export const listCommand: Command = {
  name: 'list',
  summary: 'list your batches, newest first, with status, progress and pending callbacks',
  usage: 'cj list [--status S] [--limit N] [--json]',
  flags: {
    status: {
      type: 'string',
      valueName: 'S',
      description: `only batches in this status (${BATCH_STATUSES.join(', ')})`,
    },
    limit: {
      type: 'number',
      valueName: 'N',
      description: `at most N batches (default ${CLI_DEFAULTS.LIST_LIMIT}); pages are followed up to it`,
    },
    json: { type: 'boolean', description: 'print {"batches": [...]} as the API returns them' },
    ...TARGET_FLAGS,
  },
  async run(args: ParsedArgs, io: Io): Promise<number> {
    if (args.positionals.length > 0) {
      throw new UsageError(String(args.positionals[0]), 'unexpected argument');
    }
    const status = choiceFlag(args, 'status', BATCH_STATUSES);
    const limit =
      checkedNumberFlag(
        args,
        'limit',
        (n) => Number.isInteger(n) && n >= 1,
        'a whole number >= 1',
      ) ?? CLI_DEFAULTS.LIST_LIMIT;
    const client = clientFor(resolveTarget(args, io.env));
    const batches = await readWithRetry(io, () =>
      client.listBatches({ limit, ...(status === undefined ? {} : { status }) }),
    );
    io.stdout(
      booleanFlag(args, 'json') ? `${JSON.stringify({ batches }, null, 2)}\n` : batchTable(batches),
    );
    return EXIT.OK;
  },
};
