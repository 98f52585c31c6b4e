/**
 * What the API shows of a stored batch: its state JSON and its results JSON (contracts in
 * `#messages/state.ts`). The completion denominator is the one the domain's
 * `completionDenominator` (the only completion math) gave when the batch was created.
 */
import { pendingCallbacks } from '#domain/batch-state.ts';
import { encodeResultsCursor } from '#messages/api.ts';
import type { BatchResults, BatchState, BatchSummary, ResultRow } from '#messages/state.ts';
import type { BatchMeta } from './store-records.ts';

/**
 * Stored META (with the processing metadata of a finalized batch, and the grade scale from the
 * batch's settings) → state JSON.
 */
export function batchState(
  meta: BatchMeta,
  processingMetadata: Record<string, unknown> = {},
  gradeScale: readonly string[] | null = null,
): BatchState {
  return {
    v: 1,
    batch_id: meta.batch_id,
    status: meta.status,
    failure_reason: meta.failure_reason ?? null,
    essay_count: meta.essay_count,
    essays_stored: meta.essays_stored,
    submitted_comparisons: meta.submitted_comparisons,
    completed_comparisons: meta.completed_comparisons,
    failed_comparisons: meta.failed_comparisons,
    pending_callbacks: pendingCallbacks(meta),
    total_comparisons: meta.total_comparisons,
    total_budget: meta.total_budget,
    current_iteration: meta.current_iteration,
    resampling_pass_count: meta.resampling_pass_count,
    completion_denominator: meta.completion_denominator,
    processing_metadata: processingMetadata,
    grade_scale: gradeScale === null ? null : [...gradeScale],
    created_at: meta.created_at,
    updated_at: meta.updated_at,
    finalized_at: meta.finalized_at ?? null,
  };
}

/** Stored META → a batch as `GET /batches` lists it. */
export function batchSummary(meta: BatchMeta): BatchSummary {
  const { processing_metadata: _metadata, grade_scale: _scale, ...summary } = batchState(meta);
  return summary;
}

/** Which rows of the results one page holds: `limit` rows from `offset`, in rank order. */
export interface ResultsPage {
  offset: number;
  limit: number;
}

/**
 * Stored rows → one page of the results JSON, best first (ties by id, so pages never overlap:
 * finalized results never change). `next_cursor` is set while rows remain.
 */
export function batchResults(
  meta: BatchMeta,
  rows: readonly ResultRow[],
  page: ResultsPage = { offset: 0, limit: rows.length },
): BatchResults {
  const ranked = [...rows].sort((x, y) => x.rank - y.rank || x.id.localeCompare(y.id));
  const end = page.offset + page.limit;
  return {
    v: 1,
    batch_id: meta.batch_id,
    status: meta.status,
    total: ranked.length,
    essays: ranked.slice(page.offset, end),
    ...(end < ranked.length ? { next_cursor: encodeResultsCursor(end) } : {}),
  };
}
