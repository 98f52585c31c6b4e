/** The HTTP response an API operation's error maps to, for tests of the workflow's API layer. */
import { errorResponse } from '#shared/runtime/http.ts';

export interface HttpFailure {
  status: number | undefined;
  body: unknown;
}

/** Awaits an operation that must fail and returns the status and parsed body the API would send. */
export async function httpFailureOf(operation: Promise<unknown>): Promise<HttpFailure> {
  try {
    await operation;
  } catch (error) {
    const response = errorResponse(error);
    return { status: response.statusCode, body: JSON.parse(String(response.body)) as unknown };
  }
  throw new Error('expected the operation to fail');
}
