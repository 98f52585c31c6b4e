/**
 * The state JSON (`GET /batches/{id}`, the CLI) and the results JSON (`GET /batches/{id}/results`),
 * with mappers from stored items. Both are snake_case and identical for HTTP and CLI.
 */
import { z } from 'zod';
import { pendingCallbacks } from '#domain/batch-state.ts';
import {
  batchIdSchema,
  batchStatusSchema,
  essayIdSchema,
  failureReasonSchema,
  isoTimestampSchema,
  versionSchema,
} from '#messages/common.ts';
import type { BatchMeta, ResultRow } from '#store/types.ts';

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
  /** docs/engine-rules.md "Processing metadata", filled at finalization (empty before); its shape is owned by the domain. */
  processing_metadata: z.record(z.string(), z.unknown()),
  created_at: isoTimestampSchema,
  updated_at: isoTimestampSchema,
  finalized_at: isoTimestampSchema.nullable(),
});
export type BatchState = z.infer<typeof batchStateSchema>;

/**
 * Stored META → state JSON. The denominator comes from the domain's `completionDenominator`
 * (the only completion math), so the caller passes it in.
 */
export function toBatchState(meta: BatchMeta, completionDenominator: number): BatchState {
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
    completion_denominator: completionDenominator,
    processing_metadata: meta.processing_metadata ?? {},
    created_at: meta.created_at,
    updated_at: meta.updated_at,
    finalized_at: meta.finalized_at ?? null,
  };
}

export const resultRowSchema = z.object({
  id: essayIdSchema,
  score: z.number(),
  se: z.number().nonnegative(),
  /** 1 = best; ties share the better rank. */
  rank: z.number().int().positive(),
  /** Successful comparisons this essay took part in. */
  comparisons: z.number().int().nonnegative(),
  wins: z.number().int().nonnegative(),
});

export const batchResultsSchema = z.object({
  v: versionSchema,
  batch_id: batchIdSchema,
  status: batchStatusSchema,
  essays: z.array(resultRowSchema),
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

/** Stored rows → results JSON, best first. */
export function toBatchResults(meta: BatchMeta, rows: readonly ResultRow[]): BatchResults {
  return {
    v: 1,
    batch_id: meta.batch_id,
    status: meta.status,
    essays: [...rows].sort((x, y) => x.rank - y.rank || x.id.localeCompare(y.id)),
  };
}
