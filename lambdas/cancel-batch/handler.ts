/** `POST /batches/{id}/cancel`: stop an active batch and publish its cancellation event. */
import { lazyDeps } from '#shared/runtime/deps.ts';
import { jsonBody, jsonResponse, pathParameter } from '#shared/runtime/http.ts';
import { httpHandler } from '#shared/runtime/middleware.ts';
import { cancelBatch } from '#shared/workflow/api.ts';

const deps = lazyDeps(['EVENT_BUS_NAME']);

export const handler = httpHandler(async (event) => {
  const result = await cancelBatch(deps(), pathParameter(event, 'id'), jsonBody(event));
  return jsonResponse(result.status, result.body);
});
