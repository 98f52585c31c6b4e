/**
 * FIFO continuation queue (group = batch): snapshot → gate → decide → plan a wave or finalize; a
 * step that keeps failing ends its batch FAILED internal_error.
 */
import { continuationTriggerSchema } from '#messages/queue.ts';
import { sqsHandler } from '#shared/runtime/middleware.ts';
import { telemetry } from '#shared/runtime/observability.ts';
import { runGuardedContinuation } from '#shared/workflow/continuation-failures.ts';
import { parseRecord } from '#shared/workflow/parse.ts';
import { deps } from './deps.ts';

export const handler = sqsHandler(
  async (record) => {
    const trigger = parseRecord(continuationTriggerSchema, record, 'continuation', telemetry);
    await runGuardedContinuation(deps(), trigger);
  },
  { fifo: true },
);
