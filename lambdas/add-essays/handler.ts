/** `POST /batches/{id}/essays`: store one page of essays of a PENDING_ESSAYS batch. */
import { lazyDeps } from '#shared/runtime/deps.ts';
import { jsonBody, jsonResponse, pathParameter } from '#shared/runtime/http.ts';
import { httpHandler } from '#shared/runtime/middleware.ts';
import { addEssays } from '#shared/workflow/api.ts';

const deps = lazyDeps([]);

export const handler = httpHandler(async (event) => {
  const result = await addEssays(deps(), pathParameter(event, 'id'), jsonBody(event));
  return jsonResponse(result.status, result.body);
});
