/**
 * Anthropic Message Batches: all requests go in one create call (`POST /v1/messages/batches`,
 * body `{"requests": [{custom_id, params}, …]}`, streamed as it is produced), the batch is polled
 * (`GET /v1/messages/batches/{id}`, `processing_status`: `in_progress`, `canceling`, `ended`) and,
 * once ended, its results are streamed from `results_url` (JSONL, one line per request, any
 * order, `result.type`: `succeeded`, `errored`, `canceled`, `expired`).
 *
 * Idempotency: the API honours no idempotency key and a batch carries nothing of ours but the
 * requests' custom ids, so `find` returns every batch created in the window of a lost create call;
 * the workflow tells them apart (see docs/judges.md, "Provider batches").
 * The key is sent only to this API's origin: a `results_url` elsewhere is refused.
 */
import {
  ANTHROPIC_API_VERSION,
  anthropicMessagesBody,
  decodeAnthropicMessage,
} from '../anthropic.ts';
import type { JudgePrompt } from '../prompt.ts';
import {
  type BatchHttp,
  checkedBaseUrl,
  numberField,
  ProviderBatchCallError,
  readableFrom,
  resultStream,
  send,
  sendForJson,
  stringField,
} from './http.ts';
import { canceledOutcome, decodedOutcome, erroredOutcome, expiredOutcome } from './outcomes.ts';
import type {
  CreateProviderBatchInput,
  FindProviderBatchInput,
  ProviderBatchApi,
  ProviderBatchLimits,
  ProviderBatchPhase,
  ProviderBatchStatus,
  ProviderResultLine,
  ProviderResultOutcome,
} from './port.ts';
import { decodeResultLines } from './result-lines.ts';
import { PROVIDER_BATCH_WINDOW_SECONDS } from './windows.ts';

/** Documented limits of one Message Batch: 100,000 requests or 256 MB, whichever comes first. */
export const ANTHROPIC_BATCH_LIMITS: ProviderBatchLimits = {
  maxRequests: 100_000,
  // The body is `{"requests":[` + lines + `]}`: leave room for the envelope.
  maxBytes: 256 * 1024 * 1024 - 1024,
};
const FIND_MAX_PAGES = 10;
const COUNT_KEYS = ['processing', 'succeeded', 'errored', 'canceled', 'expired'] as const;

export interface AnthropicBatchOptions {
  /** The API origin, e.g. `https://api.anthropic.com`. */
  baseUrl: string;
  apiKey: string | undefined;
  settings: { model: string; maxTokens: number; temperature?: number };
  http: BatchHttp;
  limits: ProviderBatchLimits;
  justificationMaxWords: number;
  maxLineBytes: number;
}

function phaseOf(status: string): ProviderBatchPhase {
  if (status === 'ended') return 'ended';
  if (status === 'canceling') return 'cancelling';
  return 'running';
}

export function anthropicBatchStatus(batch: Record<string, unknown>): ProviderBatchStatus {
  const id = stringField(batch, 'id');
  const status = stringField(batch, 'processing_status');
  if (!id || !status) {
    throw new ProviderBatchCallError('retrieve', null, 'unexpected_batch_object', true);
  }
  const counts: Record<string, number> = {};
  let total = 0;
  for (const key of COUNT_KEYS) {
    const value = numberField(batch.request_counts, key) ?? 0;
    counts[key] = value;
    total += value;
  }
  const createdAt = Date.parse(stringField(batch, 'created_at') ?? '');
  const resultsUrl = stringField(batch, 'results_url');
  return {
    id,
    phase: phaseOf(status),
    providerStatus: status,
    createdAtMs: Number.isNaN(createdAt) ? 0 : createdAt,
    requestCount: total,
    counts,
    resultSources: resultsUrl ? [resultsUrl] : [],
  };
}

/** One results line's `result` → the request's outcome. */
export function anthropicResultOutcome(
  result: unknown,
  justificationMaxWords: number,
): ProviderResultOutcome {
  const type = stringField(result, 'type');
  if (type === 'succeeded') {
    const message = (result as Record<string, unknown>).message;
    return decodedOutcome(decodeAnthropicMessage(message, 0, justificationMaxWords));
  }
  if (type === 'expired') return expiredOutcome();
  if (type === 'canceled') return canceledOutcome();
  if (type === 'errored') {
    // `error` is an error response: `{type: "error", error: {type, message}}` (or the bare inner).
    const error = (result as Record<string, unknown>).error;
    const inner = (error as Record<string, unknown> | undefined)?.error ?? error;
    return erroredOutcome(stringField(inner, 'type'));
  }
  return erroredOutcome(type ?? 'unknown_result');
}

export class AnthropicBatchApi implements ProviderBatchApi {
  readonly provider = 'anthropic' as const;
  readonly windowSeconds = PROVIDER_BATCH_WINDOW_SECONDS.anthropic;
  readonly findsBySubmissionKey = false;
  readonly limits: ProviderBatchLimits;
  readonly #base: string;

  constructor(private readonly options: AnthropicBatchOptions) {
    this.#base = checkedBaseUrl(options.baseUrl);
    this.limits = options.limits;
  }

  requestLine(customId: string, prompt: JudgePrompt): string {
    return JSON.stringify({
      custom_id: customId,
      params: anthropicMessagesBody(prompt, this.options.settings),
    });
  }

  #headers(): Record<string, string> {
    return {
      ...(this.options.apiKey ? { 'x-api-key': this.options.apiKey } : {}),
      'anthropic-version': ANTHROPIC_API_VERSION,
    };
  }

  async create(input: CreateProviderBatchInput): Promise<ProviderBatchStatus> {
    const batch = await sendForJson(this.options.http, {
      operation: 'create',
      method: 'POST',
      url: `${this.#base}/v1/messages/batches`,
      headers: this.#headers(),
      body: { stream: readableFrom(requestsBody(input.lines)), contentType: 'application/json' },
    });
    return anthropicBatchStatus(batch);
  }

  async find(input: FindProviderBatchInput): Promise<ProviderBatchStatus[]> {
    const found: ProviderBatchStatus[] = [];
    let after: string | undefined;
    for (let page = 0; page < FIND_MAX_PAGES; page += 1) {
      const query = `limit=100${after ? `&after_id=${encodeURIComponent(after)}` : ''}`;
      const list = await sendForJson(this.options.http, {
        operation: 'list',
        method: 'GET',
        url: `${this.#base}/v1/messages/batches?${query}`,
        headers: this.#headers(),
      });
      const data = Array.isArray(list.data) ? (list.data as unknown[]) : [];
      let older = false;
      for (const item of data) {
        if (item === null || typeof item !== 'object') continue;
        const status = anthropicBatchStatus(item as Record<string, unknown>);
        if (status.createdAtMs < input.createdFromMs) older = true;
        else if (status.createdAtMs <= input.createdToMs) found.push(status);
      }
      after = stringField(list, 'last_id') ?? stringField(data.at(-1), 'id');
      if (older || list.has_more !== true || !after) break;
    }
    return found;
  }

  async retrieve(id: string): Promise<ProviderBatchStatus> {
    return anthropicBatchStatus(
      await sendForJson(this.options.http, {
        operation: 'retrieve',
        method: 'GET',
        url: `${this.#base}/v1/messages/batches/${encodeURIComponent(id)}`,
        headers: this.#headers(),
      }),
    );
  }

  async cancel(id: string): Promise<ProviderBatchStatus> {
    return anthropicBatchStatus(
      await sendForJson(this.options.http, {
        operation: 'cancel',
        method: 'POST',
        url: `${this.#base}/v1/messages/batches/${encodeURIComponent(id)}/cancel`,
        headers: this.#headers(),
      }),
    );
  }

  async *results(status: ProviderBatchStatus): AsyncGenerator<ProviderResultLine> {
    let position = 0;
    for (const url of status.resultSources) {
      if (new URL(url).origin !== new URL(this.#base).origin) {
        // Never send the key elsewhere: the requests stay missing and fail as such.
        throw new ProviderBatchCallError('results', null, 'results_url_foreign_origin', false);
      }
      const bytes = resultStream(this.options.http, {
        operation: 'results',
        method: 'GET',
        url,
        headers: this.#headers(),
      });
      const lines = decodeResultLines(bytes, this.options.maxLineBytes, position, (parsed) =>
        anthropicResultOutcome(parsed.result, this.options.justificationMaxWords),
      );
      for await (const line of lines) {
        position = line.position + 1;
        yield line;
      }
    }
  }

  async cleanup(status: ProviderBatchStatus): Promise<void> {
    // An ended batch can be deleted: its requests (essay text) and results leave the provider.
    try {
      await send(this.options.http, {
        operation: 'delete',
        method: 'DELETE',
        url: `${this.#base}/v1/messages/batches/${encodeURIComponent(status.id)}`,
        headers: this.#headers(),
      });
    } catch {
      // Best effort: the provider deletes results after its retention period anyway.
    }
  }
}

const encoder = new TextEncoder();

/** `{"requests":[line,line,…]}`, streamed. */
async function* requestsBody(lines: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  yield encoder.encode('{"requests":[');
  let first = true;
  for await (const line of lines) {
    yield encoder.encode(first ? line : `,${line}`);
    first = false;
  }
  yield encoder.encode(']}');
}
