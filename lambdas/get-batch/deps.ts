/** get-batch's composition root: a META read, nothing else. */
import { lazy } from '#shared/runtime/lazy.ts';
import { table } from '#shared/runtime/table.ts';
import type { ReadDeps } from '#shared/workflow/api.ts';
import { dynamoBatches } from '#store/batches.ts';

export const deps = lazy((): ReadDeps => ({ store: dynamoBatches(table()) }));
