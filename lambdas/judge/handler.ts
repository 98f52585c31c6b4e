/**
 * Comparison-request queue → provider → exactly one callback per request; retryable failures are
 * redelivered. An invocation's callbacks go out together; a record whose callback was not
 * accepted fails alone (shared/workflow/callback-batch.ts).
 */
import { comparisonRequestSchema } from '#messages/queue.ts';
import { sqsInvocationHandler } from '#shared/runtime/middleware.ts';
import { telemetry } from '#shared/runtime/observability.ts';
import { withInvocationCallbacks } from '#shared/workflow/callback-batch.ts';
import { processComparisonRequest } from '#shared/workflow/judge.ts';
import { parseRecord, receiveCount } from '#shared/workflow/parse.ts';
import { deps } from './deps.ts';

export const handler = sqsInvocationHandler((event) => {
  const { deps: invocation, callbacks } = withInvocationCallbacks(deps(), event.Records.length);
  return async (record) => {
    try {
      const request = parseRecord(comparisonRequestSchema, record, 'judge', telemetry);
      await processComparisonRequest(invocation, request, receiveCount(record));
    } finally {
      callbacks.settled();
    }
  };
});
