/** callback's composition root: the callback transaction and the continuation queue. */
import { lazy } from '#shared/runtime/lazy.ts';
import { telemetry } from '#shared/runtime/observability.ts';
import { queuesFromEnv } from '#shared/runtime/sqs-queues.ts';
import { system } from '#shared/runtime/system.ts';
import { table } from '#shared/runtime/table.ts';
import type { CallbackDeps } from '#shared/workflow/callback.ts';
import { dynamoCallbacks } from '#store/callbacks.ts';

export const deps = lazy(
  (): CallbackDeps => ({
    store: dynamoCallbacks(table()),
    messaging: queuesFromEnv(['CONTINUATION_QUEUE_URL']),
    telemetry,
    now: system.now,
  }),
);
