/**
 * Comparison-request queue → provider → exactly one callback per request. A retryable failure
 * fails the record (SQS redelivers it); the last delivery sends a failure callback instead.
 */
import { comparisonRequestSchema } from '#messages/queue.ts';
import { sqsHandler } from '#shared/runtime/middleware.ts';
import { telemetry } from '#shared/runtime/observability.ts';
import { processComparisonRequest } from '#shared/workflow/judge.ts';
import { parseRecord, receiveCount } from '#shared/workflow/parse.ts';
import { deps } from './deps.ts';

export const handler = sqsHandler(
  async (record) => {
    const request = parseRecord(comparisonRequestSchema, record, 'judge', telemetry);
    await processComparisonRequest(deps(), request, receiveCount(record));
  },
  { fifo: false },
);
