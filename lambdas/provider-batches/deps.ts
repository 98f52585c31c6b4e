/**
 * provider-batches' composition root: the provider batch parts and essays from the store, the
 * callback queue, the provider batch APIs with the container's keys (and the named endpoints the
 * deployment declares batch-capable, each with its own key secret or none), claim tokens, and the
 * time left in the invocation.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { createProviderBatchApi } from '#shared/judges/batch/registry.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { lazy } from '#shared/runtime/lazy.ts';
import { telemetry } from '#shared/runtime/observability.ts';
import { queuesFromEnv } from '#shared/runtime/sqs-queues.ts';
import { system } from '#shared/runtime/system.ts';
import { table } from '#shared/runtime/table.ts';
import type { ProviderBatchDeps } from '#shared/workflow/provider-batch-deps.ts';
import { dynamoBatches } from '#store/batches.ts';
import { dynamoProviderBatchSubmissions } from '#store/provider-batch-submissions.ts';
import { dynamoProviderBatchParts } from '#store/provider-batches.ts';

const container = lazy((): Omit<ProviderBatchDeps, 'remainingMs'> => {
  const env = readEnv(['JUDGE_ENDPOINTS', 'JUDGE_BATCH_ENDPOINTS']);
  const endpointPolicy = {
    endpoints: env.JUDGE_ENDPOINTS,
    allowLoopbackBaseUrls: false,
    batchEndpoints: env.JUDGE_BATCH_ENDPOINTS,
  };
  return {
    store: {
      ...dynamoBatches(table()),
      ...dynamoProviderBatchParts(table()),
      ...dynamoProviderBatchSubmissions(table()),
    },
    messaging: queuesFromEnv(['CALLBACK_QUEUE_URL']),
    telemetry,
    config: DEFAULT_CONFIG,
    now: system.now,
    newToken: randomUUID,
    apiFor: (choice) => createProviderBatchApi(choice, { config: DEFAULT_CONFIG, endpointPolicy }),
  };
});

/** The deps of one invocation (its deadline comes from the Lambda context). */
export function deps(context?: Pick<Context, 'getRemainingTimeInMillis'>): ProviderBatchDeps {
  return {
    ...container(),
    remainingMs: () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY,
  };
}
