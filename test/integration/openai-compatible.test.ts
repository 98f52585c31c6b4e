/**
 * A batch on the local cloud judged through the OpenAI-compatible adapter: the real bundled
 * handlers call a local fake server (the per-batch base URL) over HTTP, and the batch completes
 * with one provider call per completed comparison, no failures, and the ranking the fake judge's
 * rule implies. Runs its own local cloud (own moto_server) because the deployment must allow the
 * provider: ALLOWED_PROVIDERS is passed to the functions as extra environment.
 */

import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE_INPUT_TOKENS,
  FAKE_OUTPUT_TOKENS,
  type FakeLlmServer,
  type RecordedRequest,
  startFakeLlmServer,
} from '#bench/support/fake-llm-server.ts';
import { ApiClient } from '#cli/api.ts';
import type { LlmJudgeOptions } from '#cli/llm-judge.ts';
import { isSuccess } from '#domain/types.ts';
import { type LocalCloud, runLocalCloud } from '#localstack/local-cloud/local-cloud.ts';
import {
  ensureSynth,
  localCloudPaths,
  templatePathFor,
} from '#localstack/local-cloud/supervisor.ts';
import { runBatch } from '#test/helpers/batch-runner.ts';
import { makeEssays } from '#test/helpers/essays.ts';

const ESSAY_COUNT = 4;

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

describe('OpenAI-compatible judge on the local cloud', () => {
  let server: FakeLlmServer;
  let cloud: LocalCloud;

  beforeAll(async () => {
    const paths = localCloudPaths({ stateDir: mkdtempSync(join(tmpdir(), 'cj-llm-cloud-')) });
    mkdirSync(paths.logDir, { recursive: true });
    const templatePath = templatePathFor(paths.root, process.env.CJ_STAGE ?? 'dev');
    ensureSynth(paths, templatePath);
    server = await startFakeLlmServer({ dialect: 'openai', respond: higherIdWins });
    cloud = await runLocalCloud({
      templatePath,
      logDir: paths.logDir,
      functionEnv: { ALLOWED_PROVIDERS: 'mock,openai-compatible' },
      scheduleIntervalSeconds: 2,
    });
  });

  afterAll(async () => {
    await cloud?.stop();
    await server?.close();
  });

  it('completes a batch with one provider call per completed comparison and the implied ranking', async () => {
    // Prepare
    const api = new ApiClient({ baseUrl: cloud.apiUrl });
    const essays = makeEssays(ESSAY_COUNT, { seed: 11 });
    const judge: LlmJudgeOptions = {
      provider: 'openai-compatible',
      model: 'fake-local-model',
      base_url: `${server.origin}/v1`,
    };

    // Act
    const run = await runBatch(api, {
      essays,
      judge,
      config: { RESAMPLING_ENABLED: false },
    });
    const results = await api.getResults(run.batchId);

    // Assess
    expect(isSuccess(run.final.status)).toBe(true);
    expect(run.final.failed_comparisons).toBe(0);
    expect(run.final.completed_comparisons).toBe((ESSAY_COUNT * (ESSAY_COUNT - 1)) / 2);
    expect(run.final.submitted_comparisons).toBe(run.final.completed_comparisons);
    expect(server.requests).toHaveLength(run.final.completed_comparisons);
    for (const request of server.requests) {
      expect(request.path).toBe('/v1/chat/completions');
      expect(request.body.model).toBe('fake-local-model');
      expect(request.promptText).toContain('## Essay A');
      expect(request.promptText).toContain('## Essay B');
    }
    const usage = (run.final.processing_metadata as { judge_usage?: Record<string, unknown> })
      .judge_usage;
    expect(usage).toMatchObject({
      comparisons: run.final.completed_comparisons,
      input_tokens: run.final.completed_comparisons * FAKE_INPUT_TOKENS,
      output_tokens: run.final.completed_comparisons * FAKE_OUTPUT_TOKENS,
      cost_usd: null,
      unpriced_comparisons: run.final.completed_comparisons,
    });
    const ranked = [...results.essays].sort((x, y) => x.rank - y.rank).map((row) => row.id);
    expect(ranked).toEqual(['e003', 'e002', 'e001', 'e000']);
  });
});
