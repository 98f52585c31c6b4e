/** `POST /batches/{id}/start`: start a batch whose essays are all stored (409 otherwise). */
import { apiCaller } from '#shared/runtime/caller-principal.ts';
import { jsonBody, jsonResponse, pathParameter } from '#shared/runtime/http.ts';
import { httpHandler } from '#shared/runtime/middleware.ts';
import { startBatch } from '#shared/workflow/api.ts';
import { deps } from './deps.ts';

export const handler = httpHandler(async (event) => {
  const result = await startBatch(
    deps(),
    pathParameter(event, 'id'),
    apiCaller(event),
    jsonBody(event),
  );
  return jsonResponse(result.status, result.body);
});
