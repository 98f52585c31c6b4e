/**
 * Reads that survive hiccups: `cj wait`, `cj status`, `cj results`, `cj report`, the demo and the
 * dashboard retry transient failures (HTTP 5xx and 429, a connection reset, a timeout) with
 * exponential backoff, and give up after `POLL_MAX_CONSECUTIVE_FAILURES` failures in a row. A
 * failure that retrying cannot fix (a 4xx, nothing listening at the URL) ends at once. Only reads
 * are retried: they change nothing, so trying again is always safe.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from './api.ts';
import type { Io } from './command.ts';
import { CLI_DEFAULTS } from './defaults.ts';
import { CliError, UnreachableError } from './errors.ts';

export interface RetryPolicy {
  /** Failures in a row after which the read gives up (the first success resets the count). */
  maxConsecutiveFailures: number;
  /** Delay before the first retry; doubled for each further failure in a row. */
  baseDelayMs: number;
  /** Longest delay between two attempts. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxConsecutiveFailures: CLI_DEFAULTS.POLL_MAX_CONSECUTIVE_FAILURES,
  baseDelayMs: CLI_DEFAULTS.WAIT_POLL_MS,
  maxDelayMs: CLI_DEFAULTS.POLL_RETRY_MAX_DELAY_MS,
};

/**
 * Connection failures worth another try: the server was reached (or the network hiccupped) and may
 * answer next time. `ECONNREFUSED` is not among them: nothing listens there (the local cloud is not
 * running, or the URL is wrong), and waiting will not change that.
 */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'TimeoutError',
  'AbortError',
]);

/** Whether another attempt may succeed: 5xx, 429, a reset connection or a timeout. */
export function isTransient(error: unknown): boolean {
  if (error instanceof ApiError) return error.status >= 500 || error.status === 429;
  if (error instanceof UnreachableError) return TRANSIENT_NETWORK_CODES.has(error.code);
  return false;
}

/** The error a read ends with after too many failures in a row: the last one, saying so. */
export class GaveUpError extends CliError {
  constructor(
    readonly last: CliError,
    readonly failures: number,
  ) {
    super(`${last.message} (gave up after ${failures} failed attempts in a row)`, last.exitCode);
    this.name = 'GaveUpError';
  }
}

/**
 * Counts failures in a row and says how long to wait before the next attempt. Shared by one-shot
 * reads (`retryTransient`) and polling loops (`waitForBatch`, the dashboard), where a success
 * between two failures resets the count.
 */
export class FailureStreak {
  private failures = 0;

  constructor(
    private readonly policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    private readonly random: () => number = Math.random,
  ) {}

  get count(): number {
    return this.failures;
  }

  succeeded(): void {
    this.failures = 0;
  }

  /**
   * Records a failure and returns the delay before the next attempt (exponential, with jitter
   * between half and the whole step, and never shorter than the server's Retry-After). Throws the
   * error itself when it is not transient, or a `GaveUpError` when the streak is too long.
   */
  failed(error: unknown): number {
    if (!isTransient(error)) throw error;
    this.failures += 1;
    if (this.failures >= this.policy.maxConsecutiveFailures) {
      throw new GaveUpError(error as CliError, this.failures);
    }
    const step = Math.min(
      this.policy.maxDelayMs,
      this.policy.baseDelayMs * 2 ** (this.failures - 1),
    );
    const jittered = step / 2 + (this.random() * step) / 2;
    const retryAfter = error instanceof ApiError ? (error.retryAfterMs ?? 0) : 0;
    return Math.round(Math.max(jittered, Math.min(retryAfter, this.policy.maxDelayMs)));
  }
}

/** One line for stderr: what failed and when the next attempt comes. */
export function describeRetry(
  error: unknown,
  failures: number,
  delayMs: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): string {
  const what = error instanceof Error ? error.message : String(error);
  return `${what}; retrying in ${(delayMs / 1000).toFixed(1)} s (failure ${failures} in a row, giving up at ${policy.maxConsecutiveFailures})`;
}

export interface RetryHooks {
  policy?: RetryPolicy;
  /** Told before each wait (for a status line). */
  onRetry?: (error: unknown, failures: number, delayMs: number) => void;
}

/** A read for a command: retried per the default policy, each retry told on stderr. */
export function readWithRetry<T>(io: Pick<Io, 'stderr'>, read: () => Promise<T>): Promise<T> {
  return retryTransient(read, {
    onRetry: (error, failures, delayMs) =>
      io.stderr(`cj: ${describeRetry(error, failures, delayMs)}\n`),
  });
}

/** Runs a read, retrying transient failures per the policy. */
export async function retryTransient<T>(
  read: () => Promise<T>,
  hooks: RetryHooks = {},
): Promise<T> {
  const streak = new FailureStreak(hooks.policy);
  for (;;) {
    try {
      return await read();
    } catch (error) {
      const delayMs = streak.failed(error);
      hooks.onRetry?.(error, streak.count, delayMs);
      await sleep(delayMs);
    }
  }
}
