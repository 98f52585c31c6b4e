/**
 * judge.mode provider_batch on a named OpenAI-compatible endpoint, on the local cloud: the
 * deployment names two endpoints (JUDGE_ENDPOINTS) and declares one of them to speak the OpenAI
 * Batch API (JUDGE_BATCH_ENDPOINTS). `cj submit --judge openai-compatible --judge-endpoint lab
 * --judge-mode provider-batch` (the cj bin, its own process) creates a batch whose waves the real
 * provider-batches function submits to a keyless fake of the OpenAI Batch API at that endpoint's
 * base URL — with no key, since the endpoint has no secret — and collects; the batch completes with
 * the right counters, and judge_usage reports the mode and every comparison unpriced (the price
 * table has no price for the endpoint's model). The same judge on the endpoint not declared
 * batch-capable, or at a raw base_url, is a 400 naming judge.mode, and nothing reaches the fake.
 * Runs its own local cloud (own moto_server): the deployment must name the endpoints.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeBatchServer, startFakeBatchServer } from '#bench/support/fake-batch-server.ts';
import { ApiClient, ApiError } from '#cli/api.ts';
import { isSuccess } from '#domain/types.ts';
import { type LocalCloud, runLocalCloud } from '#localstack/local-cloud/local-cloud.ts';
import {
  ensureSynth,
  localCloudPaths,
  templatePathFor,
} from '#localstack/local-cloud/supervisor.ts';
import { followBatch } from '#test/helpers/batch-runner.ts';
import { makeEssays } from '#test/helpers/essays.ts';

const CJ = fileURLToPath(new URL('../../cli/cj.mjs', import.meta.url));
/** A self-hosted model: the price table has no price for it. */
const MODEL = 'llama-3.1-8b-instruct';
const ESSAYS = 5;

/** Runs the `cj` bin as a user would, in its own process. */
function cj(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CJ, ...args],
      { env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout });
      },
    );
  });
}

describe('provider batches on a named OpenAI-compatible endpoint', () => {
  let cloud: LocalCloud;
  let fake: FakeBatchServer;
  const essaysFile = join(mkdtempSync(join(tmpdir(), 'cj-pbe-essays-')), 'essays.jsonl');

  beforeAll(async () => {
    const paths = localCloudPaths({ stateDir: mkdtempSync(join(tmpdir(), 'cj-pbe-cloud-')) });
    mkdirSync(paths.logDir, { recursive: true });
    const templatePath = templatePathFor(paths.root, process.env.CJ_STAGE ?? 'dev');
    ensureSynth(paths, templatePath);
    writeFileSync(
      essaysFile,
      `${makeEssays(ESSAYS, { seed: 5 })
        .map((essay) => JSON.stringify(essay))
        .join('\n')}\n`,
    );
    fake = await startFakeBatchServer({
      dialect: 'openai',
      keyless: true,
      behaviour: () => ({ completionDelayMs: 2000 }),
      // The fake judge prefers the essay with the higher number.
      respond: (request) => {
        const number = (label: 'a' | 'b') =>
          Number(
            /essay e(\d{3})/.exec(
              new RegExp(`<essay_${label}>([\\s\\S]*?)</essay_${label}>`).exec(
                request.promptText,
              )?.[1] ?? '',
            )?.[1],
          );
        return { kind: 'answer', winner: number('a') > number('b') ? 'A' : 'B', confidence: 4 };
      },
    });
    cloud = await runLocalCloud({
      templatePath,
      logDir: paths.logDir,
      functionEnv: {
        ALLOWED_PROVIDERS: 'mock,openai-compatible',
        // Keys the endpoint must never receive: it has no secret of its own.
        OPENAI_API_KEY: 'sk-must-not-leak',
        OPENAI_COMPATIBLE_API_KEY: 'sk-shared-must-not-leak',
        JUDGE_ENDPOINTS: JSON.stringify({
          lab: `${fake.origin}/v1`,
          chat: `${fake.origin}/v1`,
        }),
        JUDGE_BATCH_ENDPOINTS: JSON.stringify(['lab']),
      },
      scheduleIntervalSeconds: 2,
    });
  });

  afterAll(async () => {
    await cloud?.stop();
    await fake?.close();
  });

  it('cj submit --judge-mode provider-batch on a batch-capable endpoint completes through its batch API, keyless and unpriced', async () => {
    // Prepare
    const api = new ApiClient({ baseUrl: cloud.apiUrl });
    const shell = { CJ_API_URL: cloud.apiUrl, CJ_OUTPUTS_FILE: '', CJ_LOCAL_CLOUD_DIR: '' };

    // Act
    const submit = await cj(
      [
        'submit',
        essaysFile,
        '--judge',
        'openai-compatible',
        '--judge-model',
        MODEL,
        '--judge-endpoint',
        'lab',
        '--judge-mode',
        'provider-batch',
        '--set',
        'RESAMPLING_ENABLED=false',
        '--json',
      ],
      shell,
    );
    const batchId = (JSON.parse(submit.stdout) as { batch_id: string }).batch_id;
    const run = await followBatch(api, batchId, { pollMs: 500, timeoutMs: 240_000 });

    // Assess
    expect(submit.code).toBe(0);
    expect(isSuccess(run.final.status)).toBe(true);
    expect(run.final).toMatchObject({
      submitted_comparisons: 10,
      completed_comparisons: 10,
      failed_comparisons: 0,
    });
    const requests = fake.batches.flatMap((batch) => batch.requests);
    expect(requests).toHaveLength(10);
    expect(new Set(requests.map((request) => request.customId)).size).toBe(10);
    expect(requests.every((request) => request.body.model === MODEL)).toBe(true);
    expect(fake.calls.some((call) => call.method === 'POST' && call.path === '/v1/batches')).toBe(
      true,
    );
    expect(fake.calls.filter((call) => call.headers.authorization !== undefined)).toEqual([]);
    expect(run.final.processing_metadata?.judge_usage).toMatchObject({
      mode: 'provider_batch',
      comparisons: 10,
      cost_usd: null,
      unpriced_comparisons: 10,
    });
    const ranking = (await api.getResults(batchId)).essays
      .sort((x, y) => x.rank - y.rank)
      .map((row) => row.id);
    expect(ranking).toEqual(['e004', 'e003', 'e002', 'e001', 'e000']);
  });

  it.each([
    ['an endpoint not declared batch-capable', { endpoint: 'chat' }, 'does not declare "chat"'],
    ['a raw base_url', { base_url: 'http://127.0.0.1:9/v1' }, 'a base_url has none'],
  ])(
    'refuses provider_batch on %s with a 400 naming judge.mode',
    async (_name, target, message) => {
      // Prepare
      const api = new ApiClient({ baseUrl: cloud.apiUrl });
      const callsBefore = fake.calls.length;

      // Act
      const error = await api
        .createBatch({
          essays: makeEssays(ESSAYS, { seed: 6 }),
          judge: { provider: 'openai-compatible', model: MODEL, mode: 'provider_batch', ...target },
        })
        .then(
          () => undefined,
          (thrown: unknown) => thrown,
        );

      // Assess
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ status: 400, field: 'judge.mode' });
      expect((error as Error).message).toContain(message);
      expect(fake.calls.length).toBe(callsBefore);
    },
  );
});
