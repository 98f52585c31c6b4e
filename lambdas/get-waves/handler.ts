/** `GET /batches/{id}/waves`: the batch's decisions wave by wave and its pending callbacks over time. */
import { apiCaller } from '#shared/runtime/caller-principal.ts';
import { jsonResponse, pathParameter } from '#shared/runtime/http.ts';
import { httpHandler } from '#shared/runtime/middleware.ts';
import { getWaves } from '#shared/workflow/waves.ts';
import { deps } from './deps.ts';

export const handler = httpHandler(async (event) => {
  const result = await getWaves(deps(), pathParameter(event, 'id'), apiCaller(event));
  return jsonResponse(result.status, result.body);
});
