/** `GET /batches/{id}/results?limit&cursor`: one page of a finalized batch's scores (409 before). */
import { apiCaller } from '#shared/runtime/caller-principal.ts';
import { jsonResponse, pathParameter } from '#shared/runtime/http.ts';
import { httpHandler } from '#shared/runtime/middleware.ts';
import { getResults } from '#shared/workflow/api.ts';
import { deps } from './deps.ts';

export const handler = httpHandler(async (event) => {
  const result = await getResults(
    deps(),
    pathParameter(event, 'id'),
    apiCaller(event),
    event.queryStringParameters ?? {},
  );
  return jsonResponse(result.status, result.body);
});
