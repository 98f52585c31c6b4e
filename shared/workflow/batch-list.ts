/**
 * `GET /batches`: one page of the caller's batches, newest first (an admin's: every batch), from
 * the owner index (docs/api.md, docs/security.md).
 */
import { batchListQuerySchema, decodeListCursor, encodeListCursor } from '#messages/api.ts';
import type { Caller } from './access.ts';
import { badRequest } from './http-errors.ts';
import type { BatchStore } from './ports.ts';
import { batchSummary } from './views.ts';

export interface ListDeps {
  store: Pick<BatchStore, 'listBatches'>;
}

/**
 * One page of the caller's batches, newest first (`query`: `limit`, `status`, `cursor`;
 * docs/api.md). Unknown parameters, a bad limit or status, and a cursor this API did not give are
 * 400s naming the parameter.
 */
export async function listBatches(
  deps: ListDeps,
  caller: Caller,
  query: Record<string, string | undefined> = {},
): Promise<{ status: number; body: unknown }> {
  // An admin's list holds every batch; anyone else's only their own (docs/security.md).
  const unknown = Object.keys(query).find((name) => !(name in batchListQuerySchema.shape));
  if (unknown) {
    throw badRequest(unknown, `unknown query parameter ${unknown} (limit, status, cursor)`);
  }
  const { limit, status, cursor } = batchListQuerySchema.parse(query);
  const after = cursor === undefined ? undefined : decodeListCursor(cursor);
  if (cursor !== undefined && after === undefined) {
    throw badRequest('cursor', 'cursor is not one this API gave');
  }
  const page = await deps.store.listBatches({
    ...(caller.admin === true ? {} : { owner: caller.id }),
    limit,
    ...(status === undefined ? {} : { status }),
    ...(after === undefined ? {} : { after }),
  });
  return {
    status: 200,
    body: {
      v: 1,
      batches: page.batches.map(batchSummary),
      ...(page.next === undefined ? {} : { next_cursor: encodeListCursor(page.next) }),
    },
  };
}
