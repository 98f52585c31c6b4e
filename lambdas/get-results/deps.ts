/** get-results' composition root: META and the stored result rows. */
import { lazy } from '#shared/runtime/lazy.ts';
import { table } from '#shared/runtime/table.ts';
import type { ResultsDeps } from '#shared/workflow/api.ts';
import { dynamoBatches } from '#store/batches.ts';
import { dynamoFinalization } from '#store/finalization.ts';

export const deps = lazy(
  (): ResultsDeps => ({
    store: { ...dynamoBatches(table()), ...dynamoFinalization(table()) },
  }),
);
