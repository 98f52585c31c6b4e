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
  /** Largest response body read (PROVIDER_RESPONSE_MAX_BYTES); past it the call fails. */
  maxResponseBytes: number;
  fetch: FetchLike;
  now: () => number;
}

/**
 * Sends one JSON POST. Redirects are not followed (a key goes only to the URL it was meant for; a
 * 3xx is a permanent `redirect_refused` failure), an error status is classified without reading
 * its body, and a success body is read up to `maxResponseBytes` (`response_too_large` past it).
 */
export async function postJson(options: PostJsonOptions): Promise<HttpOutcome> {
  const started = options.now();
  const elapsed = () => Math.max(0, options.now() - started);
  const failed = (failure: HttpFailure): HttpOutcome => ({
    ok: false,
    failure,
    latencyMs: elapsed(),
  });
  let response: Response;
  try {
    response = await options.fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(options.body),
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    return failed(transportFailure(error));
  }
  if (!response.ok) {
    // Never read: the body may echo the prompt, and it is not needed to classify the status.
    await response.body?.cancel().catch(() => undefined);
    if (isRedirect(response)) return failed(REDIRECT_REFUSED);
    return failed(statusFailure(response.status, response.headers, options.now()));
  }
  let text: string;
  try {
    const read = await readCapped(response, options.maxResponseBytes);
    if (read === undefined) return failed(RESPONSE_TOO_LARGE);
    text = read;
  } catch (error) {
    return failed(transportFailure(error));
  }
  try {
    return { ok: true, body: JSON.parse(text) as unknown, latencyMs: elapsed() };
  } catch {
    return failed({
      outcome: 'failure',
      kind: 'provider_error',
      reason: 'response_not_json',
      retryable: true,
    });
  }
}

/** A 3xx, or the opaque answer a browser-style fetch gives for a redirect it did not follow. */
export function isRedirect(response: Response): boolean {
  return (response.status >= 300 && response.status < 400) || response.type === 'opaqueredirect';
}

const REDIRECT_REFUSED: HttpFailure = {
  outcome: 'failure',
  kind: 'invalid_request',
  reason: 'redirect_refused',
  retryable: false,
};

const RESPONSE_TOO_LARGE: HttpFailure = {
  outcome: 'failure',
  kind: 'provider_error',
  reason: 'response_too_large',
  retryable: false,
};

/**
 * The body as text, streamed and read at most `maxBytes` far: undefined (and the rest of the body
 * cancelled, unread) when it is longer, or when its declared length already is.
 */
export async function readCapped(
  response: Response,
  maxBytes: number,
): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const next = await reader.read();
    if (next.done) break;
    total += next.value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Thrown for a base URL an endpoint path cannot be safely joined to. */
export class InvalidBaseUrlError extends Error {
  constructor(readonly detail: string) {
    super(`invalid provider base URL: ${detail}`);
    this.name = 'InvalidBaseUrlError';
  }
}

/**
 * `path` (e.g. `/chat/completions`) appended to the base URL's own path, parsed as a URL: the base
 * must be http(s) with no user info, query or fragment, so nothing in it can move the path into
 * a query, a fragment or another host. Throws InvalidBaseUrlError otherwise.
 */
export function endpointUrl(baseUrl: string, path: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new InvalidBaseUrlError('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidBaseUrlError('not http(s)');
  }
  if (url.username !== '' || url.password !== '') throw new InvalidBaseUrlError('user info');
  if (url.search !== '' || baseUrl.includes('?')) throw new InvalidBaseUrlError('a query');
  if (url.hash !== '' || baseUrl.includes('#')) throw new InvalidBaseUrlError('a fragment');
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  return url.href;
}

/** The failure of a call whose base URL is refused by `endpointUrl` (a deployment mistake). */
export const INVALID_BASE_URL: HttpFailure = {
  outcome: 'failure',
  kind: 'invalid_request',
  reason: 'invalid_base_url',
  retryable: false,
};

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
