/**
 * What the provider-batches step needs (the scheduled function's composition root builds it): the
 * store roles, the callback queue, telemetry, config, a clock, claim tokens, the batch API of a
 * judge choice, and the time left in the invocation.
 */
import type { EngineConfig } from '#domain/config.ts';
import type { JudgeChoice } from '#messages/api.ts';
import type { Callback } from '#messages/queue.ts';
import type { ProviderBatchApi } from '#shared/judges/batch/port.ts';
import type { ProviderBatchStore, WorkflowStore } from './ports.ts';
import type { BatchMeta, ProviderBatchPart } from './store-records.ts';
import type { Telemetry } from './telemetry.ts';

/** A batch's META with the judge choice of its settings (what submitting and collecting read). */
export type JudgedBatch = BatchMeta & { judge: JudgeChoice };

export interface ProviderBatchDeps {
  store: ProviderBatchStore & Pick<WorkflowStore, 'getBatch' | 'getSettings' | 'getEssays'>;
  messaging: { sendCallbacks(callbacks: readonly Callback[]): Promise<void> };
  telemetry: Telemetry;
  config: EngineConfig;
  now: () => Date;
  /** A fresh claim token. */
  newToken: () => string;
  /** The batch API for a judge choice, with the deployment's keys and endpoints. */
  apiFor: (choice: JudgeChoice) => Promise<ProviderBatchApi>;
  /** Milliseconds left in this invocation. */
  remainingMs: () => number;
}

/** The fields every provider-batch log line carries (ids and provider only, never essay text). */
export function logFields(part: ProviderBatchPart): Record<string, unknown> {
  return {
    batch_id: part.batch_id,
    iteration: part.iteration,
    part: part.part,
    provider: part.provider,
    ...(part.provider_batch_id ? { provider_batch_id: part.provider_batch_id } : {}),
  };
}
