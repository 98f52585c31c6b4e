/**
 * The wave history JSON (`GET /batches/{id}/waves`): what the batch decided wave by wave, how many
 * comparisons each wave asked for and how they ended, and the pending callbacks over time — what
 * `cj report` draws. Snake_case like every wire type; built by `#shared/workflow/waves.ts`.
 */
import { z } from 'zod';
import {
  batchIdSchema,
  batchStatusSchema,
  failureReasonSchema,
  isoTimestampSchema,
  versionSchema,
} from '#messages/common.ts';

export const waveSummarySchema = z.object({
  /** The wave's iteration (1 = first wave). */
  iteration: z.number().int().positive(),
  /** What the wave was for: `coverage`, `resample` or `retry` (of failed pairs). */
  kind: z.string(),
  /** Comparisons the wave asked for. */
  size: z.number().int().nonnegative(),
  completed: z.number().int().nonnegative(),
  /** Failed callbacks, timeouts included. */
  failed: z.number().int().nonnegative(),
  /** Of the failed: failed by the sweeper because no callback came before the deadline. */
  timed_out: z.number().int().nonnegative(),
  /** Still waiting for their callback. */
  pending: z.number().int().nonnegative(),
  /** When the wave was planned (its comparisons' deadline minus the batch's deadline setting). */
  planned_at: isoTimestampSchema.nullable(),
  /** When the last callback of the wave was recorded; null while one is pending. */
  settled_at: isoTimestampSchema.nullable(),
  /**
   * The continuation's decision that planned the wave and its reason, from the engine's per-wave
   * ledger; null when the batch has no ledger entry for the wave.
   */
  decision: z.string().nullable(),
  reason: z.string().nullable(),
});
export type WaveSummary = z.infer<typeof waveSummarySchema>;

export const pendingPointSchema = z.object({
  at: isoTimestampSchema,
  /** Requests sent and not yet answered, just after `at`. */
  pending: z.number().int().nonnegative(),
});
export type PendingPoint = z.infer<typeof pendingPointSchema>;

export const batchWavesSchema = z.object({
  v: versionSchema,
  batch_id: batchIdSchema,
  status: batchStatusSchema,
  failure_reason: failureReasonSchema.nullable(),
  created_at: isoTimestampSchema,
  finalized_at: isoTimestampSchema.nullable(),
  waves: z.array(waveSummarySchema),
  /**
   * Pending callbacks over time: one point per wave start and per recorded callback, thinned to
   * at most `MAX_PENDING_POINTS` points (every wave start and the last point kept).
   */
  pending_timeline: z.array(pendingPointSchema),
});
export type BatchWaves = z.infer<typeof batchWavesSchema>;
