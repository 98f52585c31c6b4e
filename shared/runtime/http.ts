/**
 * HTTP API (payload v2.0) helpers: JSON responses, typed errors that become `{error, field, message}`
 * bodies, and body/path parsing that fails with a 400 naming the field.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ZodError } from 'zod';
import { ConfigError } from '#domain/config.ts';
import { toValidationError } from '#messages/validation.ts';
import { badRequest, HttpError } from '#shared/workflow/http-errors.ts';

export type HttpResult = APIGatewayProxyStructuredResultV2;

export function jsonResponse(status: number, body: unknown): HttpResult {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

/** Maps any error thrown by an HTTP handler to its response; unknown errors are a bare 500. */
export function errorResponse(error: unknown): HttpResult {
  if (error instanceof HttpError) return jsonResponse(error.status, error.body);
  if (error instanceof ZodError || error instanceof ConfigError) {
    const body = toValidationError(error);
    // A request-level issue (no path) names the body, so `field` is never empty.
    return jsonResponse(400, { ...body, field: body.field === '' ? 'body' : body.field });
  }
  return jsonResponse(500, { error: 'internal_error', message: 'internal error' });
}

/** The JSON body of a request; an absent body is `{}`, unparseable JSON a 400 on `body`. */
export function jsonBody(event: APIGatewayProxyEventV2): unknown {
  if (event.body === undefined || event.body === '') return {};
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body, 'base64').toString('utf8')
    : event.body;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw badRequest('body', 'request body is not valid JSON');
  }
}

export function pathParameter(event: APIGatewayProxyEventV2, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined || value === '')
    throw badRequest(name, `path parameter ${name} is required`);
  return value;
}
