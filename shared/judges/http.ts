/**
 * One provider HTTP call with a timeout, and the classification of what came back:
 * transient (429, 5xx/529, timeouts, network errors: retryable) vs permanent (400, 401, 403, 404
 * and other 4xx: not retryable). Reasons are short codes: never a response body (it may echo the
 * prompt, i.e. essay text) and never a header (it may carry the key).
 */
import type { JudgeFailure } from './port.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** A failure from the HTTP layer, with the provider's requested wait when it gave one. */
export type HttpFailure = JudgeFailure;

export type HttpOutcome =
  | { ok: true; body: unknown; latencyMs: number }
  | { ok: false; failure: HttpFailure; latencyMs: number };

export interface PostJsonOptions {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
  fetch: FetchLike;
  now: () => number;
}

export async function postJson(options: PostJsonOptions): Promise<HttpOutcome> {
  const started = options.now();
  const elapsed = () => Math.max(0, options.now() - started);
  let response: Response;
  try {
    response = await options.fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    return { ok: false, failure: transportFailure(error), latencyMs: elapsed() };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return { ok: false, failure: transportFailure(error), latencyMs: elapsed() };
  }
  if (!response.ok) {
    return {
      ok: false,
      failure: statusFailure(response.status, response.headers, options.now()),
      latencyMs: elapsed(),
    };
  }
  try {
    return { ok: true, body: JSON.parse(text) as unknown, latencyMs: elapsed() };
  } catch {
    return {
      ok: false,
      failure: {
        outcome: 'failure',
        kind: 'provider_error',
        reason: 'response_not_json',
        retryable: true,
      },
      latencyMs: elapsed(),
    };
  }
}

function transportFailure(error: unknown): HttpFailure {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return { outcome: 'failure', kind: 'timeout', reason: 'call_timeout', retryable: true };
  }
  return { outcome: 'failure', kind: 'provider_error', reason: 'network_error', retryable: true };
}

/** Maps an HTTP error status to a failure; 429 and 5xx carry the provider's retry-after. */
export function statusFailure(status: number, headers: Headers, nowMs: number): HttpFailure {
  const reason = `http_${status}`;
  const retryAfterMs = parseRetryAfter(headers, nowMs);
  const wait = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (status === 429) {
    return { outcome: 'failure', kind: 'rate_limited', reason, retryable: true, ...wait };
  }
  if (status === 408) {
    return { outcome: 'failure', kind: 'timeout', reason, retryable: true, ...wait };
  }
  if (status >= 500) {
    return { outcome: 'failure', kind: 'provider_error', reason, retryable: true, ...wait };
  }
  // 400 (bad request, e.g. an unknown model), 401/403 (key), 404 (endpoint or model): permanent.
  return { outcome: 'failure', kind: 'invalid_request', reason, retryable: false };
}

/**
 * The wait a provider asked for: `retry-after-ms` (OpenAI), else `retry-after` as delta-seconds or
 * an HTTP date. Undefined when absent or unreadable; never negative.
 */
export function parseRetryAfter(headers: Headers, nowMs: number): number | undefined {
  const milliseconds = headers.get('retry-after-ms');
  if (milliseconds !== null && /^\s*\d+(\.\d+)?\s*$/.test(milliseconds)) {
    return Math.round(Number(milliseconds));
  }
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.round(Number(value) * 1000);
  // An HTTP date names its day and month; Date.parse alone would read "-3" as a year.
  if (!/[a-z]{3}/i.test(value)) return undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

export interface RetryDelayConfig {
  JUDGE_RETRY_BASE_DELAY_MS: number;
  JUDGE_RETRY_MAX_DELAY_MS: number;
  JUDGE_RETRY_AFTER_MAX_MS: number;
}

/**
 * Sleep before in-process attempt `attempt + 1`: full-jitter exponential backoff
 * uniform(0, min(max, base·2^attempt)), but never shorter than the provider's retry-after
 * (capped at JUDGE_RETRY_AFTER_MAX_MS).
 */
export function retryDelayMs(
  attempt: number,
  failure: JudgeFailure,
  config: RetryDelayConfig,
  random: () => number,
): number {
  const cap = Math.min(
    config.JUDGE_RETRY_MAX_DELAY_MS,
    config.JUDGE_RETRY_BASE_DELAY_MS * 2 ** attempt,
  );
  const backoff = random() * cap;
  if (failure.retryAfterMs === undefined) return backoff;
  return Math.max(backoff, Math.min(failure.retryAfterMs, config.JUDGE_RETRY_AFTER_MAX_MS));
}
