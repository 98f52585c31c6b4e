/**
 * The API operations' errors: each carries the HTTP status and the `{error, field, message}` body it
 * maps to. The workflow throws them; the runtime's HTTP middleware turns them into responses.
 */

export interface ErrorBody {
  error: string;
  field?: string;
  message: string;
}

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
