/** FIFO continuation queue (group = batch): snapshot → gate → decide → plan a wave or finalize. */
import { continuationTriggerSchema } from '#messages/queue.ts';
import { lazyDeps } from '#shared/runtime/deps.ts';
import { sqsHandler } from '#shared/runtime/middleware.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import { parseRecord } from '#shared/workflow/parse.ts';

const deps = lazyDeps(['COMPARISON_QUEUE_URL', 'EVENT_BUS_NAME']);

export const handler = sqsHandler(
  async (record) => {
    const trigger = parseRecord(
      continuationTriggerSchema,
      record,
      'continuation',
      deps().telemetry,
    );
    await runContinuation(deps(), trigger);
  },
  { fifo: true },
);
