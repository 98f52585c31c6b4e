/**
 * How long each provider may take before it ends a batch by itself (its completion window): the
 * base of a provider-batch comparison's deadline. Constants only, so the continuation can plan a
 * deadline without bundling the adapters.
 */
import type { BatchProviderName } from './port.ts';

export const PROVIDER_BATCH_WINDOW_SECONDS: Readonly<Record<BatchProviderName, number>> = {
  /** `completion_window: "24h"`, the only value the Batch API accepts. */
  openai: 24 * 3600,
  /** A Message Batch not ended 24 hours after creation expires. */
  anthropic: 24 * 3600,
};
