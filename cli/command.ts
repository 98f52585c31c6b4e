/** What every `cj` command implements; commands are listed in commands/index.ts (the registry). */
import type { FlagSpecs, ParsedArgs } from './args.ts';

/** The process around a command, injectable so commands run in-process in tests. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress bars are drawn only there). */
  readonly stderrIsTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The synopsis, e.g. `cj status <batch-id> [--json]`. */
  readonly usage: string;
  readonly flags: FlagSpecs;
  /** Returns the exit code; throws `CliError` for errors it reports as one line. */
  run(args: ParsedArgs, io: Io): Promise<number>;
}
