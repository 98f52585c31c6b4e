/**
 * HTTP API (payload v2.0) helpers: JSON responses, typed errors that become `{error, field, message}`
 * bodies, and body/path parsing that fails with a 400 naming the field.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ZodError } from 'zod';
import { ConfigError } from '#domain/config.ts';

export interface ErrorBody {
  error: string;
  field?: string;
  message: string;
}

export type HttpResult = APIGatewayProxyStructuredResultV2;

/** An error with the HTTP status and body it maps to. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
    this.name = 'HttpError';
  }
}

export const badRequest = (field: string, message: string): HttpError =>
  new HttpError(400, { error: 'validation_error', field, message });

export const notFound = (batchId: string): HttpError =>
  new HttpError(404, { error: 'not_found', field: 'id', message: `batch ${batchId} not found` });

export const conflict = (message: string, field = 'status'): HttpError =>
  new HttpError(409, { error: 'conflict', field, message });

export function jsonResponse(status: number, body: unknown): HttpResult {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

/** Joins a zod issue path the way clients read it: `essays[3].text`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? 'body' : out;
}

/** Maps any error thrown by an HTTP handler to its response; unknown errors are a bare 500. */
export function errorResponse(error: unknown): HttpResult {
  if (error instanceof HttpError) return jsonResponse(error.status, error.body);
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    return jsonResponse(400, {
      error: 'validation_error',
      field: fieldPath(issue?.path ?? []),
      message: issue?.message ?? 'invalid request',
    });
  }
  if (error instanceof ConfigError) {
    return jsonResponse(400, {
      error: 'validation_error',
      field: `config.${error.field}`,
      message: error.message,
    });
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
