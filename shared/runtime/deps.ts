/**
 * Wires the workflow to AWS for one function: the store on the DynamoDB singleton, the messaging
 * adapter on the SQS/EventBridge singletons with only the destinations this function was given,
 * the Powertools telemetry, and the real engine. Built lazily on first use and kept for the life
 * of the container, so a cold start fails with a message naming a missing variable.
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { createJudgeProvider } from '#shared/judges/registry.ts';
import { domainEngine } from '#shared/workflow/engine.ts';
import { AwsMessaging } from '#shared/workflow/messaging.ts';
import type { ApiDeps, JudgeDeps, WorkflowDeps } from '#shared/workflow/ports.ts';
import { dynamoStore } from '#store/dynamo-store.ts';
import { documentClient, eventBridgeClient, sqsClient } from './clients.ts';
import { type EnvName, readEnv } from './env.ts';
import { telemetry } from './observability.ts';

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

export type RuntimeDeps = WorkflowDeps & ApiDeps & JudgeDeps;

/** `needs` lists the destinations this function uses; TABLE_NAME is always required. */
export function buildRuntimeDeps(needs: readonly EnvName[]): RuntimeDeps {
  const env = readEnv(['TABLE_NAME', 'ALLOWED_PROVIDERS', ...needs]);
  const optional = process.env;
  const pick = (name: EnvName) => (needs.includes(name) ? optional[name] : undefined);
  const config = DEFAULT_CONFIG;
  const comparisonQueueUrl = pick('COMPARISON_QUEUE_URL');
  const callbackQueueUrl = pick('CALLBACK_QUEUE_URL');
  const continuationQueueUrl = pick('CONTINUATION_QUEUE_URL');
  const eventBusName = pick('EVENT_BUS_NAME');
  return {
    store: dynamoStore({ client: documentClient(), tableName: env.TABLE_NAME }),
    messaging: new AwsMessaging({
      sqs: sqsClient(),
      eventBridge: eventBridgeClient(),
      ...(comparisonQueueUrl ? { comparisonQueueUrl } : {}),
      ...(callbackQueueUrl ? { callbackQueueUrl } : {}),
      ...(continuationQueueUrl ? { continuationQueueUrl } : {}),
      ...(eventBusName ? { eventBusName } : {}),
      config,
      sleep,
      random: Math.random,
    }),
    telemetry,
    engine: domainEngine,
    config,
    now: () => new Date(),
    sleep,
    random: Math.random,
    allowedProviders: env.ALLOWED_PROVIDERS,
    newBatchId: () => randomUUID(),
    providerFor: (choice) =>
      createJudgeProvider(choice, { maxMockLatencyMs: config.MOCK_LATENCY_MAX_MS, sleep }),
  };
}

/** A container-lifetime singleton of the deps for one function. */
export function lazyDeps(needs: readonly EnvName[]): () => RuntimeDeps {
  let deps: RuntimeDeps | undefined;
  return () => {
    deps ??= buildRuntimeDeps(needs);
    return deps;
  };
}
