/** `POST /batches/{id}/start`: start a batch whose essays are all stored (409 otherwise). */
import { lazyDeps } from '#shared/runtime/deps.ts';
import { jsonBody, jsonResponse, pathParameter } from '#shared/runtime/http.ts';
import { httpHandler } from '#shared/runtime/middleware.ts';
import { startBatch } from '#shared/workflow/api.ts';

const deps = lazyDeps(['CONTINUATION_QUEUE_URL']);

export const handler = httpHandler(async (event) => {
  const result = await startBatch(deps(), pathParameter(event, 'id'), jsonBody(event));
  return jsonResponse(result.status, result.body);
});
