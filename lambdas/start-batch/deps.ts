/**
 * start-batch's composition root: the batch store, the continuation queue and the in-flight caps
 * a starting batch is counted against.
 */
import { inFlightCapsFromEnv } from '#shared/runtime/env.ts';
import { lazy } from '#shared/runtime/lazy.ts';
import { queuesFromEnv } from '#shared/runtime/sqs-queues.ts';
import { system } from '#shared/runtime/system.ts';
import { table } from '#shared/runtime/table.ts';
import type { StartBatchDeps } from '#shared/workflow/api.ts';
import { dynamoBatches } from '#store/batches.ts';

export const deps = lazy(
  (): StartBatchDeps => ({
    store: dynamoBatches(table()),
    messaging: queuesFromEnv(['CONTINUATION_QUEUE_URL']),
    now: system.now,
    inFlightCaps: inFlightCapsFromEnv(),
  }),
);
