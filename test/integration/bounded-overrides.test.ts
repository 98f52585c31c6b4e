/**
 * Issue 17's done-when, through the `cj` bin on the local cloud: an override beyond its declared
 * range (`--set SPLIT_HALF_SPLITS=1000000000`, a deadline past any valid date) and a budget over the
 * deployment's maximum are refused by the API with a 400 naming the field, and `cj` exits 3 with
 * that field; nothing is created. A request within the bounds is accepted.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { makeEssays } from '#test/helpers/essays.ts';

const CJ = fileURLToPath(new URL('../../cli/cj.mjs', import.meta.url));

interface CjRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `cj` bin as a user would, in its own process, against the integration cloud's API. */
function cj(args: string[]): Promise<CjRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CJ, ...args],
      { env: { ...process.env, CJ_API_URL: inject('cloud').apiUrl }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function essaysFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cj-bounds-')), 'essays.jsonl');
  writeFileSync(
    file,
    `${makeEssays(3)
      .map((essay) => JSON.stringify(essay))
      .join('\n')}\n`,
  );
  return file;
}

// Each test is a `cj` process of its own (mostly Node's start): they run at once.
describe.concurrent('cj submit with overrides beyond their bounds', () => {
  const file = essaysFile();

  it.each([
    [['--set', 'SPLIT_HALF_SPLITS=1000000000'], 'config.SPLIT_HALF_SPLITS'],
    [['--set', 'COMPARISON_DEADLINE_SECONDS=10000000000000'], 'config.COMPARISON_DEADLINE_SECONDS'],
    [['--set', 'JUDGE_CALL_TIMEOUT_MS=1000'], 'config.JUDGE_CALL_TIMEOUT_MS'],
    [['--budget', '100000000'], 'budget'],
  ])('%j exits 3 with a 400 naming %s', async (flags, field) => {
    // Act
    const run = await cj(['submit', file, '--mock-profile', 'default', ...flags]);

    // Assess
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`API error 400 (field ${field})`);
    expect(run.stdout).toBe('');
  });

  it('accepts the largest budget and a per-batch setting at the top of its range', async () => {
    // Act
    const run = await cj([
      'submit',
      file,
      '--json',
      '--budget',
      String(DEFAULT_CONFIG.MAX_BUDGET_PER_BATCH),
      '--set',
      'SPLIT_HALF_SPLITS=20',
      '--set',
      'COMPARISON_DEADLINE_SECONDS=86400',
    ]);

    // Assess
    expect(run.code).toBe(0);
    const { batch_id } = JSON.parse(run.stdout) as { batch_id: string };
    const status = await cj(['status', batch_id, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({
      total_budget: DEFAULT_CONFIG.MAX_BUDGET_PER_BATCH,
    });
  });
});
