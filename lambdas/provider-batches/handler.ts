/** Every minute: submit, poll, collect and cancel provider batches (judge.mode provider_batch). */
import { scheduledHandler } from '#shared/runtime/middleware.ts';
import { runProviderBatches } from '#shared/workflow/provider-batches.ts';
import { deps } from './deps.ts';

export const handler = scheduledHandler(async (_event, context) => {
  await runProviderBatches(deps(context));
});
