import type { ParsedArgs } from '../args.ts';
import { stringFlag } from '../args.ts';
import type { Command, Io } from '../command.ts';
import { EXIT, UsageError } from '../errors.ts';
import { resultsCsv } from '../format.ts';
import { readWithRetry } from '../retry.ts';
import { clientFor, resolveTarget, TARGET_FLAGS } from '../target.ts';
import { singleBatchId } from './status.ts';

const FORMATS = ['json', 'csv'] as const;

export const resultsCommand: Command = {
  name: 'results',
  summary: 'print scores, standard errors, ranks, comparisons and wins per essay',
  usage: 'cj results <batch-id> [--format json|csv]',
  flags: {
    format: { type: 'string', valueName: 'json|csv', description: 'output format (default json)' },
    ...TARGET_FLAGS,
  },
  async run(args: ParsedArgs, io: Io): Promise<number> {
    const batchId = singleBatchId(args);
    const format = stringFlag(args, 'format') ?? 'json';
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError('--format', `expected json or csv, got "${format}"`);
    }
    const client = clientFor(resolveTarget(args, io.env));
    const results = await readWithRetry(io, () => client.getResults(batchId));
    io.stdout(
      format === 'csv' ? resultsCsv(results.essays) : `${JSON.stringify(results, null, 2)}\n`,
    );
    return EXIT.OK;
  },
};
