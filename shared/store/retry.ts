/**
 * Bounded retries with full-jitter exponential backoff for the DynamoDB errors that mean "try
 * again": throttling, transaction conflicts and internal errors. Condition failures are answers,
 * never retried. Sleep and randomness are injectable so tests run instantly and deterministically.
 */
import { DEFAULT_CONFIG } from '#domain/config.ts';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1). */
  random: () => number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: DEFAULT_CONFIG.STORE_MAX_ATTEMPTS,
  baseDelayMs: DEFAULT_CONFIG.STORE_RETRY_BASE_DELAY_MS,
  maxDelayMs: DEFAULT_CONFIG.STORE_RETRY_MAX_DELAY_MS,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

const RETRYABLE_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'InternalServerError',
  'InternalServerErrorException',
]);

const RETRYABLE_CANCELLATION_CODES = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

export interface CancellationReason {
  Code?: string;
  Message?: string;
  Item?: Record<string, unknown>;
}

export function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

export function cancellationReasons(error: unknown): CancellationReason[] {
  if (errorName(error) !== 'TransactionCanceledException') return [];
  const reasons = (error as { CancellationReasons?: unknown }).CancellationReasons;
  return Array.isArray(reasons) ? (reasons as CancellationReason[]) : [];
}

/**
 * A cancelled transaction is retried only when no condition failed (a failed condition is the
 * answer) and some item was cancelled by a conflict or throttling.
 */
export function isRetryable(error: unknown): boolean {
  const name = errorName(error);
  if (name === undefined) return false;
  if (RETRYABLE_ERRORS.has(name)) return true;
  if (name !== 'TransactionCanceledException') return false;
  const codes = cancellationReasons(error).map((reason) => reason.Code ?? 'None');
  if (codes.includes('ConditionalCheckFailed')) return false;
  return codes.some((code) => RETRYABLE_CANCELLATION_CODES.has(code));
}

/** Full jitter: uniform(0, min(max, base · 2^retry)). */
export function backoffDelay(retry: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor(policy.random() * ceiling);
}

/** Runs `operation`, retrying retryable errors up to `maxAttempts` attempts in all. */
export async function withRetry<T>(operation: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isRetryable(error) || attempt >= policy.maxAttempts) throw error;
      await policy.sleep(backoffDelay(attempt - 1, policy));
    }
  }
}
