/** add-essays' composition root: the batch store, the clock and the deployment's maxima. */
import { limitsFromEnv } from '#shared/runtime/env.ts';
import { lazy } from '#shared/runtime/lazy.ts';
import { system } from '#shared/runtime/system.ts';
import { table } from '#shared/runtime/table.ts';
import type { AddEssaysDeps } from '#shared/workflow/api.ts';
import { dynamoBatches } from '#store/batches.ts';

export const deps = lazy(
  (): AddEssaysDeps => ({
    store: dynamoBatches(table()),
    now: system.now,
    limits: limitsFromEnv(),
  }),
);
