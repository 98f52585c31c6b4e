/**
 * Queue messages. None carries essay text: the judge reads text from the table by essay index.
 */
import * as z from 'zod';
import {
  batchIdSchema,
  comparisonIdSchema,
  essayIndexSchema,
  failureKindSchema,
  isoTimestampSchema,
  MAX_REASON_CHARS,
  versionSchema,
  winnerSchema,
} from '#messages/common.ts';

/** Continuation → judge queue: judge essay `a` (shown as "Essay A") against `b`. */
export const comparisonRequestSchema = z
  .object({
    v: versionSchema,
    batch_id: batchIdSchema,
    comparison_id: comparisonIdSchema,
    iteration: z.number().int().positive(),
    a: essayIndexSchema,
    b: essayIndexSchema,
    /** 1 for the first attempt at this pair, 2.. for retries of a failed pair. */
    attempt: z.number().int().positive(),
    /** After this instant the sweeper fails the comparison with `timeout`. */
    deadline: isoTimestampSchema,
    /**
     * Set by the judge on a request it deferred for the provider's rate limit: the instant (epoch
     * ms) of the provider-call slot the shared limiter booked for it (docs/judges.md, "Rate limits").
     */
    rate_slot_at: z.number().int().nonnegative().optional(),
  })
  .refine((request) => request.a !== request.b, {
    path: ['b'],
    message: 'an essay cannot be compared with itself',
  });
export type ComparisonRequest = z.infer<typeof comparisonRequestSchema>;

const usageSchema = z.object({
  input_tokens: z.number().int().nonnegative().optional(),
  output_tokens: z.number().int().nonnegative().optional(),
  latency_ms: z.number().nonnegative().optional(),
  model: z.string().max(128).optional(),
  cost_usd: z.number().nonnegative().nullable().optional(),
  calls: z.number().int().positive().optional(),
  order_flip: z.boolean().optional(),
  /** The cost uses a provider-batch price not checked against the provider's own table. */
  price_unverified: z.boolean().optional(),
});

const callbackBase = {
  v: versionSchema,
  batch_id: batchIdSchema,
  comparison_id: comparisonIdSchema,
};

/** Judge (or sweeper) → callback queue: exactly one per request, a verdict or a failure. */
export const callbackSchema = z.discriminatedUnion('outcome', [
  z.object({
    ...callbackBase,
    outcome: z.literal('verdict'),
    winner: winnerSchema,
    confidence: z.number().min(0).max(1).optional(),
    usage: usageSchema.optional(),
  }),
  z.object({
    ...callbackBase,
    outcome: z.literal('failure'),
    failure_kind: failureKindSchema,
    /** A short machine-oriented reason (never model output or essay text). */
    reason: z.string().max(MAX_REASON_CHARS).optional(),
  }),
]);
export type Callback = z.infer<typeof callbackSchema>;
export type VerdictCallback = Extract<Callback, { outcome: 'verdict' }>;
export type FailureCallback = Extract<Callback, { outcome: 'failure' }>;

export const continuationCauseSchema = z.enum([
  'callbacks_drained',
  'batch_started',
  'sweeper',
  'cancel',
]);
export type ContinuationCause = z.infer<typeof continuationCauseSchema>;

/**
 * → FIFO continuation queue, MessageGroupId = batch_id, MessageDeduplicationId =
 * `continuationDedupId(batch_id, iteration)`, so several callbacks draining the same wave start the
 * continuation once.
 */
export const continuationTriggerSchema = z.object({
  v: versionSchema,
  batch_id: batchIdSchema,
  /** The batch's current_iteration the sender saw: the wave whose callbacks drained. */
  iteration: z.number().int().nonnegative(),
  cause: continuationCauseSchema,
});
export type ContinuationTrigger = z.infer<typeof continuationTriggerSchema>;

export function continuationDedupId(batchId: string, iteration: number): string {
  return `${batchId}:${iteration}`;
}
