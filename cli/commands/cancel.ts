/**
 * `cj cancel <batch-id> [--json]`: stops a batch (`POST /batches/{id}/cancel`). It ends CANCELLED:
 * no new wave is planned, late callbacks count nowhere, and one outcome event is published.
 * Cancelling a cancelled batch is a no-op (exit 0); a batch that already ended otherwise is the
 * API's 409 (exit 3), an unknown one its 404 (exit 3).
 */
import type { ParsedArgs } from '../args.ts';
import { booleanFlag } from '../args.ts';
import type { Command, Io } from '../command.ts';
import { EXIT } from '../errors.ts';
import { describeState } from '../format.ts';
import { clientFor, resolveTarget, TARGET_FLAGS } from '../target.ts';
import { singleBatchId } from './status.ts';

export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'cancel a running (or not yet started) batch; it ends CANCELLED',
  usage: 'cj cancel <batch-id> [--json]',
  flags: {
    json: { type: 'boolean', description: 'print the state JSON as the API returns it' },
    ...TARGET_FLAGS,
  },
  async run(args: ParsedArgs, io: Io): Promise<number> {
    const batchId = singleBatchId(args);
    const client = clientFor(resolveTarget(args, io.env));
    const state = await client.cancelBatch(batchId);
    io.stdout(
      booleanFlag(args, 'json') ? `${JSON.stringify(state, null, 2)}\n` : describeState(state),
    );
    return EXIT.OK;
  },
};
