/**
 * The provider batch adapters (OpenAI Batch API, Anthropic Message Batches) over real HTTP against
 * local fakes of each API: requests are the synchronous prompt and answer contract with custom_id =
 * comparison id, a created batch is polled to its end, results are streamed and mapped (verdicts,
 * expired, canceled, errored, HTTP errors, unreadable lines), a lost create is found again, cancel
 * and cleanup reach the provider, and no key leaves for another origin.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeBatchBehaviour,
  type FakeBatchServer,
  type FakeBatchServerOptions,
  startFakeBatchServer,
} from '#bench/support/fake-batch-server.ts';
import { FAKE_INPUT_TOKENS, startFakeLlmServer } from '#bench/support/fake-llm-server.ts';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { ProviderBatchCallError } from '#shared/judges/batch/http.ts';
import type { ProviderBatchApi, ProviderResultLine } from '#shared/judges/batch/port.ts';
import { createProviderBatchApi } from '#shared/judges/batch/registry.ts';
import { buildPrompt } from '#shared/judges/prompt.ts';
import { createJudgeProvider } from '#shared/judges/registry.ts';
import {
  ESSAY_A_TEXT,
  ESSAY_B_TEXT,
  fixedKeys,
  judgeRequest,
  llmOptions,
  TEST_API_KEY,
} from '#test/helpers/judge-factories.ts';

type Provider = 'openai' | 'anthropic';
const PROVIDERS: Provider[] = ['openai', 'anthropic'];
const MODEL: Record<Provider, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-sonnet-4-20250514',
};

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.map((close) => close()));
  closers = [];
});

async function serve(
  provider: Provider,
  options: Omit<FakeBatchServerOptions, 'dialect'> = {},
): Promise<FakeBatchServer> {
  const server = await startFakeBatchServer({ dialect: provider, ...options });
  closers.push(() => server.close());
  return server;
}

function apiFor(provider: Provider, server: FakeBatchServer): Promise<ProviderBatchApi> {
  return createProviderBatchApi(
    { provider, model: MODEL[provider], max_tokens: 300 },
    {
      keys: fixedKeys(),
      config: { ...DEFAULT_CONFIG, PROVIDER_BATCH_HTTP_TIMEOUT_MS: 2000 },
      openAiBaseUrl: `${server.origin}/v1`,
      anthropicBaseUrl: server.origin,
    },
  );
}

const PROMPT = buildPrompt({
  essayA: ESSAY_A_TEXT,
  essayB: ESSAY_B_TEXT,
  justificationMaxWords: DEFAULT_CONFIG.JUDGE_JUSTIFICATION_MAX_WORDS,
});

async function* linesFor(api: ProviderBatchApi, ids: readonly string[]): AsyncGenerator<string> {
  for (const id of ids) yield api.requestLine(id, PROMPT);
}

async function collect(api: ProviderBatchApi, id: string): Promise<ProviderResultLine[]> {
  const status = await api.retrieve(id);
  const lines: ProviderResultLine[] = [];
  for await (const line of api.results(status)) lines.push(line);
  return lines;
}

const IDS = ['000001-000000', '000001-000001', '000001-000002', '000001-000003'];

async function createWith(
  provider: Provider,
  behaviour: FakeBatchBehaviour,
  extra: Omit<FakeBatchServerOptions, 'dialect' | 'behaviour'> = {},
) {
  const server = await serve(provider, { behaviour: () => behaviour, ...extra });
  const api = await apiFor(provider, server);
  const created = await api.create({ submissionKey: 'b1-000001-00', lines: linesFor(api, IDS) });
  return { server, api, created };
}

describe.each(PROVIDERS)('%s provider batch adapter', (provider) => {
  it('asks exactly what the synchronous adapter asks, with custom_id = comparison id', async () => {
    // Prepare: the synchronous adapter's request body for the same essays
    const sync = await startFakeLlmServer({ dialect: provider });
    closers.push(() => sync.close());
    const judge = createJudgeProvider(
      { provider, model: MODEL[provider], max_tokens: 300 },
      llmOptions(sync),
    );
    await judge.judge(judgeRequest());
    const server = await serve(provider);
    const api = await apiFor(provider, server);

    // Act
    const line = JSON.parse(api.requestLine('000003-000042', PROMPT)) as Record<string, unknown>;

    // Assess
    expect(line.custom_id).toBe('000003-000042');
    const body = provider === 'openai' ? line.body : line.params;
    expect(body).toEqual(sync.requests[0]?.body);
    if (provider === 'openai') {
      expect(line).toMatchObject({ method: 'POST', url: '/v1/chat/completions' });
    }
  });

  it('creates one provider batch and reads a verdict per request once it has ended', async () => {
    // Prepare + Act: the first poll finds it running (by poll count, not by time: no race)
    const { server, api, created } = await createWith(provider, { runningPolls: 1 });
    const early = await api.retrieve(created.id);
    const lines = await collect(api, created.id);

    // Assess
    expect(server.creates()).toBe(1);
    expect(server.batches[0]?.requests.map((request) => request.customId)).toEqual(IDS);
    expect(server.batches[0]?.requests[0]?.promptText).toContain(ESSAY_A_TEXT);
    expect(early.phase).toBe('running');
    expect(lines.map((line) => line.customId).sort()).toEqual(IDS);
    for (const line of lines) {
      expect(line).toMatchObject({
        outcome: {
          ok: true,
          answer: { winner: 'A', confidence: 4 },
          tokens: { input_tokens: FAKE_INPUT_TOKENS },
        },
      });
    }
    const auth = server.calls[0]?.headers;
    if (provider === 'openai') {
      expect(auth?.authorization).toBe(`Bearer ${TEST_API_KEY}`);
      expect(server.batches[0]?.metadata).toEqual({ cj_submission: 'b1-000001-00' });
    } else {
      expect(auth?.['x-api-key']).toBe(TEST_API_KEY);
    }
  });

  it('maps expired, errored, refused and malformed requests to failures with the provider reason', async () => {
    // Prepare
    const faults = new Map([
      [IDS[1], { kind: 'errored', type: 'rate_limit_error' } as const],
      [IDS[2], { kind: 'missing' } as const],
    ]);
    const { api, created } = await createWith(
      provider,
      { expire: { finished: 3 }, fault: (id) => faults.get(id) },
      {
        respond: (request) =>
          request.promptText.includes('Essay A')
            ? { kind: 'answer', winner: 'C' }
            : { kind: 'answer', winner: 'A' },
      },
    );

    // Act
    const lines = await collect(api, created.id);

    // Assess: 0 answered with a bad label, 1 errored, 2 missing, 3 expired
    const byId = new Map(lines.map((line) => [line.customId, line]));
    expect(byId.get(IDS[0] as string)).toMatchObject({
      outcome: { ok: false, kind: 'malformed_answer', reason: 'invalid_winner' },
    });
    expect(byId.get(IDS[1] as string)).toMatchObject({
      outcome: {
        ok: false,
        kind: 'rate_limited',
        reason: 'provider_batch_errored_rate_limit_error',
      },
    });
    expect(byId.has(IDS[2] as string)).toBe(false);
    expect(byId.get(IDS[3] as string)).toMatchObject({
      outcome: { ok: false, kind: 'timeout', reason: 'provider_batch_expired' },
    });
  });

  it('cancels: the batch passes through cancelling and its requests end canceled', async () => {
    // Prepare
    const { api, created } = await createWith(provider, { completionDelayMs: 60_000 });

    // Act
    const cancelling = await api.cancel(created.id);
    const first = await api.retrieve(created.id);
    const ended = await api.retrieve(created.id);
    const lines = await collect(api, created.id);

    // Assess
    expect([cancelling.phase, first.phase]).toContain('cancelling');
    expect(ended.phase).toBe('ended');
    expect(lines).toHaveLength(IDS.length);
    for (const line of lines) {
      expect(line).toMatchObject({
        outcome: { ok: false, kind: 'provider_error', reason: 'provider_batch_canceled' },
      });
    }
  });

  it('finds the batch a lost create made, and nothing older than the window', async () => {
    // Prepare: an older batch, then a create whose answer is lost on the way back
    const server = await serve(provider);
    const api = await apiFor(provider, server);
    await api.create({ submissionKey: 'other-key', lines: linesFor(api, IDS) });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const from = Date.now() - 100;
    const lost = await startFakeBatchServer({ dialect: provider, dropCreateResponses: [1] });
    closers.push(() => lost.close());
    const lostApi = await apiFor(provider, lost);
    await lostApi.create({ submissionKey: 'other-key', lines: linesFor(lostApi, IDS) });
    const failed = await lostApi
      .create({ submissionKey: 'wave-key', lines: linesFor(lostApi, IDS) })
      .catch((error: unknown) => error);

    // Act
    const candidates = await lostApi.find({
      submissionKey: 'wave-key',
      createdFromMs: from,
      createdToMs: Date.now() + 1000,
    });
    const oldOnes = await api.find({
      submissionKey: 'wave-key',
      createdFromMs: from,
      createdToMs: Date.now() + 1000,
    });

    // Assess
    expect(failed).toBeInstanceOf(ProviderBatchCallError);
    expect(lost.creates()).toBe(2);
    expect(oldOnes).toEqual([]);
    if (provider === 'openai') {
      // Exact: the metadata names the submission.
      expect(candidates.map((candidate) => candidate.id)).toEqual([lost.batches[1]?.id]);
    } else {
      // Only the window: both batches of the window are candidates for the caller to sort out.
      expect(candidates.map((candidate) => candidate.id).sort()).toEqual(
        [lost.batches[0]?.id, lost.batches[1]?.id].sort(),
      );
    }
  });

  it('reports a failed create as retryable (5xx) or not (4xx), with a code and no body', async () => {
    // Prepare
    const server = await serve(provider, { createFailures: [503, 400] });
    const api = await apiFor(provider, server);

    // Act
    const transient = await api
      .create({ submissionKey: 'k', lines: linesFor(api, IDS) })
      .catch((error: unknown) => error);
    const permanent = await api
      .create({ submissionKey: 'k', lines: linesFor(api, IDS) })
      .catch((error: unknown) => error);

    // Assess
    expect(transient).toMatchObject({ status: 503, reason: 'http_503', retryable: true });
    expect(permanent).toMatchObject({ status: 400, reason: 'http_400', retryable: false });
    expect(String((permanent as Error).message)).not.toContain('fake');
  });

  it('skips filler lines it cannot map and marks unreadable ones', async () => {
    // Prepare
    const { api, created } = await createWith(provider, {
      filler: { lines: 3, bytesPerLine: 200 },
    });

    // Act
    const lines = await collect(api, created.id);

    // Assess: filler lines have custom ids that are not comparisons; the caller ignores them
    expect(lines.filter((line) => line.customId?.startsWith('filler-'))).toHaveLength(3);
    expect(lines.filter((line) => IDS.includes(line.customId ?? ''))).toHaveLength(IDS.length);
  });

  it('fails a results download that stalls as call_timeout instead of hanging', async () => {
    // Prepare: two result lines, then silence (the adapter's call timeout is 2 s)
    const { api, created } = await createWith(provider, { stallAfterLines: 2 });
    const started = Date.now();

    // Act
    const lines: ProviderResultLine[] = [];
    const error = await (async () => {
      const status = await api.retrieve(created.id);
      for await (const line of api.results(status)) lines.push(line);
    })().catch((caught: unknown) => caught);

    // Assess
    expect(lines).toHaveLength(2);
    expect(error).toMatchObject({ reason: 'call_timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('cleans up what the batch left at the provider once collected', async () => {
    // Prepare
    const { server, api, created } = await createWith(provider, {});
    const ended = await api.retrieve(created.id);

    // Act
    await api.cleanup(ended);

    // Assess
    const deletes = server.calls.filter((call) => call.method === 'DELETE').map((c) => c.path);
    if (provider === 'openai') {
      expect(deletes).toContain(`/v1/files/${server.batches[0]?.inputFileId}`);
      expect(deletes).toContain(`/v1/files/file-out-${created.id}`);
    } else {
      expect(deletes).toEqual([`/v1/messages/batches/${created.id}`]);
    }
  });
});

describe('OpenAI specifics', () => {
  it('fails every request of a refused batch with the reason the provider gave', async () => {
    // Prepare
    const { api, created } = await createWith('openai', { refuse: true });

    // Act
    const status = await api.retrieve(created.id);

    // Assess
    expect(status).toMatchObject({
      phase: 'ended',
      providerStatus: 'failed',
      failure: { kind: 'invalid_request', reason: 'provider_batch_failed_invalid_request' },
      resultSources: [],
    });
  });

  it('maps an answered-with-error line to its HTTP status', async () => {
    // Prepare
    const { api, created } = await createWith('openai', {
      fault: (id) => (id === IDS[0] ? { kind: 'status', status: 400 } : undefined),
    });

    // Act
    const lines = await collect(api, created.id);

    // Assess
    expect(lines.find((line) => line.customId === IDS[0])).toMatchObject({
      outcome: { ok: false, kind: 'invalid_request', reason: 'provider_batch_http_400' },
    });
  });
});

describe('Anthropic specifics', () => {
  it('never sends the key to a results_url on another origin', async () => {
    // Prepare
    const { server, api, created } = await createWith('anthropic', {});
    const ended = await api.retrieve(created.id);
    const elsewhere = {
      ...ended,
      resultSources: ['https://attacker.example/v1/messages/batches/x/results'],
    };
    const callsBefore = server.calls.length;

    // Act
    const error = await (async () => {
      for await (const _line of api.results(elsewhere)) {
        // nothing
      }
    })().catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ reason: 'results_url_foreign_origin', retryable: false });
    expect(server.calls.length).toBe(callsBefore);
  });
});
