/**
 * `POST /batches`: validate the batch, store it, and start it when its essays came inline.
 * An `Idempotency-Key` header makes a retried create return the same batch. The calling principal
 * owns the batch.
 */
import { apiCaller } from '#shared/runtime/caller-principal.ts';
import { jsonBody, jsonResponse } from '#shared/runtime/http.ts';
import { httpHandler } from '#shared/runtime/middleware.ts';
import { createBatch } from '#shared/workflow/api.ts';
import { deps } from './deps.ts';

export const handler = httpHandler(async (event) => {
  const result = await createBatch(
    deps(),
    jsonBody(event),
    apiCaller(event),
    event.headers['idempotency-key'],
  );
  return jsonResponse(result.status, result.body);
});
