/**
 * What the workflow needs from the outside world, as narrow interfaces: the store (DynamoDB, see
 * `#store/`), the messaging side (SQS queues and the event bus), telemetry, time and randomness.
 * Handlers wire the real adapters once per container; tests inject fakes or SDK mocks.
 */
import type { EngineConfig } from '#domain/config.ts';
import type { Decision, DecisionSnapshot } from '#domain/decide.ts';
import type { JudgeChoice } from '#messages/api.ts';
import type { BatchFinishedEvent } from '#messages/events.ts';
import type { Callback, ComparisonRequest, ContinuationTrigger } from '#messages/queue.ts';
import type { ResultRow } from '#messages/state.ts';
import type { JudgeProvider } from '#shared/judges/port.ts';
import type { BatchStore } from '#store/batch-store.ts';
import type { Telemetry } from './telemetry.ts';

/** The store operations the workflow uses (the real `BatchStore`, or an in-memory fake in tests). */
export type WorkflowStore = Pick<
  BatchStore,
  | 'createBatch'
  | 'putEssayPage'
  | 'startBatch'
  | 'cancelBatch'
  | 'getBatch'
  | 'getResults'
  | 'getEssays'
  | 'getEssayIds'
  | 'loadSnapshot'
  | 'saveScores'
  | 'recordCallback'
  | 'planWave'
  | 'listPendingInIteration'
  | 'finalizeBatch'
  | 'markEventPublished'
  | 'listExpiredPending'
  | 'listActiveBatches'
>;

export interface Messaging {
  /** Sends every request (SendMessageBatch, ≤ 10 per call, failed entries retried). */
  sendComparisonRequests(requests: readonly ComparisonRequest[]): Promise<void>;
  sendCallback(callback: Callback): Promise<void>;
  /** FIFO: group = batch id, dedup id = `${batch_id}:${iteration}` (cancel gets its own suffix). */
  sendContinuationTrigger(trigger: ContinuationTrigger): Promise<void>;
  publishBatchEvent(event: BatchFinishedEvent): Promise<void>;
}

/** What a finalization stores: the processing metadata (docs/engine-rules.md) and one result row per essay. */
export interface Finalization {
  processingMetadata: Record<string, unknown>;
  results: ResultRow[];
}

/** The pure engine, injected so tests can force a decision; production passes the real one. */
export interface Engine {
  decide(snapshot: DecisionSnapshot): Decision;
  finalization(
    snapshot: DecisionSnapshot,
    decision: Decision,
    essayIds: readonly string[],
  ): Finalization;
}

export type Sleep = (ms: number) => Promise<void>;

export interface WorkflowDeps {
  store: WorkflowStore;
  messaging: Messaging;
  telemetry: Telemetry;
  /** Deployment-wide settings (pipeline entries of the config module). */
  config: EngineConfig;
  engine: Engine;
  now: () => Date;
  sleep: Sleep;
  /** Uniform in [0, 1), for backoff jitter. */
  random: () => number;
}

export interface ApiDeps extends WorkflowDeps {
  allowedProviders: readonly string[];
  newBatchId: () => string;
}

export interface JudgeDeps extends WorkflowDeps {
  providerFor: (choice: JudgeChoice) => JudgeProvider;
}
