/** FIFO continuation queue (group = batch): snapshot → gate → decide → plan a wave or finalize. */
import { continuationTriggerSchema } from '#messages/queue.ts';
import { sqsHandler } from '#shared/runtime/middleware.ts';
import { telemetry } from '#shared/runtime/observability.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import { parseRecord } from '#shared/workflow/parse.ts';
import { deps } from './deps.ts';

export const handler = sqsHandler(
  async (record) => {
    const trigger = parseRecord(continuationTriggerSchema, record, 'continuation', telemetry);
    await runContinuation(deps(), trigger);
  },
  { fifo: true },
);
