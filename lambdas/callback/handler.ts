/**
 * Callback queue → record the invocation's callbacks together, each exactly once (one transaction
 * per batch) → re-check each batch's gate once → maybe trigger the continuation.
 */
import { sqsHandlerWithFollowUp } from '#shared/runtime/middleware.ts';
import { callbackRecords, recheckGateAfterCallbacks } from '#shared/workflow/callback.ts';
import { deps } from './deps.ts';

export const handler = sqsHandlerWithFollowUp(
  (event) => callbackRecords(deps(), event.Records.length),
  async (batchId) => {
    await recheckGateAfterCallbacks(deps(), batchId);
  },
);
