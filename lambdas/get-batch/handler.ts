/** `GET /batches/{id}`: the state JSON. */
import { apiCaller } from '#shared/runtime/caller-principal.ts';
import { jsonResponse, pathParameter } from '#shared/runtime/http.ts';
import { httpHandler } from '#shared/runtime/middleware.ts';
import { getBatch } from '#shared/workflow/api.ts';
import { deps } from './deps.ts';

export const handler = httpHandler(async (event) => {
  const result = await getBatch(deps(), pathParameter(event, 'id'), apiCaller(event));
  return jsonResponse(result.status, result.body);
});
