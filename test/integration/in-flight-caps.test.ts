/**
 * The in-flight caps on the local cloud, through the `cj` bin and the API (docs/deploy.md,
 * "Deployment settings and maxima"): with MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL 2 and
 * MAX_ESSAYS_IN_FLIGHT 10 in the functions' environment, the caller's third running batch is a 429
 * naming the limit (`cj submit` exits 3 and says it); a batch cancelled with `cj cancel` frees its
 * place; a batch that would pass the essay total is a 429 naming MAX_ESSAYS_IN_FLIGHT; a completed
 * batch frees its essays. Runs its own local cloud, because the caps are deployment settings (the
 * functions' environment). Every request is the local identity's (LOCAL_CALLER_PRINCIPAL).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from '#cli/api.ts';
import { isSuccess } from '#domain/types.ts';
import { type LocalCloud, runLocalCloud } from '#localstack/local-cloud/local-cloud.ts';
import {
  ensureSynth,
  localCloudPaths,
  templatePathFor,
} from '#localstack/local-cloud/supervisor.ts';
import { makeEssays } from '#test/helpers/essays.ts';

const CJ = fileURLToPath(new URL('../../cli/cj.mjs', import.meta.url));

interface CjRun {
  code: number;
  stdout: string;
  stderr: string;
}

describe('in-flight caps on the local cloud', () => {
  let cloud: LocalCloud;
  let api: ApiClient;
  let folder: string;

  /** Runs the `cj` bin as a user would, in its own process, against this test's cloud. */
  const cj = (args: string[]): Promise<CjRun> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [CJ, ...args],
        { env: { ...process.env, CJ_API_URL: cloud.apiUrl }, timeout: 180_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });

  /** An essays file of `count` essays. */
  const essaysFile = (name: string, count: number): string => {
    const file = join(folder, `${name}.jsonl`);
    const lines = makeEssays(count, { seed: count }).map((essay) => JSON.stringify(essay));
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };

  /** `cj submit`: the batch id it printed (exit 0), or the run itself. */
  const submit = async (file: string, flags: string[] = []) => {
    const run = await cj(['submit', file, '--json', '--mock-profile', 'default', ...flags]);
    if (run.code !== 0) return { run, batchId: undefined };
    return { run, batchId: (JSON.parse(run.stdout) as { batch_id: string }).batch_id };
  };

  /** A batch that stays RUNNING: every callback is dropped, and their deadline is an hour away. */
  const stuck = ['--mock-drop-rate', '1', '--set', 'COMPARISON_DEADLINE_SECONDS=3600'];

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'cj-caps-'));
    const paths = localCloudPaths({ stateDir: join(folder, 'cloud') });
    mkdirSync(paths.logDir, { recursive: true });
    const templatePath = templatePathFor(paths.root, process.env.CJ_STAGE ?? 'dev');
    ensureSynth(paths, templatePath);
    cloud = await runLocalCloud({
      templatePath,
      logDir: paths.logDir,
      functionEnv: { MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL: '2', MAX_ESSAYS_IN_FLIGHT: '10' },
      scheduleIntervalSeconds: 2,
    });
    api = new ApiClient({ baseUrl: cloud.apiUrl });
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  it('refuses the third batch in flight with a 429 naming the limit, until one ends', async () => {
    // Prepare: two batches that stay running
    const first = await submit(essaysFile('first', 3), stuck);
    const second = await submit(essaysFile('second', 3), stuck);
    expect(first.run.code, first.run.stderr).toBe(0);
    expect(second.run.code, second.run.stderr).toBe(0);

    // Act
    const third = await submit(essaysFile('third', 3));
    const running = await cj(['list', '--status', 'RUNNING', '--json']);
    const cancelled = await cj(['cancel', String(second.batchId)]);
    const afterCancel = await submit(essaysFile('after-cancel', 3));
    const completed = await cj(['wait', String(afterCancel.batchId), '--timeout-s', '150']);

    // Assess
    expect(third.run.code).toBe(3);
    expect(third.run.stderr).toContain('API error 429 (field batches_in_flight)');
    expect(third.run.stderr).toContain('MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL is 2');
    expect(third.run.stdout).toBe('');
    const listed = (JSON.parse(running.stdout) as { batches: { batch_id: string }[] }).batches;
    expect(listed.map((batch) => batch.batch_id).sort()).toEqual(
      [first.batchId, second.batchId].sort(),
    );
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(afterCancel.run.code, afterCancel.run.stderr).toBe(0);
    expect(completed.code, completed.stderr).toBe(0);
    const done = await api.getBatch(String(afterCancel.batchId));
    expect(isSuccess(done.status)).toBe(true);
  });

  it('refuses a batch that would pass the essays in flight, and takes one once a batch completed', async () => {
    // Prepare: the first test left one batch of 3 essays running (the completed one is released)
    const tooMany = 8;

    // Act
    const refused = await api.createBatch({ essays: makeEssays(tooMany) }).catch((e) => e);
    const fits = await submit(essaysFile('fits', 7), stuck);
    const oneMore = await submit(essaysFile('one-more', 2));

    // Assess
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(429);
    expect((refused as ApiError).body).toEqual({
      error: 'too_many_in_flight',
      field: 'essays_in_flight',
      message: expect.stringContaining('MAX_ESSAYS_IN_FLIGHT (10)'),
      limit: 'MAX_ESSAYS_IN_FLIGHT',
      max: 10,
      in_flight: 3,
      requested: tooMany,
    });
    // 3 + 7 = 10: accepted only because the completed and the cancelled batch were released.
    expect(fits.run.code, fits.run.stderr).toBe(0);
    expect(oneMore.run.code).toBe(3);
    expect(oneMore.run.stderr).toContain('API error 429');
    await api.cancelBatch(String(fits.batchId));
  });
});
