/**
 * The per-batch LLM judge choice: validated with the field named, lengths from config, base URL
 * for compatible servers only, and the deployment's allowed-provider list applied.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { judgeChoiceSchema } from '#messages/api.ts';
import { errorResponse } from '#shared/runtime/http.ts';
import { createBatch } from '#shared/workflow/api.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import { LOCAL_CLOUD_POLICY } from '#test/helpers/judge-factories.ts';
import { createPipeline, testEssays } from '#test/helpers/pipeline.ts';

const COMPATIBLE = {
  provider: 'openai-compatible',
  model: 'qwen2.5-7b-instruct',
  base_url: 'http://127.0.0.1:8080/v1',
};

function fieldOf(error: unknown): string | undefined {
  const response = errorResponse(error);
  return (JSON.parse(String(response.body)) as { field?: string }).field;
}

describe('judgeChoiceSchema for LLM providers', () => {
  it.each([
    [{ provider: 'openai', model: 'gpt-4o-mini', temperature: 0, max_tokens: 300 }],
    [{ provider: 'anthropic', model: 'claude-sonnet-4-20250514', judge_both_orders: true }],
    [{ ...COMPATIBLE, response_format: 'none', rubric: 'Evidence first.' }],
  ])('accepts %j', (choice) => {
    // Act
    const parsed = judgeChoiceSchema.safeParse(choice);

    // Assess
    expect(parsed.success).toBe(true);
  });

  it.each([
    [{ provider: 'openai' }, 'model'],
    [{ provider: 'openai', model: 'gpt-4o', temperature: 3 }, 'temperature'],
    [{ provider: 'openai', model: 'gpt-4o', max_tokens: 0 }, 'max_tokens'],
    [{ provider: 'openai', model: 'gpt-4o', base_url: 'http://x/v1' }, ''],
    [{ ...COMPATIBLE, base_url: 'ftp://host/v1' }, 'base_url'],
    [{ provider: 'openai-compatible', model: 'm' }, 'endpoint'],
    [{ ...COMPATIBLE, endpoint: 'lab' }, 'base_url'],
    [{ provider: 'openai-compatible', model: 'm', endpoint: 'Not A Name' }, 'endpoint'],
    [{ ...COMPATIBLE, response_format: 'xml' }, 'response_format'],
    [
      { ...COMPATIBLE, assignment: 'x'.repeat(DEFAULT_CONFIG.JUDGE_MAX_ASSIGNMENT_CHARS + 1) },
      'assignment',
    ],
    [{ ...COMPATIBLE, rubric: 'x'.repeat(DEFAULT_CONFIG.JUDGE_MAX_RUBRIC_CHARS + 1) }, 'rubric'],
    [{ provider: 'gemini', model: 'g' }, 'provider'],
    [{ provider: 'anthropic', model: 'claude-sonnet-4', temperature: 1.5 }, 'temperature'],
    [
      {
        provider: 'openai',
        model: 'gpt-4o',
        max_tokens: DEFAULT_CONFIG.JUDGE_MAX_OUTPUT_TOKENS + 1,
      },
      'max_tokens',
    ],
  ])('rejects %j naming %s', (choice, field) => {
    // Act
    const parsed = judgeChoiceSchema.safeParse(choice);

    // Assess
    expect(parsed.success).toBe(false);
    const issue = parsed.error?.issues[0];
    const named = issue?.code === 'unrecognized_keys' ? '' : String(issue?.path[0] ?? '');
    expect(named).toBe(field);
  });
});

describe('createBatch with an LLM judge', () => {
  it('rejects a provider this deployment does not allow, naming judge.provider', async () => {
    // Prepare
    const p = createPipeline({ allowedProviders: ['mock', 'openai'] });

    // Act
    const created = createBatch(p.deps, { essays: testEssays(2), judge: COMPATIBLE }, TEST_CALLER);

    // Assess
    const error = await created.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(fieldOf(error)).toBe('judge.provider');
    expect(p.sent.continuation).toHaveLength(0);
  });

  it('rejects a bad base URL with a 400 naming judge.base_url', async () => {
    // Prepare
    const p = createPipeline({ allowedProviders: ['openai-compatible'] });

    // Act
    const created = createBatch(
      p.deps,
      {
        essays: testEssays(2),
        judge: { ...COMPATIBLE, base_url: 'not a url' },
      },
      TEST_CALLER,
    );

    // Assess
    const error = await created.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(errorResponse(error).statusCode).toBe(400);
    expect(fieldOf(error)).toBe('judge.base_url');
  });

  it('stores an allowed LLM choice and starts the batch', async () => {
    // Prepare
    const p = createPipeline({
      allowedProviders: ['openai-compatible'],
      endpointPolicy: LOCAL_CLOUD_POLICY,
    });

    // Act
    const result = await createBatch(
      p.deps,
      { essays: testEssays(2), judge: COMPATIBLE },
      TEST_CALLER,
    );

    // Assess
    expect(result.status).toBe(201);
    expect(p.sent.continuation).toHaveLength(1);
  });
});
