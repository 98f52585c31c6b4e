/**
 * The HTTP API client used by every command (and by the integration tests): one method per route,
 * JSON in and out, API errors turned into `ApiError` carrying the API's `field` and `message`.
 */
import { CLI_DEFAULTS } from './defaults.ts';
import { CliError, EXIT } from './errors.ts';
import type { RequestSigner } from './signing.ts';

export interface EssayInput {
  id: string;
  text: string;
  metadata?: Record<string, unknown>;
}

export interface JudgeOptions {
  provider: string;
  profile?: string;
  failure_rate?: number;
  position_bias?: number;
  latency_ms?: number;
  duplicate_callbacks?: number;
  drop_rate?: number;
  seed?: number;
}

export interface CreateBatchRequest {
  essays?: EssayInput[];
  essay_count?: number;
  budget?: number;
  judge?: JudgeOptions;
  config?: Record<string, unknown>;
}

export interface BtSeSummary {
  mean_se: number;
  max_se: number;
  mean_comparisons_per_item: number;
  isolated_items: number;
}

export interface BtQualityFlags {
  bt_se_inflated: boolean;
  comparison_coverage_sparse: boolean;
  has_isolated_items: boolean;
}

export interface ProcessingMetadata {
  max_possible_pairs?: number;
  successful_pairs_count?: number;
  unique_coverage_complete?: boolean;
  resampling_pass_count?: number;
  bt_se_summary?: BtSeSummary;
  bt_quality_flags?: BtQualityFlags;
  [key: string]: unknown;
}

/** `GET /batches/{id}` (snake_case, as the API returns it). */
export interface BatchState {
  batch_id: string;
  status: string;
  failure_reason?: string | null;
  essay_count: number;
  essays_stored?: number;
  submitted_comparisons: number;
  completed_comparisons: number;
  failed_comparisons: number;
  pending_callbacks: number;
  total_comparisons: number;
  total_budget: number;
  current_iteration?: number;
  resampling_pass_count?: number;
  completion_denominator?: number;
  processing_metadata?: ProcessingMetadata;
  created_at?: string;
  updated_at?: string;
  [key: string]: unknown;
}

export interface EssayResult {
  id: string;
  score: number;
  se: number;
  rank: number;
  comparisons: number;
  wins: number;
}

/** `GET /batches/{id}/results`: one row per essay, best first. */
export interface BatchResults {
  batch_id: string;
  status: string;
  essays: EssayResult[];
  [key: string]: unknown;
}

export const SUCCESS_STATUSES: ReadonlySet<string> = new Set([
  'COMPLETE_STABLE',
  'COMPLETE_BUDGET_EXHAUSTED',
  'COMPLETE_COVERAGE_CAP',
]);
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set([
  ...SUCCESS_STATUSES,
  'FAILED',
  'CANCELLED',
]);

/** The API answered with an error status; `field` names the bad input when the API says which. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly field: string | undefined,
    readonly detail: string,
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
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(this.baseUrl + path);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let headers: Record<string, string> = { accept: 'application/json' };
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
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new CliError(`cannot reach the API at ${this.baseUrl} (${cause})`, EXIT.UNREACHABLE);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (!response.ok) {
      const { field, detail } = describeErrorBody(parsed, response.statusText || 'request failed');
      throw new ApiError(response.status, parsed, field, detail);
    }
    return parsed as T;
  }

  createBatch(body: CreateBatchRequest): Promise<BatchState> {
    return this.request('POST', '/batches', body);
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

  getBatch(batchId: string): Promise<BatchState> {
    return this.request('GET', `/batches/${encodeURIComponent(batchId)}`);
  }

  getResults(batchId: string): Promise<BatchResults> {
    return this.request('GET', `/batches/${encodeURIComponent(batchId)}/results`);
  }

  cancelBatch(batchId: string): Promise<BatchState> {
    return this.request('POST', `/batches/${encodeURIComponent(batchId)}/cancel`, {});
  }

  mockMode(): Promise<unknown> {
    return this.request('GET', '/admin/mock-mode');
  }
}
