/** `POST /batches/{id}/essays`: store one page of essays of a PENDING_ESSAYS batch. */
import { apiCaller } from '#shared/runtime/caller-principal.ts';
import { jsonBody, jsonResponse, pathParameter } from '#shared/runtime/http.ts';
import { httpHandler } from '#shared/runtime/middleware.ts';
import { addEssays } from '#shared/workflow/api.ts';
import { deps } from './deps.ts';

export const handler = httpHandler(async (event) => {
  const result = await addEssays(
    deps(),
    pathParameter(event, 'id'),
    apiCaller(event),
    jsonBody(event),
  );
  return jsonResponse(result.status, result.body);
});
