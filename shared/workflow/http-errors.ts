/**
 * The API operations' errors: each carries the HTTP status and the `{error, field, message}` body it
 * maps to. The workflow throws them; the runtime's HTTP middleware turns them into responses.
 */
import { type CapRefusal, capMessage, type InFlightLimit } from '#domain/in-flight.ts';

export interface ErrorBody {
  error: string;
  field?: string;
  message: string;
  /** A 429 over an in-flight cap: the limit's name, its value, what is in flight, what was asked. */
  limit?: InFlightLimit;
  max?: number;
  in_flight?: number;
  requested?: number;
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

/** Where a 429 points: the caller's batches, or the deployment's essays. */
const CAP_FIELD: Record<InFlightLimit, string> = {
  MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL: 'batches_in_flight',
  MAX_ESSAYS_IN_FLIGHT: 'essays_in_flight',
};

/** 429: one more batch would pass an in-flight cap (docs/api.md). */
export const tooManyInFlight = (refusal: CapRefusal): HttpError =>
  new HttpError(429, {
    error: 'too_many_in_flight',
    field: CAP_FIELD[refusal.limit],
    message: capMessage(refusal),
    ...refusal,
  });
