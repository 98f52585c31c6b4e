import { isSuccess } from '#domain/types.ts';
import type { ParsedArgs } from '../args.ts';
import { booleanFlag, numberFlag } from '../args.ts';
import type { Command, Io } from '../command.ts';
import { CLI_DEFAULTS } from '../defaults.ts';
import { EXIT, UsageError } from '../errors.ts';
import { describeState, progressBar } from '../format.ts';
import { describeRetry } from '../retry.ts';
import { clientFor, resolveTarget, TARGET_FLAGS } from '../target.ts';
import { waitForBatch } from '../waiting.ts';
import { singleBatchId } from './status.ts';

function positive(flag: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value > 0)) throw new UsageError(`--${flag}`, `expected a number > 0, got ${value}`);
  return value;
}

export const waitCommand: Command = {
  name: 'wait',
  summary: 'wait until a batch reaches a terminal status (progress bar on a terminal)',
  usage: 'cj wait <batch-id> [--timeout-s N] [--poll-ms N] [--json]',
  flags: {
    'timeout-s': {
      type: 'number',
      valueName: 'N',
      description: `give up after N seconds with exit code 5 (default ${CLI_DEFAULTS.WAIT_TIMEOUT_S})`,
    },
    'poll-ms': {
      type: 'number',
      valueName: 'N',
      description: `interval between state reads (default ${CLI_DEFAULTS.WAIT_POLL_MS})`,
    },
    json: { type: 'boolean', description: 'print the final state JSON' },
    ...TARGET_FLAGS,
  },
  async run(args: ParsedArgs, io: Io): Promise<number> {
    const batchId = singleBatchId(args);
    const timeoutS = positive(
      'timeout-s',
      numberFlag(args, 'timeout-s'),
      CLI_DEFAULTS.WAIT_TIMEOUT_S,
    );
    const pollMs = positive('poll-ms', numberFlag(args, 'poll-ms'), CLI_DEFAULTS.WAIT_POLL_MS);
    const client = clientFor(resolveTarget(args, io.env));
    const drawn = io.stderrIsTTY;
    const { state, timedOut } = await waitForBatch(client, batchId, {
      timeoutMs: timeoutS * 1000,
      pollMs,
      onState: (current) => {
        if (drawn) io.stderr(`\r${progressBar(current)}\x1b[K`);
      },
      onRetry: (error, failures, delayMs) =>
        io.stderr(`${drawn ? '\r\x1b[K' : ''}cj: ${describeRetry(error, failures, delayMs)}\n`),
    });
    if (drawn) io.stderr('\n');
    io.stdout(
      booleanFlag(args, 'json') ? `${JSON.stringify(state, null, 2)}\n` : describeState(state),
    );
    if (timedOut) {
      io.stderr(`cj: batch ${batchId} is still ${state.status} after ${timeoutS} s\n`);
      return EXIT.TIMEOUT;
    }
    return isSuccess(state.status) ? EXIT.OK : EXIT.BATCH_FAILED;
  },
};
