/** `GET /batches`: the caller's batches, newest first, one page at a time (`limit`, `status`, `cursor`). */
import { apiCaller } from '#shared/runtime/caller-principal.ts';
import { jsonResponse } from '#shared/runtime/http.ts';
import { httpHandler } from '#shared/runtime/middleware.ts';
import { listBatches } from '#shared/workflow/batch-list.ts';
import { deps } from './deps.ts';

export const handler = httpHandler(async (event) => {
  const result = await listBatches(deps(), apiCaller(event), event.queryStringParameters ?? {});
  return jsonResponse(result.status, result.body);
});
