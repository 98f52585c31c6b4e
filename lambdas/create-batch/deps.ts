/**
 * create-batch's composition root: the batch store, the continuation queue, allowed providers and
 * the deployment's maxima and in-flight caps, and the endpoint policy (named endpoints and which
 * of them take provider batches; loopback base URLs only on the local cloud).
 */
import { randomUUID } from 'node:crypto';
import { inFlightCapsFromEnv, limitsFromEnv, readEnv } from '#shared/runtime/env.ts';
import { lazy } from '#shared/runtime/lazy.ts';
import { telemetry } from '#shared/runtime/observability.ts';
import { queuesFromEnv } from '#shared/runtime/sqs-queues.ts';
import { system } from '#shared/runtime/system.ts';
import { table } from '#shared/runtime/table.ts';
import type { CreateBatchDeps } from '#shared/workflow/api.ts';
import { dynamoBatches } from '#store/batches.ts';

export const deps = lazy((): CreateBatchDeps => {
  const env = readEnv([
    'ALLOWED_PROVIDERS',
    'JUDGE_ENDPOINTS',
    'JUDGE_BATCH_ENDPOINTS',
    'ALLOW_LOOPBACK_BASE_URLS',
  ]);
  return {
    store: dynamoBatches(table()),
    messaging: queuesFromEnv(['CONTINUATION_QUEUE_URL']),
    telemetry,
    now: system.now,
    allowedProviders: env.ALLOWED_PROVIDERS,
    endpointPolicy: {
      endpoints: env.JUDGE_ENDPOINTS,
      allowLoopbackBaseUrls: env.ALLOW_LOOPBACK_BASE_URLS,
      batchEndpoints: env.JUDGE_BATCH_ENDPOINTS,
    },
    newBatchId: () => randomUUID(),
    limits: limitsFromEnv(),
    inFlightCaps: inFlightCapsFromEnv(),
  };
});
