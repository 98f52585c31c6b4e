import type { ParsedArgs } from '../args.ts';
import { booleanFlag } from '../args.ts';
import type { Command, Io } from '../command.ts';
import { EXIT, UsageError } from '../errors.ts';
import { describeState } from '../format.ts';
import { readWithRetry } from '../retry.ts';
import { clientFor, resolveTarget, TARGET_FLAGS } from '../target.ts';

export function singleBatchId(args: ParsedArgs): string {
  const [batchId, ...extra] = args.positionals;
  if (batchId === undefined) throw new UsageError('<batch-id>', 'missing batch id');
  if (extra.length > 0) throw new UsageError(extra[0] as string, 'unexpected argument');
  return batchId;
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'show the counters, coverage and diagnostics of a batch',
  usage: 'cj status <batch-id> [--json]',
  flags: {
    json: { type: 'boolean', description: 'print the state JSON as the API returns it' },
    ...TARGET_FLAGS,
  },
  async run(args: ParsedArgs, io: Io): Promise<number> {
    const batchId = singleBatchId(args);
    const client = clientFor(resolveTarget(args, io.env));
    const state = await readWithRetry(io, () => client.getBatch(batchId));
    io.stdout(
      booleanFlag(args, 'json') ? `${JSON.stringify(state, null, 2)}\n` : describeState(state),
    );
    return EXIT.OK;
  },
};
