/** sweeper's composition root: the index scans, the callback transaction, the continuation queue. */
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { lazy } from '#shared/runtime/lazy.ts';
import { telemetry } from '#shared/runtime/observability.ts';
import { queuesFromEnv } from '#shared/runtime/sqs-queues.ts';
import { system } from '#shared/runtime/system.ts';
import { table } from '#shared/runtime/table.ts';
import type { SweeperDeps } from '#shared/workflow/sweeper.ts';
import { dynamoBatches } from '#store/batches.ts';
import { dynamoCallbacks } from '#store/callbacks.ts';
import { dynamoSweeps } from '#store/sweeps.ts';

export const deps = lazy(
  (): SweeperDeps => ({
    store: { ...dynamoBatches(table()), ...dynamoCallbacks(table()), ...dynamoSweeps(table()) },
    messaging: queuesFromEnv(['CONTINUATION_QUEUE_URL']),
    telemetry,
    now: system.now,
    config: DEFAULT_CONFIG,
  }),
);
