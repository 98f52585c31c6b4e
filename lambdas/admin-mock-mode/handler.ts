/** `GET /admin/mock-mode`: which judge providers and mock profiles this deployment allows. */
import { readEnv } from '#shared/runtime/env.ts';
import { jsonResponse } from '#shared/runtime/http.ts';
import { httpHandler } from '#shared/runtime/middleware.ts';
import { mockMode } from '#shared/workflow/api.ts';

export const handler = httpHandler(async () => {
  const { ALLOWED_PROVIDERS } = readEnv(['ALLOWED_PROVIDERS']);
  const result = mockMode({ allowedProviders: ALLOWED_PROVIDERS });
  return jsonResponse(result.status, result.body);
});
