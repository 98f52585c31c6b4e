/**
 * Chooses the provider adapter for a batch's judge choice. Only the mock exists so far; real LLM
 * adapters register here by provider name.
 */
import { mockJudgeSettingsSchema } from '#domain/mock-judge.ts';
import type { JudgeChoice } from '#messages/api.ts';
import { MockJudgeProvider, type Sleep } from './mock.ts';
import type { JudgeProvider } from './port.ts';

export interface ProviderOptions {
  maxMockLatencyMs: number;
  sleep?: Sleep;
}

/** Throws a ZodError (naming the field) when the stored choice does not fit its provider. */
export function createJudgeProvider(choice: JudgeChoice, options: ProviderOptions): JudgeProvider {
  switch (choice.provider) {
    case 'mock':
      return new MockJudgeProvider(mockJudgeSettingsSchema.parse(choice), {
        maxLatencyMs: options.maxMockLatencyMs,
        ...(options.sleep ? { sleep: options.sleep } : {}),
      });
  }
}
