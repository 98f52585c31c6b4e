/**
 * Factories for store tests: the DynamoDB store adapter over an aws-sdk-client-mock'ed document client with
 * instant, recorded backoff sleeps, stored items in their DynamoDB shape, and the errors DynamoDB
 * raises (condition failures, cancelled transactions, throttling).
 */

import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { completionDenominator } from '#domain/batch-state.ts';
import { resolveConfig } from '#domain/config.ts';
import type { WavePair } from '#domain/decide.ts';
import type { Callback } from '#messages/queue.ts';
import type { WorkflowStore } from '#shared/workflow/ports.ts';
import type { BatchMeta, BatchSettings } from '#shared/workflow/store-records.ts';
import { dynamoStore } from '#store/dynamo-store.ts';
import { batchPk, metaKey } from '#store/keys.ts';
import { PK } from '#store/table-schema.ts';
import { TEST_CALLER_ARN } from '#test/helpers/events.ts';

export const TABLE = 'cj-test-table';
export const BATCH_ID = 'batch-0001';
export const NOW = new Date('2026-11-27T08:00:00.000Z');

export function documentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
  );
}

function mockDocumentClient(client: DynamoDBDocumentClient) {
  return mockClient(client);
}

export interface StoreHarness {
  ddb: ReturnType<typeof mockDocumentClient>;
  store: WorkflowStore;
  /** Every backoff sleep the store asked for, in ms. */
  sleeps: number[];
}

/** A store on a fresh mock; sleeps are recorded and return at once; jitter draws 0.5. */
export function storeHarness(options: { maxAttempts?: number } = {}): StoreHarness {
  // Mock the instance, not the class, so two harnesses in one test stay independent.
  const client = documentClient();
  const ddb = mockDocumentClient(client);
  const sleeps: number[] = [];
  const store = dynamoStore({
    client,
    tableName: TABLE,
    retry: {
      maxAttempts: options.maxAttempts ?? 4,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
  });
  return { ddb, store, sleeps };
}

/**
 * A META item; its completion denominator is computed as createBatch does, from essay_count,
 * total_budget and `settings.config` (unless the overrides give one).
 */
export function batchMeta(
  overrides: Partial<BatchMeta> = {},
  settings: { config?: Record<string, unknown> } = {},
): BatchMeta {
  const essayCount = overrides.essay_count ?? 5;
  const totalBudget = overrides.total_budget ?? 40;
  return {
    batch_id: BATCH_ID,
    status: 'RUNNING',
    failure_reason: null,
    essay_count: 5,
    essays_stored: 5,
    submitted_comparisons: 0,
    completed_comparisons: 0,
    failed_comparisons: 0,
    total_comparisons: 0,
    total_budget: 40,
    current_iteration: 0,
    resampling_pass_count: 0,
    completion_denominator: completionDenominator({
      essayCount,
      totalBudget,
      config: resolveConfig(settings.config ?? {}),
    }),
    event_published: false,
    version: 1,
    created_at: NOW.toISOString(),
    updated_at: NOW.toISOString(),
    finalized_at: null,
    ...overrides,
  };
}

/** The SETTINGS item as stored (with keys), for GetItem responses. */
export function settingsItem(settings: Partial<BatchSettings> = {}): Record<string, unknown> {
  return {
    pk: `BATCH#${BATCH_ID}`,
    sk: 'SETTINGS',
    config: {},
    judge: { provider: 'mock', profile: 'eng5_lower5_gpt51_low' },
    ...settings,
  };
}

/** META as stored (with keys), for GetItem responses. */
export function metaItem(overrides: Partial<BatchMeta> = {}): Record<string, unknown> {
  // Owned by the caller the tests call as (test/helpers/events.ts).
  return { ...metaKey(BATCH_ID), owner: TEST_CALLER_ARN, ...batchMeta(overrides) };
}

export function verdict(comparisonId = '000001-000000', winner: 'A' | 'B' = 'A'): Callback {
  return { v: 1, batch_id: BATCH_ID, comparison_id: comparisonId, outcome: 'verdict', winner };
}

export function failure(
  comparisonId = '000001-000000',
  kind: 'timeout' | 'rate_limited' = 'timeout',
): Callback {
  return {
    v: 1,
    batch_id: BATCH_ID,
    comparison_id: comparisonId,
    outcome: 'failure',
    failure_kind: kind,
  };
}

export function wavePairs(count: number): WavePair[] {
  return Array.from({ length: count }, (_, index) => ({
    a: index,
    b: index + 1,
    kind: 'coverage' as const,
    attempt: 1,
  }));
}

/** `item`: the item as DynamoDB returns it with ReturnValuesOnConditionCheckFailure ALL_OLD. */
export function conditionFailed(
  item?: ConditionalCheckFailedException['Item'],
): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    ...(item ? { Item: item } : {}),
  });
}

export function throttled(): ProvisionedThroughputExceededException {
  return new ProvisionedThroughputExceededException({
    message: 'Rate of requests exceeds the allowed throughput',
    $metadata: {},
  });
}

type Reason = { Code: string; Item?: Record<string, unknown> };

/** A cancelled transaction; reasons in TransactItems order, Items marshalled as DynamoDB sends them. */
export function transactionCanceled(...reasons: Reason[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons
      .map((reason) => reason.Code)
      .join(', ')}]`,
    $metadata: {},
    CancellationReasons: reasons as never,
  });
}

/** A marshalled item as a cancellation reason carries it (ALL_OLD). */
export function marshalledStatus(status: string): Record<string, unknown> {
  return { [PK]: { S: batchPk(BATCH_ID) }, status: { S: status } };
}
