/**
 * HTTP failure classification, retry-after parsing and the retry delay: transient errors are
 * retryable and keep the provider's requested wait; permanent ones are not; the delay is full
 * jitter under the cap but never shorter than a (capped) retry-after.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { parseRetryAfter, retryDelayMs, statusFailure } from '#shared/judges/http.ts';
import type { JudgeFailure } from '#shared/judges/port.ts';

const NOW = Date.parse('2026-11-27T09:00:00.000Z');

describe('parseRetryAfter', () => {
  it.each([
    [{ 'retry-after': '7' }, 7000],
    [{ 'retry-after': '0.5' }, 500],
    [{ 'retry-after': 'Fri, 27 Nov 2026 09:00:12 GMT' }, 12_000],
    [{ 'retry-after': 'Fri, 27 Nov 2026 08:59:00 GMT' }, 0],
    [{ 'retry-after-ms': '1500', 'retry-after': '9' }, 1500],
  ])('reads %j as %i ms', (headers, expected) => {
    // Act
    const wait = parseRetryAfter(new Headers(headers), NOW);

    // Assess
    expect(wait).toBe(expected);
  });

  it.each([[{}], [{ 'retry-after': 'soon' }], [{ 'retry-after': '-3' }]])(
    'gives no wait for %j',
    (headers) => {
      // Act
      const wait = parseRetryAfter(new Headers(headers), NOW);

      // Assess
      expect(wait).toBeUndefined();
    },
  );
});

describe('statusFailure', () => {
  it.each([
    [429, 'rate_limited', true],
    [408, 'timeout', true],
    [500, 'provider_error', true],
    [502, 'provider_error', true],
    [503, 'provider_error', true],
    [529, 'provider_error', true],
    [400, 'invalid_request', false],
    [401, 'invalid_request', false],
    [403, 'invalid_request', false],
    [404, 'invalid_request', false],
    [422, 'invalid_request', false],
  ])('classifies HTTP %i as %s (retryable %s)', (status, kind, retryable) => {
    // Act
    const failure = statusFailure(status, new Headers(), NOW);

    // Assess
    expect(failure).toMatchObject({
      outcome: 'failure',
      kind,
      retryable,
      reason: `http_${status}`,
    });
  });

  it('keeps the retry-after of a 429 and a 503', () => {
    // Act
    const limited = statusFailure(429, new Headers({ 'retry-after': '4' }), NOW);
    const unavailable = statusFailure(503, new Headers({ 'retry-after': '1' }), NOW);

    // Assess
    expect(limited.retryAfterMs).toBe(4000);
    expect(unavailable.retryAfterMs).toBe(1000);
  });
});

describe('retryDelayMs', () => {
  const limited = (retryAfterMs?: number): JudgeFailure => ({
    outcome: 'failure',
    kind: 'rate_limited',
    reason: 'http_429',
    retryable: true,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });

  it('waits the retry-after when it exceeds the backoff, capped at JUDGE_RETRY_AFTER_MAX_MS', () => {
    // Act
    const asked = retryDelayMs(1, limited(3000), DEFAULT_CONFIG, () => 0.5);
    const capped = retryDelayMs(1, limited(10 * 60_000), DEFAULT_CONFIG, () => 0.5);

    // Assess
    expect(asked).toBe(3000);
    expect(capped).toBe(DEFAULT_CONFIG.JUDGE_RETRY_AFTER_MAX_MS);
  });

  it('stays within full jitter of the exponential cap and at least the capped retry-after', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.option(fc.integer({ min: 0, max: 120_000 }), { nil: undefined }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, retryAfter, random) => {
          // Act
          const delay = retryDelayMs(attempt, limited(retryAfter), DEFAULT_CONFIG, () => random);

          // Assess
          const cap = Math.min(
            DEFAULT_CONFIG.JUDGE_RETRY_MAX_DELAY_MS,
            DEFAULT_CONFIG.JUDGE_RETRY_BASE_DELAY_MS * 2 ** attempt,
          );
          const floor = Math.min(retryAfter ?? 0, DEFAULT_CONFIG.JUDGE_RETRY_AFTER_MAX_MS);
          expect(delay).toBeGreaterThanOrEqual(floor);
          expect(delay).toBeLessThanOrEqual(Math.max(cap, floor));
        },
      ),
    );
  });
});
