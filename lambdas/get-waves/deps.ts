/** get-waves' composition root: META and the comparison history. */
import { lazy } from '#shared/runtime/lazy.ts';
import { table } from '#shared/runtime/table.ts';
import type { WavesDeps } from '#shared/workflow/waves.ts';
import { dynamoBatches } from '#store/batches.ts';
import { dynamoHistory } from '#store/history.ts';

export const deps = lazy(
  (): WavesDeps => ({
    store: { ...dynamoBatches(table()), ...dynamoHistory(table()) },
  }),
);
