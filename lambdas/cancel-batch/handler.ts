/** `POST /batches/{id}/cancel`: stop an active batch and publish its cancellation event. */
import { apiCaller } from '#shared/runtime/caller-principal.ts';
import { jsonBody, jsonResponse, pathParameter } from '#shared/runtime/http.ts';
import { httpHandler } from '#shared/runtime/middleware.ts';
import { cancelBatch } from '#shared/workflow/api.ts';
import { deps } from './deps.ts';

export const handler = httpHandler(async (event) => {
  const result = await cancelBatch(
    deps(),
    pathParameter(event, 'id'),
    apiCaller(event),
    jsonBody(event),
  );
  return jsonResponse(result.status, result.body);
});
