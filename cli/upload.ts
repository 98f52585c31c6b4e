/**
 * Creates a batch: inline when the essays fit one request, otherwise create with `essay_count`,
 * upload pages with `POST /batches/{id}/essays`, then `POST /batches/{id}/start`.
 */

import { DEFAULT_CONFIG } from '#domain/config.ts';
import type { ApiClient, BatchState, CreateBatchRequest, EssayInput } from './api.ts';
import { CLI_DEFAULTS } from './defaults.ts';

export interface PageLimits {
  maxBytes: number;
  maxEssays: number;
}

export const DEFAULT_PAGE_LIMITS: PageLimits = {
  maxBytes: CLI_DEFAULTS.UPLOAD_PAGE_MAX_BYTES,
  maxEssays: DEFAULT_CONFIG.MAX_ESSAYS_PER_PAGE,
};

// Room for the other fields of the body (`offset`, `budget`, `judge`, `config`).
const PAGE_ENVELOPE_BYTES = 4096;

/**
 * Bytes `value` takes in the Lambda event: API Gateway passes the body to the function as a JSON
 * string, so every quote and backslash of the body is escaped once more, and Lambda's 6 MB limit
 * applies to that event, not to the body (a backslash-heavy essay doubles in size).
 */
function eventBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(JSON.stringify(value)), 'utf8') - 2;
}

/** Splits essays into pages whose `{essays:[...]}` body stays within the limits (order kept). */
export function pageEssays(essays: readonly EssayInput[], limits: PageLimits): EssayInput[][] {
  const pages: EssayInput[][] = [];
  let page: EssayInput[] = [];
  let bytes = PAGE_ENVELOPE_BYTES;
  for (const essay of essays) {
    const size = eventBytes(essay) + 1;
    const full = page.length >= limits.maxEssays || bytes + size > limits.maxBytes;
    if (full && page.length > 0) {
      pages.push(page);
      page = [];
      bytes = PAGE_ENVELOPE_BYTES;
    }
    page.push(essay);
    bytes += size;
  }
  if (page.length > 0) pages.push(page);
  return pages;
}

export interface SubmitOptions extends Omit<CreateBatchRequest, 'essays' | 'essay_count'> {
  pageLimits?: PageLimits;
  /** Called after each uploaded page (for progress output). */
  onPage?: (uploaded: number, total: number) => void;
}

export interface SubmitOutcome {
  batchId: string;
  state: BatchState;
  pages: number;
}

export async function submitBatch(
  client: ApiClient,
  essays: readonly EssayInput[],
  options: SubmitOptions = {},
): Promise<SubmitOutcome> {
  const { pageLimits = DEFAULT_PAGE_LIMITS, onPage, ...rest } = options;
  const pages = pageEssays(essays, pageLimits);
  if (pages.length <= 1) {
    const state = await client.createBatch({ ...rest, essays: [...essays] });
    return { batchId: state.batch_id, state, pages: 0 };
  }
  const created = await client.createBatch({ ...rest, essay_count: essays.length });
  let uploaded = 0;
  for (const page of pages) {
    await client.addEssays(created.batch_id, page, uploaded);
    uploaded += page.length;
    onPage?.(uploaded, essays.length);
  }
  const state = await client.startBatch(created.batch_id);
  return { batchId: created.batch_id, state, pages: pages.length };
}
