/**
 * A newcomer's path to a real judge, with no code: `cj local start` (every provider allowed by
 * default, keys taken from its shell), then `cj submit --judge openai-compatible --judge-base-url
 * http://127.0.0.1:PORT/v1`, `cj wait`, `cj results` — each through the `cj` bin as a separate
 * process, against a local OpenAI-compatible server (the repo's fake LLM server). The real bundled
 * handlers call it over HTTP: one provider call per completed comparison, the key from the shell of
 * `cj local start`, and the ranking the fake judge's rule implies. A base URL that is not
 * loopback (instance metadata, a private address) or carries a query or fragment is refused with
 * exit 3 and a 400 naming `judge.base_url`; the same server named as an endpoint (JUDGE_ENDPOINTS
 * in the shell) is reached with `--judge-endpoint` and without the shell's key. A local cloud
 * started with `--providers mock` refuses the same judge with a 400 naming `judge.provider`.
 *
 * Runs its own local cloud (own folder, own moto_server) so the start is the user's command.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE_INPUT_TOKENS,
  FAKE_OUTPUT_TOKENS,
  type FakeLlmServer,
  type RecordedRequest,
  startFakeLlmServer,
} from '#bench/support/fake-llm-server.ts';
import { makeEssays } from '#test/helpers/essays.ts';

const ESSAY_COUNT = 4;
const CJ = fileURLToPath(new URL('../../cli/cj.mjs', import.meta.url));
const LOCAL_KEY = 'local-server-key-123';

interface CjRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `cj` bin as a user would, in its own process. */
function cj(args: string[], env: NodeJS.ProcessEnv): Promise<CjRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CJ, ...args],
      { env: { ...process.env, ...env }, timeout: 240_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The fake judge prefers the essay with the higher id number (e003 beats e001). */
function higherIdWins(request: RecordedRequest) {
  const idIn = (label: 'a' | 'b') => {
    const text = new RegExp(`<essay_${label}>([\\s\\S]*?)</essay_${label}>`).exec(
      request.promptText,
    )?.[1];
    return Number(/essay e(\d{3})/.exec(text ?? '')?.[1] ?? Number.NaN);
  };
  const a = idIn('a');
  const b = idIn('b');
  if (Number.isNaN(a) || Number.isNaN(b)) return { kind: 'status', status: 400 } as const;
  return { kind: 'answer', winner: a > b ? 'A' : 'B', confidence: 4 } as const;
}

describe('a real judge from the CLI on the local cloud', () => {
  let server: FakeLlmServer;
  const cloudDir = mkdtempSync(join(tmpdir(), 'cj-llm-cloud-'));
  const mockOnlyDir = mkdtempSync(join(tmpdir(), 'cj-mock-cloud-'));
  const essaysFile = join(mkdtempSync(join(tmpdir(), 'cj-llm-essays-')), 'essays.jsonl');
  // The shell of `cj local start`: a key for the compatible server, and no other judge settings.
  const shell = {
    CJ_LOCAL_CLOUD_DIR: cloudDir,
    OPENAI_COMPATIBLE_API_KEY: LOCAL_KEY,
    OPENAI_API_KEY: '',
    ANTHROPIC_API_KEY: '',
    OPENAI_BASE_URL: '',
    ANTHROPIC_BASE_URL: '',
    CJ_API_URL: '',
    CJ_OUTPUTS_FILE: '',
  };
  /** `cj submit` of the essays file to an openai-compatible judge: the model, then the flags. */
  const submitArgs = (model: string, ...flags: string[]) => [
    'submit',
    essaysFile,
    '--judge',
    'openai-compatible',
    '--judge-model',
    model,
    ...flags,
  ];

  beforeAll(async () => {
    writeFileSync(
      essaysFile,
      `${makeEssays(ESSAY_COUNT, { seed: 11 })
        .map((essay) => JSON.stringify(essay))
        .join('\n')}\n`,
    );
    server = await startFakeLlmServer({ dialect: 'openai', respond: higherIdWins });
  });

  afterAll(async () => {
    await cj(['local', 'stop'], shell);
    await cj(['local', 'stop'], { ...shell, CJ_LOCAL_CLOUD_DIR: mockOnlyDir });
    await server?.close();
  });

  it('cj local start, cj submit --judge openai-compatible, cj wait, cj results: judged by the local server', async () => {
    // Prepare: the shell also names the fake server as an endpoint (used by a later test)
    const start = await cj(['local', 'start', '--schedule-interval-s', '2'], {
      ...shell,
      JUDGE_ENDPOINTS: JSON.stringify({ 'fake-server': `${server.origin}/v1` }),
    });
    const baseUrl = `${server.origin}/v1`;

    // Act
    const submit = await cj(
      submitArgs(
        'fake-local-model',
        '--judge-base-url',
        baseUrl,
        '--set',
        'RESAMPLING_ENABLED=false',
        '--json',
      ),
      shell,
    );
    const batchId = (JSON.parse(submit.stdout) as { batch_id: string }).batch_id;
    const wait = await cj(['wait', batchId, '--json', '--poll-ms', '250'], shell);
    const results = await cj(['results', batchId, '--format', 'csv'], shell);

    // Assess
    expect(start.code).toBe(0);
    expect(start.stdout).toContain(
      'judges    mock, openai, anthropic, openai-compatible (from this shell: OPENAI_COMPATIBLE_API_KEY, JUDGE_ENDPOINTS)',
    );
    expect(start.stdout).not.toContain(LOCAL_KEY);
    expect(submit.code).toBe(0);
    expect(wait.code).toBe(0);
    const final = JSON.parse(wait.stdout);
    expect(final.failed_comparisons).toBe(0);
    expect(final.completed_comparisons).toBe((ESSAY_COUNT * (ESSAY_COUNT - 1)) / 2);
    expect(server.requests).toHaveLength(final.completed_comparisons);
    for (const request of server.requests) {
      expect(request.path).toBe('/v1/chat/completions');
      expect(request.headers.authorization).toBe(`Bearer ${LOCAL_KEY}`);
      expect(request.body.model).toBe('fake-local-model');
      expect(request.promptText).toContain('## Essay A');
      expect(request.promptText).toContain('## Essay B');
    }
    expect(final.processing_metadata.judge_usage).toMatchObject({
      comparisons: final.completed_comparisons,
      input_tokens: final.completed_comparisons * FAKE_INPUT_TOKENS,
      output_tokens: final.completed_comparisons * FAKE_OUTPUT_TOKENS,
      cost_usd: null,
      unpriced_comparisons: final.completed_comparisons,
    });
    expect(results.code).toBe(0);
    const ranked = results.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',')[1]);
    expect(ranked).toEqual(['e003', 'e002', 'e001', 'e000']);
  });

  it.each([
    ['link-local (instance metadata)', 'http://169.254.169.254/v1', 'judge.base_url'],
    ['a private address', 'http://10.0.0.1/v1', 'judge.base_url'],
    ['a query', 'LOOPBACK?x=1', 'judge.base_url'],
    ['a fragment', 'LOOPBACK#x', 'judge.base_url'],
  ])(
    'cj submit --judge-base-url with %s (%s) exits 3 with a 400 naming %s',
    async (_name, url, field) => {
      // Prepare: the local cloud of the first test is still running
      const callsBefore = server.requests.length;
      const baseUrl = url.replace('LOOPBACK', `${server.origin}/v1`);

      // Act
      const submit = await cj(submitArgs('fake-local-model', '--judge-base-url', baseUrl), shell);

      // Assess
      expect(submit.code).toBe(3);
      expect(submit.stderr).toContain(`API error 400 (field ${field})`);
      expect(server.requests.length).toBe(callsBefore);
    },
  );

  it('cj submit --judge-endpoint NAME judges through the named endpoint, with its own key (none)', async () => {
    // Prepare: the first test's local cloud names the fake server `fake-server` (JUDGE_ENDPOINTS)
    const callsBefore = server.requests.length;

    // Act
    const unknown = await cj(submitArgs('m', '--judge-endpoint', 'elsewhere'), shell);
    const submit = await cj(
      submitArgs(
        'fake-local-model',
        '--judge-endpoint',
        'fake-server',
        '--set',
        'RESAMPLING_ENABLED=false',
        '--json',
      ),
      shell,
    );
    const batchId = (JSON.parse(submit.stdout) as { batch_id: string }).batch_id;
    const wait = await cj(['wait', batchId, '--json', '--poll-ms', '250'], shell);

    // Assess
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('API error 400 (field judge.endpoint)');
    expect(submit.code).toBe(0);
    expect(wait.code).toBe(0);
    const final = JSON.parse(wait.stdout);
    expect(final.completed_comparisons).toBe((ESSAY_COUNT * (ESSAY_COUNT - 1)) / 2);
    const calls = server.requests.slice(callsBefore);
    expect(calls).toHaveLength(final.completed_comparisons);
    for (const request of calls) {
      expect(request.path).toBe('/v1/chat/completions');
      // The endpoint has no secret: the shell's OPENAI_COMPATIBLE_API_KEY is never sent to it.
      expect(request.headers.authorization).toBeUndefined();
    }
  });

  it('cj local start --providers mock refuses an openai-compatible judge with a 400 naming the field', async () => {
    // Prepare
    const mockOnly = { ...shell, CJ_LOCAL_CLOUD_DIR: mockOnlyDir };
    const start = await cj(['local', 'start', '--providers', 'mock'], mockOnly);
    const callsBefore = server.requests.length;

    // Act
    const submit = await cj(
      submitArgs('fake-local-model', '--judge-base-url', `${server.origin}/v1`),
      mockOnly,
    );

    // Assess
    expect(start.code).toBe(0);
    expect(start.stdout).toContain('judges    mock\n');
    expect(submit.code).toBe(3);
    expect(submit.stderr).toContain('API error 400 (field judge.provider)');
    expect(server.requests.length).toBe(callsBefore);
  });
});
