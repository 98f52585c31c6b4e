import { describe, expect, it } from 'vitest';
import { ApiError } from '#cli/api.ts';
import { UnreachableError, UsageError } from '#cli/errors.ts';
import { FailureStreak, GaveUpError, isTransient } from '#cli/retry.ts';

const POLICY = { maxConsecutiveFailures: 4, baseDelayMs: 100, maxDelayMs: 300 };

describe('which failures are retried', () => {
  it.each([
    [new ApiError(500, {}, undefined, 'internal'), true],
    [new ApiError(503, {}, undefined, 'integration timeout'), true],
    [new ApiError(429, {}, undefined, 'slow down'), true],
    [new ApiError(404, {}, 'id', 'no such batch'), false],
    [new ApiError(409, {}, 'status', 'not finalized'), false],
    [new UnreachableError('http://x', 'ECONNRESET'), true],
    [new UnreachableError('http://x', 'UND_ERR_SOCKET'), true],
    [new UnreachableError('http://x', 'TimeoutError'), true],
    [new UnreachableError('http://x', 'ECONNREFUSED'), false],
    [new UsageError('--budget', 'bad'), false],
    [new Error('a bug'), false],
  ])('%s → transient %s', (error, transient) => {
    // Act
    const verdict = isTransient(error);

    // Assess
    expect(verdict).toBe(transient);
  });
});

describe('FailureStreak', () => {
  it('doubles the delay per failure in a row, capped, with jitter between half and the whole step', () => {
    // Prepare
    const low = new FailureStreak(POLICY, () => 0);
    const high = new FailureStreak(POLICY, () => 1);
    const error = new ApiError(500, {}, undefined, 'x');

    // Act
    const lows = [1, 2, 3].map(() => low.failed(error));
    const highs = [1, 2, 3].map(() => high.failed(error));

    // Assess
    expect(lows).toEqual([50, 100, 150]);
    expect(highs).toEqual([100, 200, 300]);
  });

  it('waits at least what a Retry-After asks (up to the cap)', () => {
    // Prepare
    const streak = new FailureStreak(POLICY, () => 0);

    // Act
    const delay = streak.failed(new ApiError(429, {}, undefined, 'x', 250));
    const capped = streak.failed(new ApiError(429, {}, undefined, 'x', 60_000));

    // Assess
    expect(delay).toBe(250);
    expect(capped).toBe(300);
  });

  it('gives up at the limit with the last error and its exit code; a success resets the count', () => {
    // Prepare
    const streak = new FailureStreak(POLICY, () => 0);
    const error = new UnreachableError('http://x', 'ECONNRESET');
    for (let i = 0; i < POLICY.maxConsecutiveFailures - 1; i++) streak.failed(error);
    streak.succeeded();
    for (let i = 0; i < POLICY.maxConsecutiveFailures - 1; i++) streak.failed(error);

    // Act
    let thrown: unknown;
    try {
      streak.failed(error);
    } catch (caught) {
      thrown = caught;
    }

    // Assess
    expect(thrown).toBeInstanceOf(GaveUpError);
    expect((thrown as GaveUpError).message).toBe(
      'cannot reach the API at http://x (ECONNRESET) (gave up after 4 failed attempts in a row)',
    );
    expect((thrown as GaveUpError).exitCode).toBe(4);
  });

  it('rethrows a failure that is not transient at once', () => {
    // Prepare
    const streak = new FailureStreak(POLICY);
    const notFound = new ApiError(404, {}, 'id', 'no such batch');

    // Act
    const act = () => streak.failed(notFound);

    // Assess
    expect(act).toThrow(notFound);
    expect(streak.count).toBe(0);
  });
});
