/**
 * How a batch's judge is asked (judge.mode): synchronously, one request per comparison through the
 * judge queue, or in provider batches through the provider's batch API (OpenAI, Anthropic). The
 * mode decides where a committed wave goes and when its comparisons time out.
 */
import type { EngineConfig } from '#domain/config.ts';
import type { JudgeChoice } from '#messages/api.ts';
import type { BatchProviderName } from '#shared/judges/batch/port.ts';
import { PROVIDER_BATCH_WINDOW_SECONDS } from '#shared/judges/batch/windows.ts';
/** The provider whose batch API judges a batch's waves (its judge choice, from its settings); null when judged synchronously. */
export function providerBatchOf(judge: JudgeChoice): BatchProviderName | null {
  if (judge.provider !== 'openai' && judge.provider !== 'anthropic') return null;
  return judge.mode === 'provider_batch' ? judge.provider : null;
}

/** When a wave's comparisons time out: the sync deadline, or the provider's window plus margin. */
export function waveDeadline(judge: JudgeChoice, config: EngineConfig, now: Date): Date {
  const provider = providerBatchOf(judge);
  const seconds =
    provider === null
      ? config.COMPARISON_DEADLINE_SECONDS
      : PROVIDER_BATCH_WINDOW_SECONDS[provider] + config.PROVIDER_BATCH_DEADLINE_MARGIN_SECONDS;
  return new Date(now.getTime() + seconds * 1000);
}
