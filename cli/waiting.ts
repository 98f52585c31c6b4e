/**
 * Polls a batch until it reaches a terminal status or the time is up. A transient failure of one
 * read (5xx, 429, reset, timeout) does not end the wait: it is retried with backoff (cli/retry.ts)
 * and the wait gives up only after `maxConsecutiveFailures` failures in a row, or at its deadline.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminal } from '#domain/types.ts';
import type { ApiClient, BatchState } from './api.ts';
import { CliError, EXIT } from './errors.ts';
import { DEFAULT_RETRY_POLICY, FailureStreak, type RetryPolicy } from './retry.ts';

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
  /** Called with every state read, including the last one. */
  onState?: (state: BatchState) => void;
  /** Called for every transient failure before the retry (for a status line). */
  onRetry?: (error: unknown, failures: number, delayMs: number) => void;
  /** Default: `DEFAULT_RETRY_POLICY` with the poll interval as the first backoff step. */
  retry?: RetryPolicy;
}

export interface WaitOutcome {
  state: BatchState;
  timedOut: boolean;
  /** Transient failures met (and survived) on the way. */
  retriedFailures: number;
}

export async function waitForBatch(
  client: ApiClient,
  batchId: string,
  options: WaitOptions,
): Promise<WaitOutcome> {
  const deadline = Date.now() + options.timeoutMs;
  const streak = new FailureStreak(
    options.retry ?? { ...DEFAULT_RETRY_POLICY, baseDelayMs: options.pollMs },
  );
  let last: BatchState | undefined;
  let retriedFailures = 0;
  for (;;) {
    let delayMs = options.pollMs;
    try {
      last = await client.getBatch(batchId);
      streak.succeeded();
      options.onState?.(last);
      if (isTerminal(last.status)) return { state: last, timedOut: false, retriedFailures };
    } catch (error) {
      delayMs = streak.failed(error);
      retriedFailures += 1;
      options.onRetry?.(error, streak.count, delayMs);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      if (last) return { state: last, timedOut: true, retriedFailures };
      throw new CliError(
        `batch ${batchId}: no state read within ${options.timeoutMs / 1000} s`,
        EXIT.TIMEOUT,
      );
    }
    await sleep(Math.min(delayMs, left));
  }
}
