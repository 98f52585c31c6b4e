/**
 * continuation's composition root: the engine loop's store roles (and planning a provider batch
 * part), the pure engine, the comparison queue and the event bus.
 */
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { eventBusFromEnv } from '#shared/runtime/event-bus.ts';
import { lazy } from '#shared/runtime/lazy.ts';
import { telemetry } from '#shared/runtime/observability.ts';
import { queuesFromEnv } from '#shared/runtime/sqs-queues.ts';
import { system } from '#shared/runtime/system.ts';
import { table } from '#shared/runtime/table.ts';
import type { ContinuationDeps } from '#shared/workflow/continuation.ts';
import { domainEngine } from '#shared/workflow/engine.ts';
import { dynamoBatches } from '#store/batches.ts';
import { dynamoFinalization } from '#store/finalization.ts';
import { dynamoLedger } from '#store/ledger.ts';
import { dynamoProviderBatchParts } from '#store/provider-batches.ts';
import { dynamoSnapshots } from '#store/snapshot.ts';
import { dynamoWaves } from '#store/waves.ts';

export const deps = lazy(
  (): ContinuationDeps => ({
    store: {
      ...dynamoBatches(table()),
      ...dynamoSnapshots(table()),
      ...dynamoWaves(table()),
      ...dynamoLedger(table()),
      ...dynamoFinalization(table()),
      planProviderBatchPart: dynamoProviderBatchParts(table()).planProviderBatchPart,
    },
    messaging: { ...queuesFromEnv(['COMPARISON_QUEUE_URL']), ...eventBusFromEnv() },
    telemetry,
    engine: domainEngine,
    config: DEFAULT_CONFIG,
    now: system.now,
  }),
);
