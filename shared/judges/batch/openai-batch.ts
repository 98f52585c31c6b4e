/**
 * OpenAI Batch API (and OpenAI-compatible servers that implement its shape): the request lines
 * are uploaded as one JSONL file (`POST /files`, multipart, `purpose=batch`), the batch is created
 * over it (`POST /batches`, `completion_window: 24h`, our submission key in `metadata`), polled
 * (`GET /batches/{id}`), and its output and error files are streamed (`GET /files/{id}/content`).
 *
 * Statuses: `validating`, `in_progress`, `finalizing` → running; `cancelling`; `completed`,
 * `expired`, `cancelled`, `failed` → ended. An expired or cancelled batch returns what it finished
 * in the output file and the rest in the error file (`batch_expired`, `batch_cancelled`). A
 * `failed` batch (the input was refused) has no results: every request fails with its reason.
 *
 * Idempotency: the API takes no idempotency key; `metadata.cj_submission` (echoed on the batch
 * object) lets `find` list batches and pick ours exactly after a crash lost the create's answer.
 */
import type { ChatDialectOptions } from '../openai.ts';
import { chatCompletionsBody, decodeChatCompletion } from '../openai.ts';
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
import {
  batchFailedReason,
  canceledOutcome,
  decodedOutcome,
  erroredOutcome,
  expiredOutcome,
  httpStatusOutcome,
} from './outcomes.ts';
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

/** Documented limits of one batch input file: 50,000 requests, 200 MB. */
export const OPENAI_BATCH_LIMITS: ProviderBatchLimits = {
  maxRequests: 50_000,
  maxBytes: 200 * 1024 * 1024,
};
/** `completion_window`: the only value the API accepts. */
export const OPENAI_COMPLETION_WINDOW = '24h';
/** The metadata key carrying our submission key (keys ≤ 64 chars, values ≤ 512). */
export const SUBMISSION_METADATA_KEY = 'cj_submission';
/** The endpoint every line targets (relative to the API origin, as the Batch API expects). */
const LINE_URL = '/v1/chat/completions';
/** Pages of 100 batches examined by `find` before it gives up (newest first). */
const FIND_MAX_PAGES = 20;

export interface OpenAiBatchOptions {
  /** Up to and including the API version, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  apiKey: string | undefined;
  settings: { model: string; maxTokens: number; temperature?: number };
  /** OpenAI: `max_completion_tokens` and a strict JSON schema; compatible servers may differ. */
  dialect: Pick<ChatDialectOptions, 'maxTokensField' | 'responseFormat'>;
  http: BatchHttp;
  limits: ProviderBatchLimits;
  justificationMaxWords: number;
  maxLineBytes: number;
}

const RUNNING = new Set(['validating', 'in_progress', 'finalizing']);

function phaseOf(status: string): ProviderBatchPhase {
  if (RUNNING.has(status)) return 'running';
  if (status === 'cancelling') return 'cancelling';
  // completed, expired, cancelled, failed — and any status this adapter does not know yet is
  // treated as running, so an unknown word never makes us read results that are not there.
  return status === 'completed' ||
    status === 'expired' ||
    status === 'cancelled' ||
    status === 'failed'
    ? 'ended'
    : 'running';
}

export function openAiBatchStatus(batch: Record<string, unknown>): ProviderBatchStatus {
  const id = stringField(batch, 'id');
  const status = stringField(batch, 'status');
  if (!id || !status) {
    throw new ProviderBatchCallError('retrieve', null, 'unexpected_batch_object', true);
  }
  const counts = batch.request_counts;
  const errors = batch.errors as { data?: Array<{ code?: unknown }> } | null | undefined;
  const sources = [stringField(batch, 'output_file_id'), stringField(batch, 'error_file_id')];
  const inputFileId = stringField(batch, 'input_file_id');
  return {
    id,
    phase: phaseOf(status),
    providerStatus: status,
    createdAtMs: (numberField(batch, 'created_at') ?? 0) * 1000,
    requestCount: numberField(counts, 'total') ?? 0,
    counts: {
      total: numberField(counts, 'total') ?? 0,
      completed: numberField(counts, 'completed') ?? 0,
      failed: numberField(counts, 'failed') ?? 0,
    },
    ...(status === 'failed'
      ? { failure: { kind: 'invalid_request', reason: batchFailedReason(errors?.data?.[0]?.code) } }
      : {}),
    resultSources: sources.filter((source): source is string => Boolean(source)),
    ...(inputFileId ? { inputFileId } : {}),
  };
}

/** One output- or error-file line → the request's outcome. */
export function openAiResultOutcome(
  line: Record<string, unknown>,
  justificationMaxWords: number,
): ProviderResultOutcome {
  const error = line.error;
  if (error !== null && typeof error === 'object') {
    const code = stringField(error, 'code');
    if (code === 'batch_expired') return expiredOutcome();
    if (code === 'batch_cancelled') return canceledOutcome();
    return erroredOutcome(code);
  }
  const response = line.response;
  const status = numberField(response, 'status_code');
  if (status === undefined) return erroredOutcome('no_response');
  if (status !== 200) return httpStatusOutcome(status);
  const body = (response as Record<string, unknown>).body;
  return decodedOutcome(decodeChatCompletion(body, 0, justificationMaxWords));
}

export class OpenAiBatchApi implements ProviderBatchApi {
  readonly provider = 'openai' as const;
  readonly windowSeconds = PROVIDER_BATCH_WINDOW_SECONDS.openai;
  readonly findsBySubmissionKey = true;
  readonly limits: ProviderBatchLimits;
  readonly #base: string;

  constructor(private readonly options: OpenAiBatchOptions) {
    this.#base = checkedBaseUrl(options.baseUrl);
    this.limits = options.limits;
  }

  requestLine(customId: string, prompt: JudgePrompt): string {
    return JSON.stringify({
      custom_id: customId,
      method: 'POST',
      url: LINE_URL,
      body: chatCompletionsBody(prompt, this.options.settings, this.options.dialect),
    });
  }

  #headers(): Record<string, string> {
    return this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {};
  }

  async create(input: CreateProviderBatchInput): Promise<ProviderBatchStatus> {
    const boundary = `cj-${input.submissionKey.replace(/[^A-Za-z0-9]/g, '')}-${Date.now()}`;
    const file = await sendForJson(this.options.http, {
      operation: 'upload',
      method: 'POST',
      url: `${this.#base}/files`,
      headers: this.#headers(),
      body: {
        stream: readableFrom(multipart(boundary, `${input.submissionKey}.jsonl`, input.lines)),
        contentType: `multipart/form-data; boundary=${boundary}`,
      },
    });
    const fileId = stringField(file, 'id');
    if (!fileId) throw new ProviderBatchCallError('upload', null, 'unexpected_file_object', true);
    const batch = await sendForJson(this.options.http, {
      operation: 'create',
      method: 'POST',
      url: `${this.#base}/batches`,
      headers: this.#headers(),
      body: {
        json: {
          input_file_id: fileId,
          endpoint: LINE_URL,
          completion_window: OPENAI_COMPLETION_WINDOW,
          metadata: { [SUBMISSION_METADATA_KEY]: input.submissionKey },
        },
      },
    });
    return openAiBatchStatus(batch);
  }

  async find(input: FindProviderBatchInput): Promise<ProviderBatchStatus[]> {
    const found: ProviderBatchStatus[] = [];
    let after: string | undefined;
    for (let page = 0; page < FIND_MAX_PAGES; page += 1) {
      const query = `limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`;
      const list = await sendForJson(this.options.http, {
        operation: 'list',
        method: 'GET',
        url: `${this.#base}/batches?${query}`,
        headers: this.#headers(),
      });
      const data = Array.isArray(list.data) ? (list.data as unknown[]) : [];
      let older = false;
      for (const item of data) {
        if (item === null || typeof item !== 'object') continue;
        const batch = item as Record<string, unknown>;
        const createdAtMs = (numberField(batch, 'created_at') ?? 0) * 1000;
        if (createdAtMs < input.createdFromMs) older = true;
        const metadata = batch.metadata;
        if (stringField(metadata, SUBMISSION_METADATA_KEY) === input.submissionKey) {
          found.push(openAiBatchStatus(batch));
        }
      }
      const last = data.at(-1);
      after = stringField(last, 'id');
      // Newest first: once a page reaches batches older than the window, nothing older matters.
      if (older || list.has_more !== true || !after) break;
    }
    return found;
  }

  async retrieve(id: string): Promise<ProviderBatchStatus> {
    return openAiBatchStatus(
      await sendForJson(this.options.http, {
        operation: 'retrieve',
        method: 'GET',
        url: `${this.#base}/batches/${encodeURIComponent(id)}`,
        headers: this.#headers(),
      }),
    );
  }

  async cancel(id: string): Promise<ProviderBatchStatus> {
    return openAiBatchStatus(
      await sendForJson(this.options.http, {
        operation: 'cancel',
        method: 'POST',
        url: `${this.#base}/batches/${encodeURIComponent(id)}/cancel`,
        headers: this.#headers(),
      }),
    );
  }

  async *results(status: ProviderBatchStatus): AsyncGenerator<ProviderResultLine> {
    let position = 0;
    for (const fileId of status.resultSources) {
      const bytes = resultStream(this.options.http, {
        operation: 'results',
        method: 'GET',
        url: `${this.#base}/files/${encodeURIComponent(fileId)}/content`,
        headers: this.#headers(),
      });
      const lines = decodeResultLines(bytes, this.options.maxLineBytes, position, (parsed) =>
        openAiResultOutcome(parsed, this.options.justificationMaxWords),
      );
      for await (const line of lines) {
        position = line.position + 1;
        yield line;
      }
    }
  }

  async cleanup(status: ProviderBatchStatus): Promise<void> {
    const files = [status.inputFileId, ...status.resultSources].filter((id): id is string =>
      Boolean(id),
    );
    for (const fileId of files) {
      try {
        await send(this.options.http, {
          operation: 'delete_file',
          method: 'DELETE',
          url: `${this.#base}/files/${encodeURIComponent(fileId)}`,
          headers: this.#headers(),
        });
      } catch {
        // Best effort: a file left behind costs storage, not correctness.
      }
    }
  }
}

const encoder = new TextEncoder();

/** The multipart/form-data body of a batch file upload, with the JSONL streamed in the middle. */
async function* multipart(
  boundary: string,
  filename: string,
  lines: AsyncIterable<string>,
): AsyncGenerator<Uint8Array> {
  yield encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
      'Content-Type: application/jsonl\r\n\r\n',
  );
  for await (const line of lines) yield encoder.encode(`${line}\n`);
  yield encoder.encode(`\r\n--${boundary}--\r\n`);
}
