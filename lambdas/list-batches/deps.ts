/** list-batches' composition root: the owner index and META reads, nothing else. */
import { lazy } from '#shared/runtime/lazy.ts';
import { table } from '#shared/runtime/table.ts';
import type { ListDeps } from '#shared/workflow/batch-list.ts';
import { dynamoBatches } from '#store/batches.ts';

export const deps = lazy((): ListDeps => ({ store: dynamoBatches(table()) }));
