/** Callback queue → record exactly once → re-check the gate → maybe trigger the continuation. */
import { callbackSchema } from '#messages/queue.ts';
import { sqsHandler } from '#shared/runtime/middleware.ts';
import { telemetry } from '#shared/runtime/observability.ts';
import { processCallback } from '#shared/workflow/callback.ts';
import { parseRecord } from '#shared/workflow/parse.ts';
import { deps } from './deps.ts';

export const handler = sqsHandler(
  async (record) => {
    const callback = parseRecord(callbackSchema, record, 'callback', telemetry);
    await processCallback(deps(), callback);
  },
  // Callbacks of one batch update one counter item: sequential records avoid conflicting
  // transactions within an invocation.
  { fifo: false, parallel: false },
);
