import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '#cli/main.ts';
import { captureIo } from '#test/helpers/cli-io.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { type FakeApi, startFakeApi } from '#test/helpers/fake-api.ts';

function writeJsonl(count: number): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cj-cli-'));
  const file = join(dir, 'essays.jsonl');
  writeFileSync(
    file,
    `${makeEssays(count)
      .map((e) => JSON.stringify(e))
      .join('\n')}\n`,
  );
  return { dir, file };
}

describe('cj against a fake HTTP API', () => {
  let api: FakeApi;

  beforeEach(async () => {
    api = await startFakeApi();
  });

  afterEach(async () => {
    await api.close();
  });

  it('submit --json sends essays, budget, judge and config and prints the batch id', async () => {
    // Prepare
    const { file } = writeJsonl(5);
    const io = captureIo({ CJ_API_URL: api.url });

    // Act
    const code = await main(
      [
        'submit',
        file,
        '--json',
        '--budget',
        '40',
        '--mock-profile',
        'eng5_lower5_gpt51_low',
        '--mock-failure-rate',
        '0.25',
        '--mock-duplicate-callbacks',
        '1',
        '--mock-drop-rate',
        '0.1',
        '--mock-seed',
        '42',
        '--set',
        'MIN_RESAMPLING_NET_SIZE=5',
        '--set',
        'RESAMPLING_ENABLED=false',
      ],
      io,
    );

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(io.out())).toEqual({ batch_id: 'batch-1' });
    expect(api.requests).toHaveLength(1);
    const body = api.requests[0]?.body as Record<string, unknown>;
    expect((body.essays as unknown[]).length).toBe(5);
    expect(body.budget).toBe(40);
    expect(body.judge).toStrictEqual({
      provider: 'mock',
      profile: 'eng5_lower5_gpt51_low',
      failure_rate: 0.25,
      duplicate_callbacks: 1,
      drop_rate: 0.1,
      seed: 42,
    });
    expect(body.config).toEqual({ MIN_RESAMPLING_NET_SIZE: 5, RESAMPLING_ENABLED: false });
  });

  it('submit --grade-scale sends the scale; anchor_grade comes from the JSONL lines', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'cj-cli-'));
    const file = join(dir, 'anchored.jsonl');
    const lines = makeEssays(3).map((e, i) =>
      i < 2 ? { ...e, anchor_grade: i === 0 ? 'A' : 'C' } : e,
    );
    writeFileSync(file, `${lines.map((e) => JSON.stringify(e)).join('\n')}\n`);
    const io = captureIo({ CJ_API_URL: api.url });

    // Act
    const code = await main(['submit', file, '--grade-scale', 'C, B ,A', '--json'], io);
    const empty = await main(
      ['submit', file, '--grade-scale', 'C,,A'],
      captureIo({ CJ_API_URL: api.url }),
    );

    // Assess
    expect(code).toBe(0);
    const body = api.requests[0]?.body as {
      grade_scale: string[];
      essays: Array<{ anchor_grade?: string }>;
    };
    expect(body.grade_scale).toEqual(['C', 'B', 'A']);
    expect(body.essays.map((e) => e.anchor_grade)).toEqual(['A', 'C', undefined]);
    expect(empty).toBe(2);
    expect(api.requests).toHaveLength(1);
  });

  it('submit --judge mock uses the default profile when none is given', async () => {
    // Prepare
    const { file } = writeJsonl(2);
    const io = captureIo({ CJ_API_URL: api.url });

    // Act
    const code = await main(['submit', file, '--judge', 'mock'], io);

    // Assess
    expect(code).toBe(0);
    expect((api.requests[0]?.body as { judge?: unknown } | undefined)?.judge).toStrictEqual({
      provider: 'mock',
      profile: 'default',
    });
    expect(io.out()).toContain('batch batch-1 created with 2 essays');
  });

  it('submit uploads a large set in pages: create with essay_count, add pages, start', async () => {
    // Prepare
    const { file } = writeJsonl(1001);
    const io = captureIo({ CJ_API_URL: api.url });

    // Act
    const code = await main(['submit', file, '--json'], io);

    // Assess
    expect(code).toBe(0);
    const routes = api.requests.map((r) => `${r.method} ${r.path}`);
    expect(routes).toEqual([
      'POST /batches',
      'POST /batches/batch-1/essays',
      'POST /batches/batch-1/essays',
      'POST /batches/batch-1/start',
    ]);
    expect(api.requests.slice(1, 3).map((r) => (r.body as { offset: number }).offset)).toEqual([
      0, 1000,
    ]);
    expect(api.requests[0]?.body).toEqual({ essay_count: 1001 });
    expect(api.batches.get('batch-1')?.essays.map((e) => e.id)).toEqual(
      makeEssays(1001).map((e) => e.id),
    );
  });

  it.each([
    [['--set', 'NO_VALUE'], '--set NO_VALUE'],
    [['--budget', '0'], '--budget'],
    [['--budget', '2.5'], '--budget'],
    [['--mock-failure-rate', '1.5'], '--mock-failure-rate'],
    [['--mock-duplicate-callbacks', '-1'], '--mock-duplicate-callbacks'],
    [['--mock-seed', 'abc'], '--mock-seed'],
    [['--mock-seed', '1.5'], '--mock-seed'],
    [['--mock-profile', 'nonsense'], '--mock-profile'],
    [['--judge', 'openai', '--mock-profile', 'x'], '--mock-profile'],
    [['--judge', 'gemini'], '--judge'],
  ])('submit rejects %j with exit 2 naming %s, before any request', async (flags, subject) => {
    // Prepare
    const { file } = writeJsonl(3);
    const io = captureIo({ CJ_API_URL: api.url });

    // Act
    const code = await main(['submit', file, ...flags], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toContain(`cj: ${subject}:`);
    expect(api.requests).toHaveLength(0);
  });

  it('submit --set sends names and typed values as given: the API checks names and ranges', async () => {
    // Prepare
    const { file } = writeJsonl(3);
    const io = captureIo({ CJ_API_URL: api.url });

    // Act
    const code = await main(
      [
        'submit',
        file,
        '--set',
        'SPLIT_HALF_SPLITS=1000000000',
        '--set',
        'RESAMPLING_ENABLED=false',
        '--set',
        'NOT_A_SETTING=abc',
        '--set',
        'MIN_SUCCESS_RATE=high',
      ],
      io,
    );

    // Assess
    expect(code).toBe(0);
    const sent = api.requests[0]?.body as { config?: unknown } | undefined;
    expect(sent?.config).toEqual({
      SPLIT_HALF_SPLITS: 1_000_000_000,
      RESAMPLING_ENABLED: false,
      NOT_A_SETTING: 'abc',
      MIN_SUCCESS_RATE: 'high',
    });
  });

  it('reports an API 400 with its field and exit 3', async () => {
    // Prepare
    const { file } = writeJsonl(1);
    const io = captureIo({ CJ_API_URL: api.url });

    // Act
    const code = await main(['submit', file], io);

    // Assess
    expect(code).toBe(3);
    expect(io.err()).toBe('cj: API error 400 (field essays): need at least 2 essays\n');
  });

  it('status --json prints the state; status of an unknown batch is an API error', async () => {
    // Prepare
    const { file } = writeJsonl(4);
    await main(['submit', file, '--json'], captureIo({ CJ_API_URL: api.url }));
    const io = captureIo({ CJ_API_URL: api.url });
    const missing = captureIo({ CJ_API_URL: api.url });

    // Act
    const code = await main(['status', 'batch-1', '--json'], io);
    const missingCode = await main(['status', 'batch-9'], missing);

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ batch_id: 'batch-1', essay_count: 4 });
    expect(missingCode).toBe(3);
    expect(missing.err()).toContain('404');
  });

  it('wait polls to a success status, draws progress on a TTY and prints the final JSON', async () => {
    // Prepare
    const { file } = writeJsonl(4);
    await main(['submit', file, '--budget', '20'], captureIo({ CJ_API_URL: api.url }));
    const io = captureIo({ CJ_API_URL: api.url }, { tty: true });

    // Act
    const code = await main(['wait', 'batch-1', '--json', '--poll-ms', '5'], io);

    // Assess
    expect(code).toBe(0);
    const state = JSON.parse(io.out());
    expect(state.status).toBe('COMPLETE_STABLE');
    expect(state.completed_comparisons).toBe(20);
    expect(io.err()).toContain(
      '[##############################] 20/20 comparisons  COMPLETE_STABLE',
    );
    expect(io.err()).toContain('5/20 comparisons  RUNNING');
  });

  it('wait exits 5 when the batch is not terminal in time', async () => {
    // Prepare
    await api.close();
    api = await startFakeApi({ finalStatus: null, step: 1 });
    const { file } = writeJsonl(4);
    await main(['submit', file, '--budget', '1000'], captureIo({ CJ_API_URL: api.url }));
    const io = captureIo({ CJ_API_URL: api.url });

    // Act
    const code = await main(['wait', 'batch-1', '--timeout-s', '0.05', '--poll-ms', '10'], io);

    // Assess
    expect(code).toBe(5);
    expect(io.err()).toContain('still RUNNING after 0.05 s');
  });

  it('wait exits 6 when the batch ends FAILED', async () => {
    // Prepare
    await api.close();
    api = await startFakeApi({ finalStatus: 'FAILED', step: 10 });
    const { file } = writeJsonl(4);
    await main(['submit', file, '--budget', '10'], captureIo({ CJ_API_URL: api.url }));
    const io = captureIo({ CJ_API_URL: api.url });

    // Act
    const code = await main(['wait', 'batch-1', '--poll-ms', '5'], io);

    // Assess
    expect(code).toBe(6);
    expect(io.out()).toContain('FAILED (no_successful_comparisons)');
  });

  it('results prints JSON or CSV sorted by rank and rejects an unknown format', async () => {
    // Prepare
    const { file } = writeJsonl(3);
    await main(['submit', file], captureIo({ CJ_API_URL: api.url }));
    const json = captureIo({ CJ_API_URL: api.url });
    const csv = captureIo({ CJ_API_URL: api.url });
    const bad = captureIo({ CJ_API_URL: api.url });

    // Act
    const jsonCode = await main(['results', 'batch-1'], json);
    const csvCode = await main(['results', 'batch-1', '--format', 'csv'], csv);
    const badCode = await main(['results', 'batch-1', '--format', 'xml'], bad);

    // Assess
    expect(jsonCode).toBe(0);
    expect(JSON.parse(json.out()).essays).toHaveLength(3);
    expect(csvCode).toBe(0);
    expect(csv.out()).toBe(
      'rank,id,score,se,comparisons,wins\n1,e000,1,0.5,4,3\n2,e001,0,0.5,4,2\n3,e002,-1,0.5,4,1\n',
    );
    expect(badCode).toBe(2);
    expect(bad.err()).toContain('--format');
  });

  it('finds the local cloud API URL in .local-cloud/state.json', async () => {
    // Prepare
    const cloudDir = mkdtempSync(join(tmpdir(), 'cj-cloud-'));
    writeFileSync(join(cloudDir, 'state.json'), JSON.stringify({ apiUrl: api.url }));
    const { file } = writeJsonl(2);
    const io = captureIo({ CJ_LOCAL_CLOUD_DIR: cloudDir });

    // Act
    const code = await main(['submit', file, '--json'], io);

    // Assess
    expect(code).toBe(0);
    expect(api.requests).toHaveLength(1);
  });

  it('finds a deployed stack API URL in a CDK outputs file for the chosen stage', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'cj-outputs-'));
    const outputs = join(dir, 'outputs.json');
    writeFileSync(outputs, JSON.stringify({ 'CjEngine-test': { ApiUrl: `${api.url}/` } }));
    const io = captureIo();
    const wrongStage = captureIo();

    // Act
    const code = await main(['status', 'nope', '--outputs-file', outputs, '--stage', 'test'], io);
    const wrongCode = await main(['status', 'nope', '--outputs-file', outputs], wrongStage);

    // Assess
    expect(code).toBe(3);
    expect(api.requests.map((r) => r.path)).toEqual(['/batches/nope']);
    expect(wrongCode).toBe(2);
    expect(wrongStage.err()).toContain('no ApiUrl output for stack CjEngine-dev');
  });

  it('signs requests with SigV4 for execute-api when asked', async () => {
    // Prepare
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
    const io = captureIo({ CJ_API_URL: api.url, CJ_SIGV4: '1', AWS_REGION: 'eu-west-1' });

    // Act
    await main(['status', 'batch-1'], io);
    vi.unstubAllEnvs();

    // Assess
    const authorization = String(api.requests[0]?.headers.authorization);
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/,
    );
  });
});

describe('cj without an API', () => {
  it('exits 4 with a hint when no target is configured', async () => {
    // Prepare
    const io = captureIo();

    // Act
    const code = await main(['status', 'batch-1'], io);

    // Assess
    expect(code).toBe(4);
    expect(io.err()).toContain('cj local start');
  });

  it('exits 4 when the API does not answer', async () => {
    // Prepare
    const api = await startFakeApi();
    const url = api.url;
    await api.close();
    const io = captureIo({ CJ_API_URL: url });

    // Act
    const code = await main(['status', 'batch-1'], io);

    // Assess
    expect(code).toBe(4);
    expect(io.err()).toContain(`cannot reach the API at ${url}`);
  });

  it.each([
    [['frobnicate'], 'frobnicate: unknown command'],
    [['status'], '<batch-id>: missing batch id'],
    [['submit'], '<dir|file.jsonl>: missing essays argument'],
    [['local', 'reboot'], 'reboot: expected start, stop, status or restart'],
    [['local', 'start', '--chaos', 'lightning=0.1'], '--chaos: chaos: unknown name "lightning"'],
    [['local', 'start', '--chaos', 'crash=2'], '--chaos: chaos: crash must be within 0..1'],
    [
      ['local', 'stop', '--chaos', 'crash=0.1'],
      '--chaos: only `cj local start` takes a chaos spec',
    ],
    [['status', 'a', '--api-url', 'ftp://x'], '--api-url: not an http(s) URL'],
  ])('rejects %j with exit 2', async (argv, text) => {
    // Prepare
    const io = captureIo();

    // Act
    const code = await main(argv, io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toContain(text);
  });

  it('refuses to restart a function host when no local cloud runs (exit 1)', async () => {
    // Prepare
    const io = captureIo({ CJ_LOCAL_CLOUD_DIR: mkdtempSync(join(tmpdir(), 'cj-no-cloud-')) });

    // Act
    const code = await main(['local', 'restart', '--keep-state'], io);

    // Assess
    expect(code).toBe(1);
    expect(io.err()).toContain('function host did not restart: no running local cloud to restart');
  });

  it('prints help listing every command', async () => {
    // Prepare
    const io = captureIo();

    // Act
    const code = await main(['--help'], io);

    // Assess
    expect(code).toBe(0);
    for (const name of ['local', 'submit', 'status', 'wait', 'results', 'demo']) {
      expect(io.out()).toContain(`  ${name} `);
    }
  });

  it('runs as a bin through the shim with the exit code of the command', () => {
    // Prepare
    const shim = fileURLToPath(new URL('cli/cj.mjs', `file://${process.cwd()}/`));

    // Act
    const help = spawnSync(process.execPath, [shim, 'wait', '--help'], { encoding: 'utf8' });
    const bad = spawnSync(process.execPath, [shim, 'nope'], { encoding: 'utf8' });

    // Assess
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('usage: cj wait <batch-id>');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('nope: unknown command');
    // Two node + tsx start-ups on a shared 2-core machine: a generous limit, not a speed check.
  }, 60_000);
});
