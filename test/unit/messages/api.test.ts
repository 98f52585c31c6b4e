import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { createBatchRequestSchema, essayPageRequestSchema } from '#messages/api.ts';
import { toValidationError } from '#messages/validation.ts';

const essay = (id: string, text = `text of ${id}`) => ({ id, text });

/** Parses and returns the 400 body (or null when valid). */
function errorOf(body: unknown) {
  const parsed = createBatchRequestSchema.safeParse(body);
  return parsed.success ? null : toValidationError(parsed.error);
}

describe('create batch request', () => {
  it('accepts inline essays with budget, judge and config overrides; v defaults to 1', () => {
    // Prepare
    const body = {
      essays: [essay('e1'), { ...essay('e2'), metadata: { quality: 1.5, cohort: 'x' } }],
      budget: 10,
      judge: { provider: 'mock', profile: 'eng5_lower5_gpt51_low', failure_rate: 0.2, seed: 7 },
      config: { MIN_RESAMPLING_NET_SIZE: 5 },
    };

    // Act
    const parsed = createBatchRequestSchema.parse(body);

    // Assess
    expect(parsed.v).toBe(1);
    expect(parsed.essays?.[1]?.metadata?.quality).toBe(1.5);
    expect(parsed.config).toEqual({ MIN_RESAMPLING_NET_SIZE: 5 });
  });

  it('takes the mock judge settings on the mock judge scale: whole extra callbacks, bias in logits', () => {
    // Prepare
    const judge = { provider: 'mock', profile: 'default' };
    const essays = [essay('e1'), essay('e2')];

    // Act
    const valid = errorOf({
      essays,
      judge: { ...judge, duplicate_callbacks: 2, position_bias: 1.5 },
    });
    const fractional = errorOf({ essays, judge: { ...judge, duplicate_callbacks: 0.5 } });
    const tooBiased = errorOf({ essays, judge: { ...judge, position_bias: 11 } });

    // Assess
    expect(valid).toBeNull();
    expect(fractional?.field).toBe('judge.duplicate_callbacks');
    expect(tooBiased?.field).toBe('judge.position_bias');
  });

  it('takes judge.mode provider_batch for OpenAI, Anthropic and a named endpoint, naming the field when it cannot', () => {
    // Prepare
    const essays = [essay('e1'), essay('e2')];
    const batched = (judge: Record<string, unknown>) => errorOf({ essays, judge });

    // Act
    const openai = batched({ provider: 'openai', model: 'gpt-4o-mini', mode: 'provider_batch' });
    const anthropic = batched({ provider: 'anthropic', model: 'claude-haiku-4-5', mode: 'sync' });
    const unknownMode = batched({ provider: 'openai', model: 'm', mode: 'overnight' });
    const bothOrders = batched({
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
      mode: 'provider_batch',
      judge_both_orders: true,
    });
    const compatible = batched({
      provider: 'openai-compatible',
      model: 'local',
      base_url: 'http://127.0.0.1:8000/v1',
      mode: 'provider_batch',
    });
    // Whether the endpoint speaks the Batch API is the deployment's to say (checked at creation).
    const endpoint = batched({
      provider: 'openai-compatible',
      model: 'local',
      endpoint: 'lab',
      mode: 'provider_batch',
    });

    // Assess
    expect(openai).toBeNull();
    expect(anthropic).toBeNull();
    expect(unknownMode?.field).toBe('judge.mode');
    expect(bothOrders?.field).toBe('judge.judge_both_orders');
    expect(compatible?.field).toBe('judge.mode');
    expect(endpoint).toBeNull();
  });

  it('accepts a paged batch announced by essay_count alone', () => {
    // Prepare
    const body = { essay_count: 10_000 };

    // Act
    const error = errorOf(body);

    // Assess
    expect(error).toBeNull();
  });

  it.each([
    ['a single essay', { essays: [essay('e1')] }, 'essays', /at least 2 essays/],
    [
      'duplicate ids',
      { essays: [essay('e1'), essay('e2'), essay('e1')] },
      'essays[2].id',
      /duplicate essay id "e1"/,
    ],
    [
      'empty text',
      { essays: [essay('e1'), essay('e2', '   ')] },
      'essays[1].text',
      /must not be empty/,
    ],
    [
      'an oversized essay',
      { essays: [essay('e1'), essay('e2', 'x'.repeat(DEFAULT_CONFIG.MAX_ESSAY_CHARS + 1))] },
      'essays[1].text',
      /at most 50000 characters/,
    ],
    ['an empty id', { essays: [essay(''), essay('e2')] }, 'essays[0].id', /must not be empty/],
    ['an unsafe id', { essays: [essay('a/b'), essay('e2')] }, 'essays[0].id', /may contain only/],
    ['budget 0', { essays: [essay('e1'), essay('e2')], budget: 0 }, 'budget', /positive integer/],
    [
      'a fractional budget',
      { essays: [essay('e1'), essay('e2')], budget: 1.5 },
      'budget',
      /integer/i,
    ],
    [
      'an unknown config name',
      { essays: [essay('e1'), essay('e2')], config: { NOPE: 1 } },
      'config.NOPE',
      /unknown config name "NOPE"/,
    ],
    [
      'a bad config value',
      { essays: [essay('e1'), essay('e2')], config: { MIN_SUCCESS_RATE: 2 } },
      'config.MIN_SUCCESS_RATE',
      /invalid value/,
    ],
    [
      'an unknown version',
      { v: 2, essays: [essay('e1'), essay('e2')] },
      'v',
      /unsupported message version/,
    ],
    [
      'an unknown judge provider',
      { essays: [essay('e1'), essay('e2')], judge: { provider: 'oracle', profile: 'x' } },
      'judge.provider',
      /./,
    ],
    ['an unknown field', { essays: [essay('e1'), essay('e2')], priority: 'high' }, '', /priority/],
    ['neither essays nor essay_count', {}, 'essays', /essay_count/],
    [
      'essay_count disagreeing with essays',
      { essays: [essay('e1'), essay('e2')], essay_count: 3 },
      'essay_count',
      /differs/,
    ],
  ])('rejects %s, naming the field', (_name, body, field, message) => {
    // Prepare (table row)

    // Act
    const error = errorOf(body);

    // Assess
    expect(error).not.toBeNull();
    expect(error?.error).toBe('validation_error');
    expect(error?.field).toBe(field);
    expect(error?.message).toMatch(message);
  });

  it('never echoes essay text in the error', () => {
    // Prepare
    const secret = 'my private essay text';
    const body = { essays: [essay('e1', secret), essay('e1', secret)] };

    // Act
    const error = errorOf(body);

    // Assess
    expect(JSON.stringify(error)).not.toContain(secret);
  });
});

describe('grade scale and anchor grades', () => {
  const anchored = (id: string, grade: string) => ({ ...essay(id), anchor_grade: grade });

  it('accepts a scale with anchors of at least two grades, and essays without anchors', () => {
    // Prepare
    const body = {
      essays: [anchored('e1', 'A'), anchored('e2', 'C'), essay('e3')],
      grade_scale: ['C', 'B', 'A'],
    };
    // Act
    const parsed = createBatchRequestSchema.parse(body);
    // Assess
    expect(parsed.grade_scale).toEqual(['C', 'B', 'A']);
    expect(parsed.essays?.[0]?.anchor_grade).toBe('A');
  });

  it.each([
    [
      'an anchor grade outside the scale',
      { essays: [anchored('e1', 'A'), anchored('e2', 'A+')], grade_scale: ['C', 'B', 'A'] },
      'essays[1].anchor_grade',
      /"A\+" is not on the grade scale \(C, B, A\)/,
    ],
    [
      'anchors of one grade only',
      { essays: [anchored('e1', 'B'), anchored('e2', 'B'), essay('e3')], grade_scale: ['C', 'B'] },
      'essays',
      /at least two distinct grades.*found 1/,
    ],
    [
      'a scale without any anchor',
      { essays: [essay('e1'), essay('e2')], grade_scale: ['C', 'B'] },
      'essays',
      /at least two distinct grades.*found 0/,
    ],
    [
      'anchors without a scale',
      { essays: [anchored('e1', 'A'), anchored('e2', 'B')] },
      'grade_scale',
      /must declare grade_scale/,
    ],
    [
      'a repeated grade on the scale',
      { essays: [anchored('e1', 'A'), anchored('e2', 'B')], grade_scale: ['B', 'A', 'B'] },
      'grade_scale[2]',
      /"B" appears twice/,
    ],
    [
      'a one-grade scale',
      { essays: [essay('e1'), essay('e2')], grade_scale: ['A'] },
      'grade_scale',
      /at least 2 grades/,
    ],
    [
      'an empty grade',
      { essays: [essay('e1'), essay('e2')], grade_scale: ['A', ' '] },
      'grade_scale[1]',
      /must not be empty/,
    ],
    [
      'a scale longer than MAX_GRADES',
      {
        essays: [essay('e1'), essay('e2')],
        grade_scale: Array.from({ length: DEFAULT_CONFIG.MAX_GRADES + 1 }, (_, k) => `g${k}`),
      },
      'grade_scale',
      new RegExp(`at most ${DEFAULT_CONFIG.MAX_GRADES} grades`),
    ],
    [
      'a grade label longer than MAX_GRADE_LABEL_CHARS',
      {
        essays: [essay('e1'), essay('e2')],
        grade_scale: ['A', 'B'.repeat(DEFAULT_CONFIG.MAX_GRADE_LABEL_CHARS + 1)],
      },
      'grade_scale[1]',
      new RegExp(`at most ${DEFAULT_CONFIG.MAX_GRADE_LABEL_CHARS} characters`),
    ],
  ])('refuses %s, naming the field', (_name, body, field, message) => {
    // Act
    const error = errorOf(body);
    // Assess
    expect(error?.field).toBe(field);
    expect(error?.message).toMatch(message);
  });

  it('leaves the two-grade rule of a paged batch to its start', () => {
    // Act: a paged batch declares its scale; its anchors come with the pages.
    const error = errorOf({ essay_count: 500, grade_scale: ['C', 'B', 'A'] });
    // Assess
    expect(error).toBeNull();
  });
});

describe('essay page request', () => {
  it('accepts an ordered page with an offset', () => {
    // Prepare
    const body = { offset: 1000, essays: [essay('e1000')] };

    // Act
    const parsed = essayPageRequestSchema.safeParse(body);

    // Assess
    expect(parsed.success).toBe(true);
  });

  it('rejects a page above MAX_ESSAYS_PER_PAGE and a missing offset', () => {
    // Prepare
    const tooMany = {
      offset: 0,
      essays: Array.from({ length: DEFAULT_CONFIG.MAX_ESSAYS_PER_PAGE + 1 }, (_, i) =>
        essay(`e${i}`),
      ),
    };
    const noOffset = { essays: [essay('e1')] };

    // Act
    const tooManyError = essayPageRequestSchema.safeParse(tooMany);
    const noOffsetError = essayPageRequestSchema.safeParse(noOffset);

    // Assess
    expect(tooManyError.success).toBe(false);
    expect(!tooManyError.success && toValidationError(tooManyError.error).field).toBe('essays');
    expect(!noOffsetError.success && toValidationError(noOffsetError.error).field).toBe('offset');
  });
});
