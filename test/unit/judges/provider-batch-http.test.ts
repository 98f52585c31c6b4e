/**
 * The provider batch APIs' HTTP helpers, failure mapping and adapter choice, on stubbed fetches:
 * a failed call reports a short code and whether trying again can help (never a body), a redirect
 * is not followed, a control-call answer must be one JSON object of bounded size, a results
 * download that breaks mid-way fails as network_error, a provider's error codes map to the
 * engine's failure kinds, and only OpenAI, Anthropic and the named OpenAI-compatible endpoints a
 * deployment declares batch-capable have a batch API (each such endpoint called at its own base URL
 * with its own key, or none).
 */
import { describe, expect, it } from 'vitest';
import { ANTHROPIC_BATCH_LIMITS } from '#shared/judges/batch/anthropic-batch.ts';
import {
  type BatchHttp,
  codeOf,
  ProviderBatchCallError,
  readableFrom,
  resultStream,
  sendForJson,
} from '#shared/judges/batch/http.ts';
import { OPENAI_BATCH_LIMITS } from '#shared/judges/batch/openai-batch.ts';
import {
  batchFailedReason,
  erroredOutcome,
  httpStatusOutcome,
} from '#shared/judges/batch/outcomes.ts';
import { createProviderBatchApi, NoProviderBatchApiError } from '#shared/judges/batch/registry.ts';
import type { EndpointPolicy } from '#shared/judges/endpoints.ts';
import type { FetchLike } from '#shared/judges/http.ts';
import { createKeySource } from '#shared/judges/secrets.ts';
import { fixedKeys } from '#test/helpers/judge-factories.ts';

const CALL = {
  operation: 'retrieve',
  method: 'GET' as const,
  url: 'https://x.test/b',
  headers: {},
};

function httpAnswering(answer: () => Promise<Response>): BatchHttp {
  return { fetch: async () => answer(), timeoutMs: 1000 };
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('provider batch control calls', () => {
  it.each([
    ['a body that is not JSON', () => new Response('<html>'), 'response_not_json', true],
    ['a JSON array', () => Response.json([1, 2]), 'response_not_json', true],
    [
      'a redirect (not followed)',
      () => new Response(null, { status: 302, headers: { location: 'https://elsewhere.test/' } }),
      'redirect_refused',
      false,
    ],
    ['a 429', () => new Response('slow down', { status: 429 }), 'http_429', true],
    ['a 400', () => new Response('{"error":"essay text"}', { status: 400 }), 'http_400', false],
  ])('fail on %s with a short code', async (_name, answer, reason, retryable) => {
    // Prepare
    const http = httpAnswering(async () => answer());

    // Act
    const error = await failureOf(sendForJson(http, CALL));

    // Assess
    expect(error).toBeInstanceOf(ProviderBatchCallError);
    expect(error).toMatchObject({ operation: 'retrieve', reason, retryable });
    expect(String((error as Error).message)).not.toContain('essay text');
  });

  it('refuses an answer larger than PROVIDER_RESPONSE_MAX_BYTES, unread past the cap', async () => {
    // Prepare: 5 MB of JSON, streamed
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    let sent = 0;
    const http = httpAnswering(async () => {
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === 5) controller.close();
          else controller.enqueue(chunk);
          sent += 1;
        },
      });
      return new Response(body);
    });

    // Act
    const error = await failureOf(sendForJson(http, CALL));

    // Assess: 1 MB read whole, the second chunk passes the cap and the rest is never pulled
    expect(error).toMatchObject({ reason: 'response_too_large', retryable: false });
    expect(sent).toBeLessThanOrEqual(3);
  });

  it('reports a network error and a timeout as retryable codes', async () => {
    // Prepare
    const refused: BatchHttp = {
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
      timeoutMs: 1000,
    };
    const slow: BatchHttp = {
      fetch: async () => {
        throw new DOMException('timed out', 'TimeoutError');
      },
      timeoutMs: 1000,
    };

    // Act
    const errors = [
      await failureOf(sendForJson(refused, CALL)),
      await failureOf(sendForJson(slow, CALL)),
    ];

    // Assess
    expect(errors).toMatchObject([
      { reason: 'network_error', retryable: true, status: null },
      { reason: 'call_timeout', retryable: true, status: null },
    ]);
  });
});

describe('provider batch results downloads', () => {
  it('fails as network_error when the connection breaks mid-file, after the lines that came', async () => {
    // Prepare: one chunk, then the connection breaks
    const http = httpAnswering(async () => {
      let pulls = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulls += 1;
          if (pulls === 1) controller.enqueue(new TextEncoder().encode('{"custom_id":"a"}\n'));
          else controller.error(new Error('socket hang up'));
        },
      });
      return new Response(body);
    });
    const chunks: Uint8Array[] = [];

    // Act
    const error = await failureOf(
      (async () => {
        for await (const chunk of resultStream(http, { ...CALL, operation: 'results' })) {
          chunks.push(chunk);
        }
      })(),
    );

    // Assess
    expect(chunks).toHaveLength(1);
    expect(error).toMatchObject({ operation: 'results', reason: 'network_error', retryable: true });
  });

  it('yields nothing for an empty results body', async () => {
    // Prepare
    const http = httpAnswering(async () => new Response(null, { status: 200 }));

    // Act
    const chunks: Uint8Array[] = [];
    for await (const chunk of resultStream(http, CALL)) chunks.push(chunk);

    // Assess
    expect(chunks).toEqual([]);
  });

  it('stops the producer of a streamed upload that is cancelled', async () => {
    // Prepare
    let finished = false;
    const stream = readableFrom(
      (async function* () {
        try {
          yield new Uint8Array([1]);
          yield new Uint8Array([2]);
        } finally {
          finished = true;
        }
      })(),
    );
    const reader = stream.getReader();

    // Act
    await reader.read();
    await reader.cancel();

    // Assess
    expect(finished).toBe(true);
  });
});

describe("a provider's failure codes", () => {
  it.each([
    ['rate_limit_error', 'rate_limited'],
    ['overloaded_error', 'rate_limited'],
    ['request_timeout', 'timeout'],
    ['invalid_request_error', 'invalid_request'],
    ['not_found_error', 'invalid_request'],
    ['api_error', 'provider_error'],
    [42, 'provider_error'],
  ])('maps the errored type %s to %s', (type, kind) => {
    // Act
    const outcome = erroredOutcome(type);

    // Assess
    expect(outcome).toMatchObject({ ok: false, kind });
    expect((outcome as { reason: string }).reason).toMatch(/^provider_batch_errored_[a-z0-9_]+$/);
  });

  it.each([
    [429, 'rate_limited'],
    [408, 'timeout'],
    [503, 'provider_error'],
    [400, 'invalid_request'],
  ])('maps a response line with status %s to %s', (status, kind) => {
    // Act + Assess
    expect(httpStatusOutcome(status)).toEqual({
      ok: false,
      kind,
      reason: `provider_batch_http_${status}`,
    });
  });

  it('sanitizes codes: lower case, [a-z0-9_], at most 48 characters, a fallback when empty', () => {
    // Act + Assess
    expect(codeOf('Invalid Request!', 'x')).toBe('invalid_request_');
    expect(codeOf('y'.repeat(60), 'x')).toHaveLength(48);
    expect(codeOf('', 'fallback')).toBe('fallback');
    expect(batchFailedReason(undefined)).toBe('provider_batch_failed_unknown');
  });
});

/** lab and open speak the Batch API (lab has a key secret, open none); plain does not; ghost is no endpoint. */
const ENDPOINT_POLICY: EndpointPolicy = {
  endpoints: {
    lab: 'https://lab.example/v1',
    open: 'http://open.example:8000/v1',
    plain: 'https://plain.example/v1',
  },
  allowLoopbackBaseUrls: false,
  batchEndpoints: ['lab', 'open', 'ghost'],
};

/** The deployment's keys: OpenAI's, a shared compatible key, and lab's own secret. */
const DEPLOYMENT_KEYS = createKeySource({
  env: {
    OPENAI_API_KEY: 'sk-openai',
    OPENAI_COMPATIBLE_API_KEY: 'sk-compatible-shared',
    JUDGE_ENDPOINT_SECRET_NAMES: 'lab=cj/lab-key',
  },
  readSecret: async (name) => (name === 'cj/lab-key' ? 'sk-lab' : undefined),
});

/** A fetch that records each call and answers with an in-progress OpenAI batch object. */
function recordingFetch() {
  const calls: Array<{ url: string; headers: Record<string, string> }> = [];
  const fetch: FetchLike = async (input, init) => {
    calls.push({ url: String(input), headers: { ...(init?.headers as Record<string, string>) } });
    return new Response(JSON.stringify({ id: 'batch_1', status: 'in_progress', created_at: 1 }), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { calls, fetch };
}

describe('choosing a provider batch API', () => {
  it.each([
    ['lab', 'https://lab.example/v1/batches/batch_1', 'Bearer sk-lab'],
    ['open', 'http://open.example:8000/v1/batches/batch_1', undefined],
  ])(
    'calls batch-capable endpoint %s through the OpenAI adapter at its base URL with its own key or none',
    async (endpoint, url, authorization) => {
      // Prepare
      const recorded = recordingFetch();

      // Act
      const api = await createProviderBatchApi(
        { provider: 'openai-compatible', model: 'llama-3.1-8b', endpoint, mode: 'provider_batch' },
        { keys: DEPLOYMENT_KEYS, endpointPolicy: ENDPOINT_POLICY, fetch: recorded.fetch },
      );
      const status = await api.retrieve('batch_1');

      // Assess
      expect(api.provider).toBe('openai');
      expect(status.phase).toBe('running');
      expect(recorded.calls.map((call) => call.url)).toEqual([url]);
      expect(recorded.calls[0]?.headers.authorization).toBe(authorization);
    },
  );

  it("asks a compatible endpoint as the synchronous compatible judge does (max_tokens, the batch's response format)", async () => {
    // Prepare
    const choice = {
      provider: 'openai-compatible' as const,
      model: 'llama-3.1-8b',
      endpoint: 'lab',
      mode: 'provider_batch' as const,
      max_tokens: 300,
    };
    const prompt = { system: 'judge', user: 'essays' };

    // Act
    const byDefault = await createProviderBatchApi(choice, {
      keys: DEPLOYMENT_KEYS,
      endpointPolicy: ENDPOINT_POLICY,
    });
    const withSchema = await createProviderBatchApi(
      { ...choice, response_format: 'json_schema' },
      { keys: DEPLOYMENT_KEYS, endpointPolicy: ENDPOINT_POLICY },
    );

    // Assess
    const body = (api: typeof byDefault) =>
      (JSON.parse(api.requestLine('000001-000000', prompt)) as { body: Record<string, unknown> })
        .body;
    expect(body(byDefault)).toMatchObject({
      model: 'llama-3.1-8b',
      max_tokens: 300,
      response_format: { type: 'json_object' },
    });
    expect(body(byDefault)).not.toHaveProperty('max_completion_tokens');
    expect(body(withSchema).response_format).toMatchObject({ type: 'json_schema' });
  });

  it('has none for the mock, a compatible server at a base_url or an endpoint not declared batch-capable', async () => {
    // Act
    const errors = [
      await failureOf(
        createProviderBatchApi(
          { provider: 'openai-compatible', model: 'm', endpoint: 'plain', mode: 'provider_batch' },
          { keys: fixedKeys(), endpointPolicy: ENDPOINT_POLICY },
        ),
      ),
      await failureOf(
        createProviderBatchApi(
          { provider: 'openai-compatible', model: 'm', endpoint: 'ghost', mode: 'provider_batch' },
          { keys: fixedKeys(), endpointPolicy: ENDPOINT_POLICY },
        ),
      ),
      await failureOf(
        createProviderBatchApi({ provider: 'mock', profile: 'default' }, { keys: fixedKeys() }),
      ),
      await failureOf(
        createProviderBatchApi(
          { provider: 'openai-compatible', model: 'm', base_url: 'http://127.0.0.1:9/v1' },
          { keys: fixedKeys() },
        ),
      ),
    ];

    // Assess
    for (const error of errors) expect(error).toBeInstanceOf(NoProviderBatchApiError);
  });

  it('lowers the provider limits to the configured ones, never raises them', async () => {
    // Act
    const openai = await createProviderBatchApi(
      { provider: 'openai', model: 'gpt-4o-mini', max_tokens: 300, temperature: 0.2 },
      { keys: fixedKeys() },
    );
    const anthropic = await createProviderBatchApi(
      { provider: 'anthropic', model: 'claude-haiku-4-5' },
      {
        keys: fixedKeys(),
        config: {
          PROVIDER_BATCH_MAX_REQUESTS: 10,
          PROVIDER_BATCH_MAX_BYTES: 10 ** 12,
          PROVIDER_BATCH_HTTP_TIMEOUT_MS: 1000,
          PROVIDER_BATCH_MAX_RESULT_LINE_BYTES: 1024,
          PROVIDER_RESPONSE_MAX_BYTES: 1024 * 1024,
          JUDGE_JUSTIFICATION_MAX_WORDS: 50,
          JUDGE_DEFAULT_MAX_TOKENS: 400,
        },
      },
    );

    // Assess
    expect(openai.limits).toEqual(OPENAI_BATCH_LIMITS);
    expect(anthropic.limits).toEqual({
      maxRequests: 10,
      maxBytes: ANTHROPIC_BATCH_LIMITS.maxBytes,
    });
  });
});
