/**
 * The guards on every provider call, against real local HTTP servers: a redirect is never
 * followed (the key never reaches the redirect's target, and the call fails permanently as
 * `redirect_refused`), a body longer than PROVIDER_RESPONSE_MAX_BYTES is read no further than the
 * cap (`response_too_large`), the timeout still ends a hanging call, and the endpoint path is
 * joined to the base URL by URL parsing, so no query, fragment or user info can move it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { checkedBaseUrl, ProviderBatchCallError, sendForJson } from '#shared/judges/batch/http.ts';
import { endpointUrl, InvalidBaseUrlError, postJson, readCapped } from '#shared/judges/http.ts';
import { chatCompletionsUrl } from '#shared/judges/openai.ts';
import { createJudgeProvider } from '#shared/judges/registry.ts';
import {
  fixedKeys,
  judgeRequest,
  LOCAL_CLOUD_POLICY,
  TEST_API_KEY,
  TEST_CALL_TIMEOUT_MS,
} from '#test/helpers/judge-factories.ts';

interface LocalServer {
  origin: string;
  /** Requests seen, with their authorization header. */
  seen: Array<{ path: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

async function serve(
  handle: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<LocalServer> {
  const seen: LocalServer['seen'] = [];
  const server = createServer((request, response) => {
    seen.push({ path: request.url ?? '', authorization: request.headers.authorization });
    request.resume();
    request.on('end', () => handle(request, response));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const VERDICT = JSON.stringify({
  choices: [
    {
      message: { content: '{"winner":"A","confidence":4,"justification":"clearer"}' },
      finish_reason: 'stop',
    },
  ],
});

/** A server answering every request with a chat completion (where a redirect would lead). */
function answering(): Promise<LocalServer> {
  return serve((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(VERDICT);
  });
}

/** Streams `totalBytes` of JSON-looking bytes in 64 KB chunks, with no content-length. */
function streaming(totalBytes: number): Promise<LocalServer> {
  return serve((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let written = 0;
    const pump = () => {
      while (written < totalBytes && !response.destroyed) {
        written += chunk.length;
        if (!response.write(chunk)) {
          response.once('drain', pump);
          return;
        }
      }
      if (!response.destroyed) response.end();
    };
    response.on('error', () => undefined);
    pump();
  });
}

function compatibleJudge(baseUrl: string) {
  return createJudgeProvider(
    { provider: 'openai-compatible', model: 'local-model', base_url: baseUrl },
    {
      maxMockLatencyMs: 0,
      llm: {
        keys: fixedKeys(),
        config: { ...DEFAULT_CONFIG, JUDGE_CALL_TIMEOUT_MS: 5000 },
        endpointPolicy: LOCAL_CLOUD_POLICY,
      },
    },
  );
}

describe('provider calls follow no redirect', () => {
  it.each([301, 302, 307, 308])(
    'a %i is a permanent redirect_refused failure, and the key never reaches its target',
    async (status) => {
      // Prepare
      const target = await answering();
      const redirecting = await serve((_request, response) => {
        response.writeHead(status, { location: `${target.origin}/v1/chat/completions` });
        response.end();
      });
      const judge = compatibleJudge(`${redirecting.origin}/v1`);

      // Act
      const result = await judge.judge(judgeRequest());

      // Assess
      expect(result).toEqual({
        outcome: 'failure',
        kind: 'invalid_request',
        reason: 'redirect_refused',
        retryable: false,
      });
      expect(redirecting.seen).toEqual([
        { path: '/v1/chat/completions', authorization: `Bearer ${TEST_API_KEY}` },
      ]);
      expect(target.seen).toEqual([]);
    },
  );

  it('a provider batch control call refuses a redirect the same way', async () => {
    // Prepare
    const target = await answering();
    const redirecting = await serve((_request, response) => {
      response.writeHead(302, { location: `${target.origin}/v1/batches/b1` });
      response.end();
    });

    // Act
    const error = await sendForJson(
      { fetch: (input, init) => fetch(input, init), timeoutMs: 2000 },
      {
        operation: 'retrieve',
        method: 'GET',
        url: `${redirecting.origin}/v1/batches/b1`,
        headers: { authorization: `Bearer ${TEST_API_KEY}` },
      },
    ).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(ProviderBatchCallError);
    expect(error).toMatchObject({ reason: 'redirect_refused', retryable: false, status: 302 });
    expect(target.seen).toEqual([]);
  });
});

describe('provider responses are read up to PROVIDER_RESPONSE_MAX_BYTES', () => {
  it('a server streaming 5 MB fails the judge call as response_too_large, not retried', async () => {
    // Prepare
    const server = await streaming(5 * 1024 * 1024);
    const judge = compatibleJudge(`${server.origin}/v1`);

    // Act
    const result = await judge.judge(judgeRequest());

    // Assess
    expect(result).toEqual({
      outcome: 'failure',
      kind: 'provider_error',
      reason: 'response_too_large',
      retryable: false,
    });
    expect(DEFAULT_CONFIG.PROVIDER_RESPONSE_MAX_BYTES).toBe(1024 * 1024);
  });

  it('a provider batch control call streaming 5 MB fails as response_too_large', async () => {
    // Prepare
    const server = await streaming(5 * 1024 * 1024);

    // Act
    const error = await sendForJson(
      { fetch: (input, init) => fetch(input, init), timeoutMs: 5000 },
      { operation: 'list', method: 'GET', url: `${server.origin}/v1/batches`, headers: {} },
    ).catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ reason: 'response_too_large', retryable: false });
  });

  it('stops pulling the body at the cap, and refuses a declared length above it unread', async () => {
    // Prepare: an endless body that counts what was pulled
    let pulled = 0;
    const endless = new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += 1;
          controller.enqueue(new Uint8Array(1000));
        },
      }),
    );
    let declaredPulls = 0;
    const declared = new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          declaredPulls += 1;
          controller.enqueue(new Uint8Array(10));
        },
      }),
      { headers: { 'content-length': '5000000' } },
    );

    // Act
    const endlessText = await readCapped(endless, 10_000);
    const declaredText = await readCapped(declared, 10_000);

    // Assess: 11 chunks pass 10,000 bytes; at most one more was buffered ahead
    expect(endlessText).toBeUndefined();
    expect(pulled).toBeLessThanOrEqual(12);
    expect(declaredText).toBeUndefined();
    expect(declaredPulls).toBeLessThanOrEqual(1);
  });

  it('reads a body up to the cap whole', async () => {
    // Prepare
    const response = new Response('x'.repeat(10_000));

    // Act
    const text = await readCapped(response, 10_000);

    // Assess
    expect(text).toBe('x'.repeat(10_000));
  });
});

describe('the call timeout still applies', () => {
  it('a server that never answers ends as a retryable call_timeout', async () => {
    // Prepare
    const silent = await serve(() => undefined);

    // Act
    const outcome = await postJson({
      url: `${silent.origin}/v1/chat/completions`,
      headers: {},
      body: {},
      timeoutMs: TEST_CALL_TIMEOUT_MS,
      maxResponseBytes: 1024,
      fetch: (input, init) => fetch(input, init),
      now: Date.now,
    });

    // Assess
    expect(outcome).toMatchObject({
      ok: false,
      failure: { kind: 'timeout', reason: 'call_timeout', retryable: true },
    });
  });
});

describe('endpoint URLs are joined by URL parsing', () => {
  it.each([
    ['http://127.0.0.1:8000/v1', 'http://127.0.0.1:8000/v1/chat/completions'],
    ['http://127.0.0.1:8000/v1/', 'http://127.0.0.1:8000/v1/chat/completions'],
    ['https://llm.example.org', 'https://llm.example.org/chat/completions'],
    ['https://llm.example.org/a/b//', 'https://llm.example.org/a/b/chat/completions'],
  ])('%s → %s', (base, expected) => {
    // Act
    const url = chatCompletionsUrl(base);

    // Assess
    expect(url).toBe(expected);
  });

  it.each([
    ['a query', 'https://llm.example.org/v1?x=1'],
    ['an empty query', 'https://llm.example.org/v1?'],
    ['a fragment', 'https://llm.example.org/v1#frag'],
    ['user info', 'https://user:pass@llm.example.org/v1'],
    ['another scheme', 'file:///etc/passwd'],
    ['not a URL', 'llm.example.org/v1'],
  ])('refuses a base URL with %s', (_name, base) => {
    // Act
    const attempt = () => endpointUrl(base, '/chat/completions');

    // Assess
    expect(attempt).toThrow(InvalidBaseUrlError);
  });

  it('fails a judge call whose base URL has a query, without calling anyone', async () => {
    // Prepare
    const server = await answering();
    const judge = compatibleJudge(`${server.origin}/v1?redirect=1`);

    // Act
    const result = await judge.judge(judgeRequest());

    // Assess
    expect(result).toEqual({
      outcome: 'failure',
      kind: 'invalid_request',
      reason: 'invalid_base_url',
      retryable: false,
    });
    expect(server.seen).toEqual([]);
  });

  it('checks a provider batch base URL once, keeping paths under it', () => {
    // Act
    const base = checkedBaseUrl('https://api.example.org/v1/');
    const refused = () => checkedBaseUrl('https://api.example.org/v1#x');

    // Assess
    expect(base).toBe('https://api.example.org/v1');
    expect(refused).toThrow(ProviderBatchCallError);
  });
});
