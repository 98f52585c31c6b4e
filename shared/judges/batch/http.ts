/**
 * HTTP for the provider batch APIs: control calls (create, retrieve, list, cancel) with a timeout,
 * and result files as byte streams. A failed call throws `ProviderBatchCallError` carrying only a
 * short code and whether trying again can help — never a response body (it may echo a prompt,
 * i.e. essay text) and never a header (it may carry the key). Redirects are not followed: a key is
 * sent only to the URL it was meant for.
 */
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { endpointUrl, type FetchLike, isRedirect, readCapped } from '../http.ts';

export class ProviderBatchCallError extends Error {
  constructor(
    /** What failed, e.g. `create`, `retrieve`, `results`. */
    readonly operation: string,
    /** HTTP status, or null for a network error or timeout. */
    readonly status: number | null,
    /** Short code: `http_429`, `network_error`, `call_timeout`, `response_not_json`… */
    readonly reason: string,
    /** 429, 5xx, 408, network errors and timeouts: the next run may succeed. */
    readonly retryable: boolean,
  ) {
    super(`provider batch ${operation} failed: ${reason}`);
    this.name = 'ProviderBatchCallError';
  }
}

export interface BatchHttp {
  fetch: FetchLike;
  /** Timeout of one control call or one upload, in milliseconds. */
  timeoutMs: number;
  /** Largest control-call response read (PROVIDER_RESPONSE_MAX_BYTES unless given). */
  maxResponseBytes?: number;
}

export interface BatchCall {
  operation: string;
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  /** A JSON value, or a byte stream sent as it is produced (uploads). */
  body?: { json: unknown } | { stream: ReadableStream<Uint8Array>; contentType: string };
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Sends one call and returns the response once its status is 2xx; throws otherwise. The timeout
 * covers the whole call (an upload included) unless `signal` is given: a results download is
 * bounded by its own idle timeout instead (see `resultStream`), since a large file may take longer.
 */
export async function send(
  http: BatchHttp,
  call: BatchCall,
  signal: AbortSignal = AbortSignal.timeout(http.timeoutMs),
): Promise<Response> {
  const headers: Record<string, string> = { ...call.headers };
  const init: RequestInit & { duplex?: 'half' } = {
    method: call.method,
    headers,
    redirect: 'manual',
    signal,
  };
  if (call.body && 'json' in call.body) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(call.body.json);
  } else if (call.body) {
    headers['content-type'] = call.body.contentType;
    init.body = call.body.stream;
    init.duplex = 'half';
  }
  let response: Response;
  try {
    response = await http.fetch(call.url, init);
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    const timedOut = name === 'TimeoutError' || name === 'AbortError';
    throw new ProviderBatchCallError(
      call.operation,
      null,
      timedOut ? 'call_timeout' : 'network_error',
      true,
    );
  }
  if (response.status < 200 || response.status >= 300) {
    // Drain without reading into memory; the body is never reported.
    await response.body?.cancel().catch(() => undefined);
    if (isRedirect(response)) {
      throw new ProviderBatchCallError(call.operation, response.status, 'redirect_refused', false);
    }
    throw new ProviderBatchCallError(
      call.operation,
      response.status,
      `http_${response.status}`,
      isRetryableStatus(response.status),
    );
  }
  return response;
}

/** Sends a control call and decodes its JSON object response (at most maxResponseBytes). */
export async function sendForJson(
  http: BatchHttp,
  call: BatchCall,
): Promise<Record<string, unknown>> {
  const response = await send(http, call);
  let text: string | undefined;
  try {
    text = await readCapped(
      response,
      http.maxResponseBytes ?? DEFAULT_CONFIG.PROVIDER_RESPONSE_MAX_BYTES,
    );
  } catch {
    throw new ProviderBatchCallError(call.operation, response.status, 'network_error', true);
  }
  if (text === undefined) {
    throw new ProviderBatchCallError(call.operation, response.status, 'response_too_large', false);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // reported below
  }
  throw new ProviderBatchCallError(call.operation, response.status, 'response_not_json', true);
}

/**
 * A provider batch API's base URL, checked once (http(s), no user info, query or fragment: see
 * endpointUrl) and without trailing slashes, so `${base}/batches/${encodeURIComponent(id)}` keeps
 * every path under it. Throws a non-retryable `invalid_base_url` call error otherwise.
 */
export function checkedBaseUrl(baseUrl: string): string {
  try {
    return endpointUrl(baseUrl, '').replace(/\/+$/, '');
  } catch {
    throw new ProviderBatchCallError('configure', null, 'invalid_base_url', false);
  }
}

/**
 * A results file as an async byte stream, never buffered whole: the response must start within
 * the call timeout, and then no wait between two chunks may exceed it (a stalled download fails
 * as `call_timeout` instead of hanging the function); the whole download may take longer.
 */
export async function* resultStream(http: BatchHttp, call: BatchCall): AsyncGenerator<Uint8Array> {
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), http.timeoutMs);
  const rearm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), http.timeoutMs);
  };
  try {
    const response = await send(http, call, controller.signal);
    rearm();
    if (!response.body) return;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        rearm();
        yield chunk;
      }
    } catch {
      throw new ProviderBatchCallError(
        call.operation,
        null,
        controller.signal.aborted ? 'call_timeout' : 'network_error',
        true,
      );
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/** A ReadableStream fed by an async iterable of byte chunks (streamed uploads). */
export function readableFrom(chunks: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

/** `value.key` as a string, or undefined. */
export function stringField(value: unknown, key: string): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : undefined;
}

/** `value.key` as a finite number, or undefined. */
export function numberField(value: unknown, key: string): number | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'number' && Number.isFinite(field) ? field : undefined;
}

/** Sanitizes a provider's machine code for a failure reason: `[a-z0-9_]`, at most 48 characters. */
export function codeOf(value: unknown, fallback: string): string {
  if (typeof value !== 'string') return fallback;
  const code = value
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .slice(0, 48);
  return code === '' ? fallback : code;
}
