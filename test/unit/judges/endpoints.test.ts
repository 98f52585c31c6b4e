/**
 * Named provider endpoints and the base URL policy (docs/security.md): a deployed stack takes an
 * OpenAI-compatible server only by the name the deployment gave it, with that endpoint's own key;
 * a raw base_url is refused with a 400 naming judge.base_url, and on the local cloud it is
 * accepted only to a loopback address. The judge checks the same policy again before any call.
 * judge.mode provider_batch is taken only on a named endpoint the deployment declares to speak the
 * OpenAI Batch API (400 naming judge.mode otherwise), and is then judged like OpenAI's batches.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeLlmServer, startFakeLlmServer } from '#bench/support/fake-llm-server.ts';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { callbackSchema } from '#messages/queue.ts';
import {
  DEPLOYED_POLICY,
  type EndpointPolicy,
  EndpointRefusedError,
  isLoopbackUrl,
} from '#shared/judges/endpoints.ts';
import { createJudgeProvider } from '#shared/judges/registry.ts';
import { createKeySource, type KeySource } from '#shared/judges/secrets.ts';
import { errorResponse } from '#shared/runtime/http.ts';
import { createBatch } from '#shared/workflow/api.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import { processComparisonRequest } from '#shared/workflow/judge.ts';
import { providerBatchOf, waveDeadline } from '#shared/workflow/judge-mode.ts';
import { pacedCall } from '#shared/workflow/judge-pacing.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import { judgeRequest, LOCAL_CLOUD_POLICY } from '#test/helpers/judge-factories.ts';
import { createPipeline, deliverOne, testEssays } from '#test/helpers/pipeline.ts';

const MODEL = 'local-model';

let servers: FakeLlmServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function answeringServer(): Promise<FakeLlmServer> {
  const server = await startFakeLlmServer({
    dialect: 'openai',
    script: [{ kind: 'answer', winner: 'A' }],
  });
  servers.push(server);
  return server;
}

/** Keys by endpoint: a key must reach only its own endpoint. */
const KEYS_BY_ENDPOINT: KeySource = {
  apiKey: async (provider, endpoint) =>
    endpoint === undefined ? `${provider}-shared-key` : `${endpoint}-own-key`,
};

async function refusal(created: Promise<unknown>): Promise<{ status: number; field?: string }> {
  const error = await created.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  const response = errorResponse(error);
  const body = JSON.parse(String(response.body)) as { field?: string; message?: string };
  return { status: response.statusCode ?? 0, ...(body.field ? { field: body.field } : {}) };
}

function compatible(extra: Record<string, unknown>) {
  return { provider: 'openai-compatible', model: MODEL, ...extra };
}

describe('isLoopbackUrl', () => {
  it.each([
    'http://127.0.0.1:8000/v1',
    'http://127.1.2.3/v1',
    'http://127.1/v1',
    'http://localhost:11434/v1',
    'http://LOCALHOST/v1',
    'http://[::1]:8080/v1',
    'https://127.0.0.1/v1',
  ])('accepts %s', (url) => {
    expect(isLoopbackUrl(url)).toBe(true);
  });

  it.each([
    'http://169.254.169.254/v1',
    'http://10.0.0.1/v1',
    'http://172.16.0.1/v1',
    'http://192.168.1.10/v1',
    'http://0.0.0.0:8000/v1',
    'http://[::ffff:127.0.0.1]/v1',
    'http://[fe80::1]/v1',
    'http://localhost.evil.example/v1',
    'http://127.0.0.1.nip.io/v1',
    'https://api.example.org/v1',
    'not a url',
  ])('refuses %s', (url) => {
    expect(isLoopbackUrl(url)).toBe(false);
  });
});

describe('creating a batch on a deployed stack', () => {
  const deployed: EndpointPolicy = {
    endpoints: { lab: 'https://llm.lab.example/v1' },
    allowLoopbackBaseUrls: false,
  };

  it.each([
    ['a loopback base_url', 'http://127.0.0.1:8000/v1'],
    ['a public base_url', 'https://api.example.org/v1'],
  ])('refuses %s with a 400 naming judge.base_url', async (_name, baseUrl) => {
    // Prepare
    const p = createPipeline({ allowedProviders: ['openai-compatible'], endpointPolicy: deployed });

    // Act
    const outcome = await refusal(
      createBatch(
        p.deps,
        { essays: testEssays(2), judge: compatible({ base_url: baseUrl }) },
        TEST_CALLER,
      ),
    );

    // Assess
    expect(outcome).toEqual({ status: 400, field: 'judge.base_url' });
    expect(p.sent.continuation).toHaveLength(0);
  });

  it('refuses a base_url when no policy is given at all (the secure default)', async () => {
    // Prepare
    const p = createPipeline({ allowedProviders: ['openai-compatible'] });

    // Act
    const outcome = await refusal(
      createBatch(
        p.deps,
        {
          essays: testEssays(2),
          judge: compatible({ base_url: 'http://127.0.0.1:8000/v1' }),
        },
        TEST_CALLER,
      ),
    );

    // Assess
    expect(outcome).toEqual({ status: 400, field: 'judge.base_url' });
  });

  it('refuses an endpoint the deployment does not name, naming judge.endpoint', async () => {
    // Prepare
    const p = createPipeline({ allowedProviders: ['openai-compatible'], endpointPolicy: deployed });

    // Act
    const error = await createBatch(
      p.deps,
      {
        essays: testEssays(2),
        judge: compatible({ endpoint: 'elsewhere' }),
      },
      TEST_CALLER,
    ).catch((thrown: unknown) => thrown);

    // Assess
    const response = errorResponse(error);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(String(response.body))).toMatchObject({
      field: 'judge.endpoint',
      message: expect.stringContaining('configured: lab'),
    });
  });

  it('stores a named endpoint by its name, never its URL', async () => {
    // Prepare
    const p = createPipeline({ allowedProviders: ['openai-compatible'], endpointPolicy: deployed });

    // Act
    const created = await createBatch(
      p.deps,
      {
        essays: testEssays(2),
        judge: compatible({ endpoint: 'lab' }),
      },
      TEST_CALLER,
    );

    // Assess
    expect(created.status).toBe(201);
    expect(p.sent.continuation).toHaveLength(1);
    const stored = JSON.stringify([...p.table.items.values()]);
    expect(stored).toContain('"endpoint":"lab"');
    expect(stored).not.toContain('llm.lab.example');
  });
});

describe('provider batches on a named endpoint', () => {
  const deployed: EndpointPolicy = {
    endpoints: { lab: 'https://llm.lab.example/v1', chat: 'https://chat.example/v1' },
    allowLoopbackBaseUrls: false,
    batchEndpoints: ['lab'],
  };

  it('accepts judge.mode provider_batch on an endpoint the deployment declares batch-capable', async () => {
    // Prepare
    const p = createPipeline({ allowedProviders: ['openai-compatible'], endpointPolicy: deployed });

    // Act
    const created = await createBatch(
      p.deps,
      { essays: testEssays(2), judge: compatible({ endpoint: 'lab', mode: 'provider_batch' }) },
      TEST_CALLER,
    );

    // Assess
    expect(created.status).toBe(201);
    expect(JSON.stringify([...p.table.items.values()])).toContain('"mode":"provider_batch"');
  });

  it.each([
    [
      'an endpoint not declared batch-capable',
      deployed,
      { endpoint: 'chat' },
      'judge.mode',
      'declared: lab',
    ],
    [
      'an endpoint when none is declared batch-capable',
      { ...deployed, batchEndpoints: undefined },
      { endpoint: 'lab' },
      'judge.mode',
      'none declared',
    ],
    [
      'a batch-capable name that is no endpoint',
      { ...deployed, batchEndpoints: ['lab', 'ghost'] },
      { endpoint: 'ghost' },
      'judge.endpoint',
      'configured: lab, chat',
    ],
    [
      'a loopback base_url, even on the local cloud',
      { ...LOCAL_CLOUD_POLICY, batchEndpoints: ['lab'] },
      { base_url: 'http://127.0.0.1:8000/v1' },
      'judge.mode',
      'a base_url has none',
    ],
  ])(
    'refuses provider_batch on %s with a 400 naming the field',
    async (_name, policy, target, field, message) => {
      // Prepare
      const p = createPipeline({ allowedProviders: ['openai-compatible'], endpointPolicy: policy });

      // Act
      const error = await createBatch(
        p.deps,
        { essays: testEssays(2), judge: compatible({ ...target, mode: 'provider_batch' }) },
        TEST_CALLER,
      ).catch((thrown: unknown) => thrown);

      // Assess
      const response = errorResponse(error);
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(String(response.body))).toMatchObject({
        field,
        message: expect.stringContaining(message),
      });
      expect(p.sent.continuation).toHaveLength(0);
      expect(p.table.items.size).toBe(0);
    },
  );

  it("judges a batch-capable endpoint's waves in provider batches under its own name, with OpenAI's window", () => {
    // Prepare
    const now = new Date('2026-12-02T12:00:00Z');
    const onLab = { provider: 'openai-compatible', model: MODEL, endpoint: 'lab' } as const;

    // Act
    const batched = providerBatchOf({ ...onLab, mode: 'provider_batch' });
    const sync = providerBatchOf(onLab);
    const deadline = waveDeadline({ ...onLab, mode: 'provider_batch' }, DEFAULT_CONFIG, now);

    // Assess
    expect(batched).toBe('openai-compatible:lab');
    expect(sync).toBeNull();
    expect(deadline.getTime() - now.getTime()).toBe(
      (24 * 3600 + DEFAULT_CONFIG.PROVIDER_BATCH_DEADLINE_MARGIN_SECONDS) * 1000,
    );
  });
});

describe('creating a batch on the local cloud', () => {
  it.each([
    'http://169.254.169.254/v1',
    'http://10.0.0.1/v1',
    'http://172.16.0.1/v1',
    'http://192.168.0.1/v1',
    'http://127.0.0.1:8000/v1?api-version=1',
    'http://127.0.0.1:8000/v1#x',
    'http://user:pass@127.0.0.1:8000/v1',
    'ftp://127.0.0.1/v1',
    'file:///etc/passwd',
  ])('refuses %s with a 400 naming judge.base_url', async (baseUrl) => {
    // Prepare
    const p = createPipeline({
      allowedProviders: ['openai-compatible'],
      endpointPolicy: LOCAL_CLOUD_POLICY,
    });

    // Act
    const outcome = await refusal(
      createBatch(
        p.deps,
        { essays: testEssays(2), judge: compatible({ base_url: baseUrl }) },
        TEST_CALLER,
      ),
    );

    // Assess
    expect(outcome).toEqual({ status: 400, field: 'judge.base_url' });
  });

  it.each(['http://127.0.0.1:8000/v1', 'http://localhost:11434/v1', 'http://[::1]:8080/v1'])(
    'accepts the loopback base_url %s',
    async (baseUrl) => {
      // Prepare
      const p = createPipeline({
        allowedProviders: ['openai-compatible'],
        endpointPolicy: LOCAL_CLOUD_POLICY,
      });

      // Act
      const created = await createBatch(
        p.deps,
        {
          essays: testEssays(2),
          judge: compatible({ base_url: baseUrl }),
        },
        TEST_CALLER,
      );

      // Assess
      expect(created.status).toBe(201);
    },
  );
});

describe('the judge and a named endpoint', () => {
  it("calls the endpoint's URL with the endpoint's own key, paced under its name", async () => {
    // Prepare
    const server = await answeringServer();
    const policy = { endpoints: { lab: `${server.origin}/v1` }, allowLoopbackBaseUrls: false };
    const p = createPipeline({ allowedProviders: ['openai-compatible'], endpointPolicy: policy });
    p.deps.providerFor = (choice) =>
      createJudgeProvider(choice, {
        maxMockLatencyMs: 0,
        llm: { keys: KEYS_BY_ENDPOINT, endpointPolicy: policy },
      });
    await createBatch(
      p.deps,
      {
        essays: testEssays(2),
        judge: compatible({ endpoint: 'lab' }),
        config: { RESAMPLING_ENABLED: false },
      },
      TEST_CALLER,
    );
    await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
    const [message] = p.queues.comparison.splice(0);

    // Act
    const outcome = await processComparisonRequest(p.deps, message!.body, 1);

    // Assess
    expect(outcome).toBe('verdict');
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({
      path: '/v1/chat/completions',
      headers: { authorization: 'Bearer lab-own-key' },
    });
    const paced = pacedCall(DEFAULT_CONFIG, 'b', compatible({ endpoint: 'lab' }) as never, 100);
    expect(paced.key).toBe('lab');
  });

  it('refuses a stored base_url the deployment does not allow, before any call', async () => {
    // Prepare: a batch stored with a raw base URL (e.g. before the policy existed)
    const server = await answeringServer();
    const p = createPipeline({
      allowedProviders: ['openai-compatible'],
      endpointPolicy: LOCAL_CLOUD_POLICY,
    });
    await createBatch(
      p.deps,
      {
        essays: testEssays(2),
        judge: compatible({ base_url: `${server.origin}/v1` }),
        config: { RESAMPLING_ENABLED: false },
      },
      TEST_CALLER,
    );
    await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
    const [message] = p.queues.comparison.splice(0);
    p.deps.providerFor = (choice) =>
      createJudgeProvider(choice, {
        maxMockLatencyMs: 0,
        llm: { keys: KEYS_BY_ENDPOINT, endpointPolicy: DEPLOYED_POLICY },
      });

    // Act
    await processComparisonRequest(p.deps, message!.body, 1);

    // Assess
    expect(server.requests).toHaveLength(0);
    expect(callbackSchema.parse(p.sent.callback[0])).toMatchObject({
      outcome: 'failure',
      failure_kind: 'invalid_request',
      reason: 'invalid_judge_settings',
    });
  });

  it('throws EndpointRefusedError for an unknown endpoint', () => {
    // Act
    const build = () =>
      createJudgeProvider(
        { provider: 'openai-compatible', model: MODEL, endpoint: 'gone' },
        { maxMockLatencyMs: 0, llm: { endpointPolicy: DEPLOYED_POLICY } },
      );

    // Assess
    expect(build).toThrow(EndpointRefusedError);
    expect(build).toThrow('judge.endpoint');
  });

  it('a provider without endpoints still judges with its own key', async () => {
    // Prepare
    const server = await answeringServer();
    const judge = createJudgeProvider(compatible({ base_url: `${server.origin}/v1` }) as never, {
      maxMockLatencyMs: 0,
      llm: { keys: KEYS_BY_ENDPOINT, endpointPolicy: LOCAL_CLOUD_POLICY },
    });

    // Act
    const result = await judge.judge(judgeRequest());

    // Assess
    expect(result.outcome).toBe('verdict');
    expect(server.requests[0]?.headers.authorization).toBe('Bearer openai-compatible-shared-key');
  });
});

describe("a named endpoint's key", () => {
  it('comes from its own secret, or is none: never the shared compatible key', async () => {
    // Prepare
    const reads: string[] = [];
    const keys = createKeySource({
      env: {
        JUDGE_ENDPOINT_SECRET_NAMES: 'lab=cj/lab-key',
        OPENAI_COMPATIBLE_API_KEY: 'shared-local-key',
      },
      readSecret: async (name) => {
        reads.push(name);
        return name === 'cj/lab-key' ? '{"api_key":"lab-secret"}' : undefined;
      },
    });

    // Act
    const lab = await keys.apiKey('openai-compatible', 'lab');
    const spare = await keys.apiKey('openai-compatible', 'spare');
    const raw = await keys.apiKey('openai-compatible');
    await keys.apiKey('openai-compatible', 'lab');

    // Assess
    expect([lab, spare, raw]).toEqual(['lab-secret', undefined, 'shared-local-key']);
    expect(reads).toEqual(['cj/lab-key']);
  });
});
