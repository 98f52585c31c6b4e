/** Every minute: time out overdue comparisons, re-trigger drained batches, emit PendingCallbacks. */
import { scheduledHandler } from '#shared/runtime/middleware.ts';
import { runSweep } from '#shared/workflow/sweeper.ts';
import { deps } from './deps.ts';

export const handler = scheduledHandler(async () => {
  await runSweep(deps());
});
