/**
 * `cj submit` with a real LLM judge: the flags become the batch's judge choice (rubric and
 * assignment read from files), and misuse is a usage error (exit 2) naming the flag, before any
 * request.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '#cli/main.ts';
import { captureIo } from '#test/helpers/cli-io.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { type FakeApi, startFakeApi } from '#test/helpers/fake-api.ts';

function workspace(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cj-llm-'));
  const file = join(dir, 'essays.jsonl');
  writeFileSync(
    file,
    `${makeEssays(3)
      .map((e) => JSON.stringify(e))
      .join('\n')}\n`,
  );
  writeFileSync(join(dir, 'rubric.md'), 'Reward evidence.\n');
  writeFileSync(join(dir, 'task.md'), 'Argue for or against homework.\n');
  return { dir, file };
}

describe('cj submit --judge <LLM provider>', () => {
  let api: FakeApi;

  beforeEach(async () => {
    api = await startFakeApi();
  });

  afterEach(async () => {
    await api.close();
  });

  it.each([
    {
      name: 'an OpenAI-compatible choice with model, base URL, rubric and assignment text',
      flags: [
        '--judge',
        'openai-compatible',
        '--judge-model',
        'qwen2.5-7b-instruct',
        '--judge-base-url',
        'http://127.0.0.1:8000/v1',
        '--rubric',
        'rubric.md',
        '--assignment',
        'task.md',
        '--judge-both-orders',
      ],
      judge: {
        provider: 'openai-compatible',
        model: 'qwen2.5-7b-instruct',
        base_url: 'http://127.0.0.1:8000/v1',
        assignment: 'Argue for or against homework.\n',
        rubric: 'Reward evidence.\n',
        judge_both_orders: true,
      },
    },
    {
      name: "an OpenAI-compatible choice naming one of the deployment's endpoints",
      flags: [
        '--judge',
        'openai-compatible',
        '--judge-model',
        'llama-3.1-8b',
        '--judge-endpoint',
        'local-llama',
      ],
      judge: { provider: 'openai-compatible', model: 'llama-3.1-8b', endpoint: 'local-llama' },
    },
    {
      name: 'an Anthropic choice with only its model',
      flags: ['--judge', 'anthropic', '--judge-model', 'claude-sonnet-4-20250514'],
      judge: { provider: 'anthropic', model: 'claude-sonnet-4-20250514' },
    },
    {
      name: 'judge.mode provider_batch for --judge-mode provider-batch',
      flags: [
        '--judge',
        'openai',
        '--judge-model',
        'gpt-4o-mini',
        '--judge-mode',
        'provider-batch',
      ],
      judge: { provider: 'openai', model: 'gpt-4o-mini', mode: 'provider_batch' },
    },
    {
      name: 'judge.mode provider_batch on a named OpenAI-compatible endpoint',
      flags: [
        '--judge',
        'openai-compatible',
        '--judge-model',
        'llama-3.1-8b',
        '--judge-endpoint',
        'lab',
        '--judge-mode',
        'provider-batch',
      ],
      judge: {
        provider: 'openai-compatible',
        model: 'llama-3.1-8b',
        endpoint: 'lab',
        mode: 'provider_batch',
      },
    },
  ])('sends $name', async ({ flags, judge }) => {
    // Prepare
    const { dir, file } = workspace();
    const io = { ...captureIo({ CJ_API_URL: api.url }), cwd: dir };

    // Act
    const code = await main(['submit', file, ...flags], io);

    // Assess
    expect(code).toBe(0);
    expect((api.requests[0]?.body as { judge?: unknown } | undefined)?.judge).toStrictEqual(judge);
  });

  it.each([
    [['--judge', 'openai', '--judge-model', 'm', '--judge-mode', 'overnight'], '--judge-mode'],
    [
      [
        '--judge',
        'openai-compatible',
        '--judge-model',
        'm',
        '--judge-base-url',
        'http://x/v1',
        '--judge-mode',
        'provider-batch',
      ],
      '--judge-mode',
    ],
    [
      [
        '--judge',
        'anthropic',
        '--judge-model',
        'm',
        '--judge-both-orders',
        '--judge-mode',
        'provider-batch',
      ],
      '--judge-mode',
    ],
    [['--judge-mode', 'provider-batch'], '--judge-mode'],
    [['--judge', 'openai'], '--judge-model'],
    [['--judge', 'openai-compatible', '--judge-model', 'm'], '--judge-endpoint'],
    [
      [
        '--judge',
        'openai-compatible',
        '--judge-model',
        'm',
        '--judge-endpoint',
        'lab',
        '--judge-base-url',
        'http://127.0.0.1:8000/v1',
      ],
      '--judge-base-url',
    ],
    [['--judge', 'openai', '--judge-model', 'm', '--judge-endpoint', 'lab'], '--judge-endpoint'],
    [
      ['--judge', 'openai', '--judge-model', 'm', '--judge-base-url', 'http://x/v1'],
      '--judge-base-url',
    ],
    [['--judge', 'mock', '--judge-model', 'm'], '--judge-model'],
    [['--rubric', 'rubric.md'], '--rubric'],
    [['--judge', 'openai', '--judge-model', 'm', '--assignment', 'missing.md'], '--assignment'],
  ])('rejects %j with exit 2 naming %s', async (flags, subject) => {
    // Prepare
    const { dir, file } = workspace();
    const io = { ...captureIo({ CJ_API_URL: api.url }), cwd: dir };

    // Act
    const code = await main(['submit', file, ...flags], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toContain(`cj: ${subject}:`);
    expect(api.requests).toHaveLength(0);
  });
});
