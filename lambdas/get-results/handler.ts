/** `GET /batches/{id}/results`: per-essay scores of a finalized batch (409 before). */
import { jsonResponse, pathParameter } from '#shared/runtime/http.ts';
import { httpHandler } from '#shared/runtime/middleware.ts';
import { getResults } from '#shared/workflow/api.ts';
import { deps } from './deps.ts';

export const handler = httpHandler(async (event) => {
  const result = await getResults(deps(), pathParameter(event, 'id'));
  return jsonResponse(result.status, result.body);
});
