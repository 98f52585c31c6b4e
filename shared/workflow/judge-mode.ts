/**
 * How a batch's judge is asked (judge.mode): synchronously, one request per comparison through the
 * judge queue, or in provider batches through the provider's batch API (OpenAI, Anthropic). The
 * mode decides where a committed wave goes and when its comparisons time out. A named
 * OpenAI-compatible endpoint the deployment declares batch-capable is judged like OpenAI.
 */
import type { EngineConfig } from '#domain/config.ts';
import type { JudgeChoice } from '#messages/api.ts';
import { batchApiShapeOf, type ProviderBatchService } from '#shared/judges/batch/port.ts';
import { PROVIDER_BATCH_WINDOW_SECONDS } from '#shared/judges/batch/windows.ts';

/**
 * Where a batch's waves are judged in provider batches (its judge choice, from its settings): the
 * provider, or the named OpenAI-compatible endpoint; null when judged synchronously. Creation has
 * checked that the endpoint is one the deployment declares batch-capable.
 */
export function providerBatchOf(judge: JudgeChoice): ProviderBatchService | null {
  if (judge.provider === 'mock' || judge.mode !== 'provider_batch') return null;
  if (judge.provider !== 'openai-compatible') return judge.provider;
  return judge.endpoint === undefined ? null : `openai-compatible:${judge.endpoint}`;
}

/** When a wave's comparisons time out: the sync deadline, or the provider's window plus margin. */
export function waveDeadline(judge: JudgeChoice, config: EngineConfig, now: Date): Date {
  const service = providerBatchOf(judge);
  const seconds =
    service === null
      ? config.COMPARISON_DEADLINE_SECONDS
      : PROVIDER_BATCH_WINDOW_SECONDS[batchApiShapeOf(service)] +
        config.PROVIDER_BATCH_DEADLINE_MARGIN_SECONDS;
  return new Date(now.getTime() + seconds * 1000);
}
