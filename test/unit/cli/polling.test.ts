/**
 * Polling that survives hiccups: `cj wait`, `cj status`, `cj results` and `cj demo` against a real
 * loopback HTTP server that fails every third read (a 500, a 429, a reset connection, a 503), and
 * against one that always fails (the read gives up after the documented number in a row).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_DEFAULTS } from '#cli/defaults.ts';
import { main } from '#cli/main.ts';
import { captureIo } from '#test/helpers/cli-io.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { type FakeApi, type FakeApiOptions, startFakeApi } from '#test/helpers/fake-api.ts';

function writeJsonl(count: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cj-poll-')), 'essays.jsonl');
  writeFileSync(
    file,
    `${makeEssays(count)
      .map((e) => JSON.stringify(e))
      .join('\n')}\n`,
  );
  return file;
}

describe('polling through transient API failures', () => {
  let api: FakeApi | undefined;

  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  async function batchOn(options: FakeApiOptions, budget = 30): Promise<FakeApi> {
    api = await startFakeApi(options);
    const code = await main(
      ['submit', writeJsonl(4), '--budget', String(budget)],
      captureIo({ CJ_API_URL: api.url }),
    );
    expect(code).toBe(0);
    return api;
  }

  it('cj wait reaches the terminal status when every third poll fails, and says it retried', async () => {
    // Prepare
    const fake = await batchOn({ failEvery: 3, step: 3 });
    const io = captureIo({ CJ_API_URL: fake.url });

    // Act
    const code = await main(['wait', 'batch-1', '--json', '--poll-ms', '5'], io);

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(io.out()).status).toBe('COMPLETE_STABLE');
    expect(fake.failedReads).toBeGreaterThanOrEqual(3);
    expect(io.err()).toContain('API error 500');
    expect(io.err()).toContain('API error 429');
    expect(io.err()).toContain(`cannot reach the API at ${fake.url}`);
    expect(io.err()).toMatch(/retrying in \d+\.\d s \(failure 1 in a row/);
  });

  it('cj wait still exits 6 for a FAILED batch and 5 on its timeout while polls keep failing', async () => {
    // Prepare
    const failed = await batchOn({ failEvery: 3, step: 10, finalStatus: 'FAILED' });
    const failedIo = captureIo({ CJ_API_URL: failed.url });
    const failedCode = await main(['wait', 'batch-1', '--poll-ms', '5'], failedIo);
    await failed.close();
    const slow = await batchOn({ failEvery: 3, step: 1, finalStatus: null }, 100_000);
    const slowIo = captureIo({ CJ_API_URL: slow.url });

    // Act
    const slowCode = await main(
      ['wait', 'batch-1', '--timeout-s', '0.2', '--poll-ms', '5'],
      slowIo,
    );

    // Assess
    expect(failedCode).toBe(6);
    expect(failedIo.out()).toContain('FAILED (no_successful_comparisons)');
    expect(slowCode).toBe(5);
    expect(slowIo.err()).toContain('still RUNNING after 0.2 s');
  });

  it('cj wait gives up after the documented number of failures in a row (exit 3 with the last error)', async () => {
    // Prepare
    const fake = await batchOn({ failEvery: 1, failures: [503] });
    const io = captureIo({ CJ_API_URL: fake.url });
    const before = fake.requests.length;

    // Act
    const code = await main(['wait', 'batch-1', '--poll-ms', '2'], io);

    // Assess
    expect(code).toBe(3);
    expect(fake.requests.length - before).toBe(CLI_DEFAULTS.POLL_MAX_CONSECUTIVE_FAILURES);
    expect(io.err()).toContain(
      `API error 503: injected 503 (gave up after ${CLI_DEFAULTS.POLL_MAX_CONSECUTIVE_FAILURES} failed attempts in a row)`,
    );
  });

  it('cj wait does not retry a 404: the batch does not exist, asking again will not change that', async () => {
    // Prepare
    const fake = await batchOn({ failEvery: 3 });
    const io = captureIo({ CJ_API_URL: fake.url });
    const before = fake.requests.length;

    // Act
    const code = await main(['wait', 'no-such-batch', '--poll-ms', '2'], io);

    // Assess
    expect(code).toBe(3);
    expect(fake.requests.length - before).toBe(1);
    expect(io.err()).toContain('API error 404');
    expect(io.err()).not.toContain('retrying');
  });

  it('cj status and cj results retry a failed read once and answer', async () => {
    // Prepare: every second read fails.
    const fake = await batchOn({ failEvery: 2, failures: [502] });
    const status = captureIo({ CJ_API_URL: fake.url });
    const results = captureIo({ CJ_API_URL: fake.url });

    // Act
    const statusCode = await main(['status', 'batch-1', '--json'], status);
    const resultsCode = await main(['results', 'batch-1', '--format', 'csv'], results);

    // Assess
    expect(statusCode).toBe(0);
    expect(JSON.parse(status.out()).batch_id).toBe('batch-1');
    expect(resultsCode).toBe(0);
    expect(results.out().split('\n')[0]).toBe('rank,id,score,se,comparisons,wins');
    expect(`${status.err()}${results.err()}`).toContain('API error 502');
  });

  it('cj demo runs to its ranking through an API that fails every third read', async () => {
    // Prepare
    api = await startFakeApi({ failEvery: 3, step: 4 });
    const io = captureIo({ CJ_API_URL: api.url });

    // Act
    const code = await main(
      ['demo', writeJsonl(5), '--budget', '20', '--json', '--poll-ms', '5'],
      io,
    );

    // Assess
    expect(code).toBe(0);
    const summary = JSON.parse(io.out());
    expect(summary.state.status).toBe('COMPLETE_STABLE');
    expect(summary.results).toHaveLength(5);
    expect(api.failedReads).toBeGreaterThanOrEqual(2);
    // It ends by writing the batch's report (under the local-cloud folder by default).
    expect(summary.report).toBe(join(io.env.CJ_LOCAL_CLOUD_DIR ?? '', 'reports', 'batch-1.html'));
    expect(readFileSync(summary.report, 'utf8')).toContain('<g class="essay" data-id="e004"');
  });
});
