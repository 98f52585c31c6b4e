/** cancel-batch's composition root: the batch store, its finalization mark and the event bus. */
import { eventBusFromEnv } from '#shared/runtime/event-bus.ts';
import { lazy } from '#shared/runtime/lazy.ts';
import { telemetry } from '#shared/runtime/observability.ts';
import { system } from '#shared/runtime/system.ts';
import { table } from '#shared/runtime/table.ts';
import type { CancelDeps } from '#shared/workflow/api.ts';
import { dynamoBatches } from '#store/batches.ts';
import { dynamoFinalization } from '#store/finalization.ts';

export const deps = lazy(
  (): CancelDeps => ({
    store: { ...dynamoBatches(table()), ...dynamoFinalization(table()) },
    messaging: eventBusFromEnv(),
    telemetry,
    now: system.now,
  }),
);
