/** Exit codes of `cj` (documented in docs/cli.md). */
export const EXIT = {
  OK: 0,
  /** An unexpected error (a bug, or an answer the CLI does not understand). */
  FAILURE: 1,
  /** Bad command line or bad input file; the message names the flag, argument or field. */
  USAGE: 2,
  /** The API rejected the request (HTTP 4xx/5xx); the message carries its `field` and `message`. */
  API: 3,
  /** The API could not be reached (local cloud not running, wrong URL, network). */
  UNREACHABLE: 4,
  /** `cj wait` gave up before the batch reached a terminal status. */
  TIMEOUT: 5,
  /** `cj wait`: the batch reached a terminal status that is not a success (FAILED, CANCELLED). */
  BATCH_FAILED: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one clear line and a chosen exit code (no stack trace). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A bad flag, argument or input field; `subject` names it (e.g. `--budget`, `essays[3].id`). */
export class UsageError extends CliError {
  constructor(
    readonly subject: string,
    message: string,
  ) {
    super(`${subject}: ${message}`, EXIT.USAGE);
    this.name = 'UsageError';
  }
}

/** The API could not be reached; `code` is the network error (`ECONNREFUSED`, `ECONNRESET`, `TimeoutError`...). */
export class UnreachableError extends CliError {
  constructor(
    readonly baseUrl: string,
    readonly code: string,
  ) {
    super(`cannot reach the API at ${baseUrl} (${code})`, EXIT.UNREACHABLE);
    this.name = 'UnreachableError';
  }
}
