/**
 * How the CLI's API client reads a failed answer over a real loopback connection: the error's
 * detail from `message`, `error` or plain text, and the wait a `Retry-After` asks for, in seconds
 * or as an HTTP date.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from '#cli/api.ts';

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

let server: Server | undefined;

/** A server that answers every request with `answer`. */
async function clientAnswering(answer: Answer): Promise<ApiClient> {
  server = createServer((_req, res) => {
    res.writeHead(answer.status, answer.headers ?? {});
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new ApiClient({ baseUrl: `http://127.0.0.1:${port}` });
}

async function failureOf(client: ApiClient): Promise<ApiError> {
  const error = await client.getBatch('b1').catch((caught: unknown) => caught);
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe('the API client on a failed answer', () => {
  it('takes the detail from `error` when there is no `message`, and no field', async () => {
    // Prepare
    const client = await clientAnswering({ status: 500, body: '{"error":"internal_error"}' });

    // Act
    const error = await failureOf(client);

    // Assess
    expect(error.status).toBe(500);
    expect(error.field).toBeUndefined();
    expect(error.message).toBe('API error 500: internal_error');
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('keeps a body that is not JSON and falls back to the status text', async () => {
    // Prepare
    const client = await clientAnswering({ status: 502, body: 'Bad Gateway from the proxy' });

    // Act
    const error = await failureOf(client);

    // Assess
    expect(error.body).toBe('Bad Gateway from the proxy');
    expect(error.message).toBe('API error 502: Bad Gateway');
  });

  it('reads Retry-After in seconds', async () => {
    // Prepare
    const client = await clientAnswering({
      status: 429,
      body: '{"message":"slow down"}',
      headers: { 'retry-after': '2' },
    });

    // Act
    const error = await failureOf(client);

    // Assess
    expect(error.retryAfterMs).toBe(2000);
    expect(error.message).toBe('API error 429: slow down');
  });

  it('reads Retry-After as an HTTP date, and ignores one it cannot read', async () => {
    // Prepare
    const later = new Date(Date.now() + 60_000).toUTCString();
    const dated = await clientAnswering({
      status: 503,
      body: '',
      headers: { 'retry-after': later },
    });

    // Act
    const datedError = await failureOf(dated);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    const garbled = await clientAnswering({
      status: 503,
      body: '',
      headers: { 'retry-after': 'soon' },
    });
    const garbledError = await failureOf(garbled);

    // Assess
    expect(datedError.retryAfterMs).toBeGreaterThan(55_000);
    expect(datedError.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(garbledError.retryAfterMs).toBeUndefined();
  });
});
