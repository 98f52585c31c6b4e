/**
 * Entry of the `cj` command: parses the command line, dispatches to the registry, and turns errors
 * into one line on stderr and an exit code (see errors.ts / docs/cli.md).
 */
import { formatFlags, parseArgs } from './args.ts';
import type { Command, Io } from './command.ts';
import { COMMANDS, findCommand } from './commands/index.ts';
import { CliError, EXIT, UsageError } from './errors.ts';

const HELP_FLAG = { help: { type: 'boolean', description: 'show this help' } } as const;

export function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'cj — comparative judgement engine CLI',
    '',
    'usage: cj <command> [arguments] [flags]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run `cj <command> --help` for its flags. Exit codes: 0 ok, 1 unexpected error, 2 bad usage or',
    'input, 3 API error, 4 API unreachable, 5 wait timed out, 6 batch ended FAILED or CANCELLED.',
    '',
  ].join('\n');
}

export function commandHelp(command: Command): string {
  return `usage: ${command.usage}\n\n${command.summary}\n\nflags:\n${formatFlags({ ...command.flags, ...HELP_FLAG })}\n`;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const topic = name === 'help' && rest[0] ? findCommand(rest[0]) : undefined;
      io.stdout(topic ? commandHelp(topic) : globalHelp());
      return EXIT.OK;
    }
    const command = findCommand(name);
    if (!command) throw new UsageError(name, 'unknown command (run `cj --help`)');
    const args = parseArgs(rest, { ...command.flags, ...HELP_FLAG });
    if (args.flags.help === true) {
      io.stdout(commandHelp(command));
      return EXIT.OK;
    }
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`cj: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr(`cj: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.FAILURE;
  }
}

/** The real process as an `Io`. */
export function processIo(): Io {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
  };
}
