/**
 * Callback queue → record each exactly once → re-check each batch's gate once → maybe trigger the
 * continuation.
 */
import { callbackSchema } from '#messages/queue.ts';
import { sqsHandlerWithFollowUp } from '#shared/runtime/middleware.ts';
import { telemetry } from '#shared/runtime/observability.ts';
import { recheckGateAfterCallbacks, recordCallback } from '#shared/workflow/callback.ts';
import { parseRecord } from '#shared/workflow/parse.ts';
import { deps } from './deps.ts';

export const handler = sqsHandlerWithFollowUp(
  async (record) => {
    const callback = parseRecord(callbackSchema, record, 'callback', telemetry);
    await recordCallback(deps(), callback);
    return callback.batch_id;
  },
  async (batchId) => {
    await recheckGateAfterCallbacks(deps(), batchId);
  },
  // Callbacks of one batch update one counter item: sequential records avoid conflicting
  // transactions within an invocation.
  { fifo: false, parallel: false },
);
