/** Every minute: time out overdue comparisons, re-trigger drained batches, emit PendingCallbacks. */
import { lazyDeps } from '#shared/runtime/deps.ts';
import { scheduledHandler } from '#shared/runtime/middleware.ts';
import { runSweep } from '#shared/workflow/sweeper.ts';

const deps = lazyDeps(['CONTINUATION_QUEUE_URL']);

export const handler = scheduledHandler(async () => {
  await runSweep(deps());
});
