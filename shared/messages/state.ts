/**
 * The state JSON (`GET /batches/{id}`, the CLI) and the results JSON (`GET /batches/{id}/results`).
 * Both are snake_case and identical for HTTP and CLI; the workflow maps stored items to them
 * (`#shared/workflow/views.ts`).
 */
import * as z from 'zod';
import type { ProcessingMetadata } from '#domain/metadata.ts';
import {
  batchIdSchema,
  batchStatusSchema,
  essayIdSchema,
  failureReasonSchema,
  isoTimestampSchema,
  versionSchema,
} from '#messages/common.ts';

/**
 * Filled at finalization (empty before). Its shape is declared once, by the domain that builds it
 * (`ProcessingMetadata`, docs/engine-rules.md "Processing metadata"); on the wire any object passes.
 */
const processingMetadataSchema = z.custom<Partial<ProcessingMetadata>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  'processing_metadata must be an object',
);

export const batchStateSchema = z.object({
  v: versionSchema,
  batch_id: batchIdSchema,
  status: batchStatusSchema,
  failure_reason: failureReasonSchema.nullable(),
  essay_count: z.number().int().nonnegative(),
  /** Essays stored so far (equals essay_count once a paged batch is complete). */
  essays_stored: z.number().int().nonnegative(),
  submitted_comparisons: z.number().int().nonnegative(),
  completed_comparisons: z.number().int().nonnegative(),
  failed_comparisons: z.number().int().nonnegative(),
  pending_callbacks: z.number().int().nonnegative(),
  total_comparisons: z.number().int().nonnegative(),
  total_budget: z.number().int().nonnegative(),
  current_iteration: z.number().int().nonnegative(),
  resampling_pass_count: z.number().int().nonnegative(),
  completion_denominator: z.number().int().nonnegative(),
  processing_metadata: processingMetadataSchema,
  /** The grade scale the batch declared, lowest first (null without one). */
  grade_scale: z.array(z.string()).nullable(),
  created_at: isoTimestampSchema,
  updated_at: isoTimestampSchema,
  finalized_at: isoTimestampSchema.nullable(),
});
export type BatchState = z.infer<typeof batchStateSchema>;

export const resultRowSchema = z.object({
  id: essayIdSchema,
  score: z.number(),
  se: z.number().nonnegative(),
  /** 1 = best; ties share the better rank. */
  rank: z.number().int().positive(),
  /** Successful comparisons this essay took part in. */
  comparisons: z.number().int().nonnegative(),
  wins: z.number().int().nonnegative(),
  /** With a grade scale (docs/grades.md): the projected grade, the most probable one. */
  grade: z.string().optional(),
  /** With a grade scale: the probability of each grade, by label. */
  grade_probabilities: z.record(z.string(), z.number().min(0).max(1)).optional(),
  /** The grade the client gave this essay as an anchor. */
  anchor_grade: z.string().optional(),
});
/** One row of the results, as stored at finalization and served by GET results. */
export type ResultRow = z.infer<typeof resultRowSchema>;

export const batchResultsSchema = z.object({
  v: versionSchema,
  batch_id: batchIdSchema,
  status: batchStatusSchema,
  /** Essays in the whole batch's results (every page). */
  total: z.number().int().nonnegative(),
  /** This page's rows, best first (the whole results when there is no `next_cursor`). */
  essays: z.array(resultRowSchema),
  /** Present when more rows follow: pass it back as `?cursor=` for the next page. */
  next_cursor: z.string().optional(),
});
export type BatchResults = z.infer<typeof batchResultsSchema>;

export interface ResultInputs {
  /** Essay ids by index. */
  ids: readonly string[];
  scores: ArrayLike<number>;
  se: ArrayLike<number>;
  comparisons: ArrayLike<number>;
  wins: ArrayLike<number>;
}

/** Per-index engine output → stored rows in essay-index order, ranked by score (1 = best). */
export function buildResultRows({ ids, scores, se, comparisons, wins }: ResultInputs): ResultRow[] {
  const order = ids.map((_, index) => index).sort((x, y) => (scores[y] ?? 0) - (scores[x] ?? 0));
  const rank = new Array<number>(ids.length).fill(0);
  order.forEach((index, position) => {
    const previous = order[position - 1];
    const tied = previous !== undefined && scores[previous] === scores[index];
    rank[index] = tied ? (rank[previous] ?? position + 1) : position + 1;
  });
  return ids.map((id, index) => ({
    id,
    score: scores[index] ?? 0,
    se: se[index] ?? 0,
    rank: rank[index] ?? 0,
    comparisons: comparisons[index] ?? 0,
    wins: wins[index] ?? 0,
  }));
}

/**
 * A batch as `GET /batches` lists it: its state JSON without the processing metadata and the grade
 * scale (`GET /batches/{id}` has both), so a page reads only META items.
 */
export const batchSummarySchema = batchStateSchema.omit({
  processing_metadata: true,
  grade_scale: true,
});
export type BatchSummary = z.infer<typeof batchSummarySchema>;

/** One page of the caller's batches (`GET /batches`), newest first. */
export const batchListSchema = z.object({
  v: versionSchema,
  batches: z.array(batchSummarySchema),
  /** Present when more batches may follow: pass it back as `?cursor=` for the next page. */
  next_cursor: z.string().optional(),
});
export type BatchList = z.infer<typeof batchListSchema>;
