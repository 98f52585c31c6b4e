/**
 * The HTTP API client used by every command (and by the integration tests): one method per route,
 * JSON in and out, API errors turned into `ApiError` carrying the API's `field` and `message`.
 */
import type { z } from 'zod';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import type {
  createBatchRequestSchema,
  essayInputSchema,
  judgeChoiceSchema,
  mockJudgeSchema,
} from '#messages/api.ts';
import type {
  BatchList,
  BatchResults,
  BatchState,
  BatchSummary,
  ResultRow,
} from '#messages/state.ts';
import type { BatchWaves } from '#messages/waves.ts';
import { CLI_DEFAULTS } from './defaults.ts';
import { CliError, EXIT, UnreachableError } from './errors.ts';
import type { RequestSigner } from './signing.ts';

/*
 * Every body is typed by the API's own zod contracts (`shared/messages`): requests as the schema's
 * input (what a client may send: `v` optional), answers as its output.
 */
export type EssayInput = z.input<typeof essayInputSchema>;
export type JudgeOptions = z.input<typeof judgeChoiceSchema>;
export type MockJudgeOptions = z.input<typeof mockJudgeSchema>;
export type CreateBatchRequest = z.input<typeof createBatchRequestSchema>;
export type { BatchList, BatchResults, BatchState, BatchSummary, BatchWaves };
/** One row of the results: `GET /batches/{id}/results` lists them best first. */
export type EssayResult = ResultRow;

/** The API answered with an error status; `field` names the bad input when the API says which. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly field: string | undefined,
    readonly detail: string,
    /** From a `Retry-After` header (429, 503): how long the server asks the client to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(`API error ${status}${field ? ` (field ${field})` : ''}: ${detail}`, EXIT.API);
    this.name = 'ApiError';
  }
}

export interface ApiClientOptions {
  baseUrl: string;
  signer?: RequestSigner;
  timeoutMs?: number;
}

function describeErrorBody(body: unknown, fallback: string): { field?: string; detail: string } {
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    const field = typeof record.field === 'string' ? record.field : undefined;
    const message =
      typeof record.message === 'string'
        ? record.message
        : typeof record.error === 'string'
          ? record.error
          : fallback;
    return field === undefined ? { detail: message } : { field, detail: message };
  }
  return { detail: fallback };
}

/** The code of a fetch failure: the socket error's code (`ECONNRESET`...) or the error's name. */
function networkErrorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; name?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if ((error as Error).name === 'TypeError' && typeof cause?.name === 'string') return cause.name;
  return (error as Error).name ?? 'Error';
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly signer: RequestSigner | undefined;
  private readonly timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.signer = options.signer;
    this.timeoutMs = options.timeoutMs ?? CLI_DEFAULTS.REQUEST_TIMEOUT_MS;
  }

  /** Sends one request; returns the parsed JSON body of a 2xx answer, throws `ApiError` otherwise. */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<T> {
    const url = new URL(this.baseUrl + path);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (this.signer) {
      headers = await this.signer({
        method,
        url,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
      });
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new UnreachableError(this.baseUrl, networkErrorCode(error));
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      // The connection broke while the body was arriving (reset, timeout).
      throw new UnreachableError(this.baseUrl, networkErrorCode(error));
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (!response.ok) {
      const { field, detail } = describeErrorBody(parsed, response.statusText || 'request failed');
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      throw new ApiError(response.status, parsed, field, detail, retryAfterMs);
    }
    return parsed as T;
  }

  /** `idempotencyKey`: a retried create with the same key (from the same caller) finds its batch. */
  createBatch(body: CreateBatchRequest, idempotencyKey?: string): Promise<BatchState> {
    return this.request(
      'POST',
      '/batches',
      body,
      idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey },
    );
  }

  /** One page of a paged upload; `offset` is the index of its first essay (essays stored so far). */
  addEssays(batchId: string, essays: EssayInput[], offset: number): Promise<BatchState> {
    return this.request('POST', `/batches/${encodeURIComponent(batchId)}/essays`, {
      offset,
      essays,
    });
  }

  startBatch(batchId: string): Promise<BatchState> {
    return this.request('POST', `/batches/${encodeURIComponent(batchId)}/start`, {});
  }

  /** One page of the caller's batches, newest first (`GET /batches?limit&status&cursor`). */
  listBatchesPage(
    page: { limit?: number; status?: string; cursor?: string } = {},
  ): Promise<BatchList> {
    const query = new URLSearchParams();
    if (page.limit !== undefined) query.set('limit', String(page.limit));
    if (page.status !== undefined) query.set('status', page.status);
    if (page.cursor !== undefined) query.set('cursor', page.cursor);
    const suffix = query.size > 0 ? `?${query.toString()}` : '';
    return this.request('GET', `/batches${suffix}`);
  }

  /**
   * The caller's batches, newest first, following cursors until `limit` batches (every batch when
   * `limit` is undefined); `status` keeps only batches in that status.
   */
  async listBatches(options: { limit?: number; status?: string } = {}): Promise<BatchSummary[]> {
    const batches: BatchSummary[] = [];
    let cursor: string | undefined;
    do {
      const remaining =
        options.limit === undefined
          ? undefined
          : Math.min(options.limit - batches.length, DEFAULT_CONFIG.BATCH_LIST_PAGE_SIZE);
      const page = await this.listBatchesPage({
        ...(remaining === undefined ? {} : { limit: remaining }),
        ...(options.status === undefined ? {} : { status: options.status }),
        ...(cursor === undefined ? {} : { cursor }),
      });
      batches.push(...page.batches);
      cursor = page.next_cursor;
    } while (
      cursor !== undefined &&
      (options.limit === undefined || batches.length < options.limit)
    );
    return batches;
  }

  getBatch(batchId: string): Promise<BatchState> {
    return this.request('GET', `/batches/${encodeURIComponent(batchId)}`);
  }

  /** One page of the results (`GET /batches/{id}/results?limit&cursor`), best first. */
  getResultsPage(
    batchId: string,
    page: { limit?: number; cursor?: string } = {},
  ): Promise<BatchResults> {
    const query = new URLSearchParams();
    if (page.limit !== undefined) query.set('limit', String(page.limit));
    if (page.cursor !== undefined) query.set('cursor', page.cursor);
    const suffix = query.size > 0 ? `?${query.toString()}` : '';
    return this.request('GET', `/batches/${encodeURIComponent(batchId)}/results${suffix}`);
  }

  /** The whole results, best first: every page, followed by `next_cursor`. */
  async getResults(batchId: string, pageLimit?: number): Promise<BatchResults> {
    const first = await this.getResultsPage(batchId, { limit: pageLimit });
    const essays = [...first.essays];
    let cursor = first.next_cursor;
    while (cursor !== undefined) {
      const page = await this.getResultsPage(batchId, { limit: pageLimit, cursor });
      essays.push(...page.essays);
      cursor = page.next_cursor;
    }
    return {
      v: first.v,
      batch_id: first.batch_id,
      status: first.status,
      total: first.total,
      essays,
    };
  }

  /** The batch's wave history (`GET /batches/{id}/waves`): decisions, sizes, pending over time. */
  getWaves(batchId: string): Promise<BatchWaves> {
    return this.request('GET', `/batches/${encodeURIComponent(batchId)}/waves`);
  }

  cancelBatch(batchId: string): Promise<BatchState> {
    return this.request('POST', `/batches/${encodeURIComponent(batchId)}/cancel`, {});
  }

  mockMode(): Promise<unknown> {
    return this.request('GET', '/admin/mock-mode');
  }
}
