import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryable, type RetryPolicy, withRetry } from '#store/retry.ts';
import { conditionFailed, throttled, transactionCanceled } from '#test/helpers/store-fakes.ts';

function policy(sleeps: number[], random = () => 0.999): RetryPolicy {
  return {
    maxAttempts: 5,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    random,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
}

const named = (name: string) => Object.assign(new Error(name), { name });

describe('isRetryable', () => {
  it('retries throttling, conflicts and internal errors', () => {
    // Prepare
    const errors = [
      throttled(),
      named('ThrottlingException'),
      named('RequestLimitExceeded'),
      named('InternalServerError'),
      named('TransactionConflictException'),
      transactionCanceled({ Code: 'TransactionConflict' }, { Code: 'None' }),
      transactionCanceled({ Code: 'None' }, { Code: 'ThrottlingError' }),
    ];

    // Act
    const verdicts = errors.map(isRetryable);

    // Assess
    expect(verdicts).toEqual(errors.map(() => true));
  });

  it('never retries answers: condition failures, a cancelled transaction with a failed condition, validation', () => {
    // Prepare
    const errors = [
      conditionFailed(),
      transactionCanceled({ Code: 'ConditionalCheckFailed' }, { Code: 'TransactionConflict' }),
      transactionCanceled({ Code: 'ValidationError' }, { Code: 'None' }),
      named('ValidationException'),
      'not an error',
    ];

    // Act
    const verdicts = errors.map(isRetryable);

    // Assess
    expect(verdicts).toEqual(errors.map(() => false));
  });
});

describe('backoffDelay (full jitter)', () => {
  it('draws below base·2^retry, capped at the maximum', () => {
    // Prepare
    const sleeps: number[] = [];
    const p = policy(sleeps);

    // Act
    const delays = [0, 1, 2, 3, 4, 10].map((retry) => backoffDelay(retry, p));

    // Assess
    expect(delays).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelay(3, { ...p, random: () => 0 })).toBe(0);
  });
});

describe('withRetry', () => {
  it('retries until success, sleeping between attempts', async () => {
    // Prepare
    const sleeps: number[] = [];
    let calls = 0;
    const operation = async () => {
      calls += 1;
      if (calls < 3) throw throttled();
      return 'ok';
    };

    // Act
    const result = await withRetry(
      operation,
      policy(sleeps, () => 0.5),
    );

    // Assess
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(sleeps).toEqual([50, 100]);
  });

  it('surfaces the last error after maxAttempts', async () => {
    // Prepare
    const sleeps: number[] = [];
    let calls = 0;
    const operation = async () => {
      calls += 1;
      throw throttled();
    };

    // Act
    const attempt = withRetry(operation, policy(sleeps));

    // Assess
    await expect(attempt).rejects.toThrow(/throughput/);
    expect(calls).toBe(5);
    expect(sleeps).toHaveLength(4);
  });

  it('does not retry a non-retryable error', async () => {
    // Prepare
    const sleeps: number[] = [];
    let calls = 0;
    const operation = async () => {
      calls += 1;
      throw conditionFailed();
    };

    // Act
    const attempt = withRetry(operation, policy(sleeps));

    // Assess
    await expect(attempt).rejects.toThrow(/conditional request failed/);
    expect(calls).toBe(1);
    expect(sleeps).toEqual([]);
  });
});
