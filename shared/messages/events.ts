/** Completion/failure event (→ EventBridge): exactly one per batch, after finalization or cancel. */
import * as z from 'zod';
import {
  batchIdSchema,
  batchStatusSchema,
  failureReasonSchema,
  isoTimestampSchema,
  versionSchema,
} from '#messages/common.ts';

export const countersSchema = z.object({
  submitted_comparisons: z.number().int().nonnegative(),
  completed_comparisons: z.number().int().nonnegative(),
  failed_comparisons: z.number().int().nonnegative(),
});

export const BATCH_EVENT_SOURCE = 'cj-engine';

export const batchFinishedEventSchema = z.object({
  v: versionSchema,
  batch_id: batchIdSchema,
  status: batchStatusSchema,
  failure_reason: failureReasonSchema.nullable(),
  counters: countersSchema,
  completion_denominator: z.number().int().nonnegative(),
  finalized_at: isoTimestampSchema,
});
export type BatchFinishedEvent = z.infer<typeof batchFinishedEventSchema>;

/** EventBridge `DetailType`: success and failure are separate so rules can match one of them. */
export function batchEventDetailType(status: BatchFinishedEvent['status']): string {
  if (status === 'FAILED') return 'BatchFailed';
  if (status === 'CANCELLED') return 'BatchCancelled';
  return 'BatchCompleted';
}
