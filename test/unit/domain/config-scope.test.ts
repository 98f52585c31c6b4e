/**
 * Every setting declares whether a batch may override it and its range: per-batch numbers are
 * bounded on both sides, a batch naming a deployment setting (every JUDGE_* included) is refused
 * naming the field, and out-of-range values are refused naming the field.
 */
import { describe, expect, it } from 'vitest';
import {
  BATCH_CONFIG_NAMES,
  CONFIG_NAMES,
  CONFIG_SPEC,
  ConfigError,
  coerceConfigAssignment,
  parseConfigAssignment,
  resolveBatchConfig,
  settingRange,
} from '#domain/config.ts';
import { createBatchRequestSchema } from '#messages/api.ts';
import { toValidationError } from '#messages/validation.ts';
import { renderRange } from '#scripts/config-docs.ts';

const DEPLOYMENT_NAMES = CONFIG_NAMES.filter((name) => !CONFIG_SPEC[name].perBatch);

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('per-batch settings', () => {
  it('are a declared subset, and every per-batch number has a finite minimum and maximum', () => {
    // Prepare
    const numeric = BATCH_CONFIG_NAMES.filter((name) => settingRange(name).kind === 'number');

    // Act
    const ranges = numeric.map((name) => [name, settingRange(name)] as const);

    // Assess
    expect(BATCH_CONFIG_NAMES.length).toBeGreaterThan(20);
    expect(DEPLOYMENT_NAMES.length).toBeGreaterThan(20);
    for (const [name, range] of ranges) {
      if (range.kind !== 'number') throw new Error(name);
      expect(Number.isFinite(range.min), `${name} min`).toBe(true);
      expect(Number.isFinite(range.max), `${name} max`).toBe(true);
      expect(range.max, name).toBeLessThan(Number.MAX_SAFE_INTEGER);
    }
  });

  it('accept their defaults and the ends of their ranges', () => {
    // Prepare
    const atMaximum: Record<string, unknown> = {};
    for (const name of BATCH_CONFIG_NAMES) {
      const range = settingRange(name);
      if (range.kind === 'number' && !range.maxExclusive) atMaximum[name] = range.max;
    }

    // Act
    const config = resolveBatchConfig(atMaximum);

    // Assess
    expect(config.SPLIT_HALF_SPLITS).toBe(20);
    expect(config.COMPARISON_DEADLINE_SECONDS).toBe(86_400);
    expect(resolveBatchConfig({}).SPLIT_HALF_SPLITS).toBe(CONFIG_SPEC.SPLIT_HALF_SPLITS.default);
  });

  it.each([
    ['SPLIT_HALF_SPLITS', 1_000_000_000],
    ['COMPARISON_DEADLINE_SECONDS', 10_000_000_000_000],
    ['MAX_ITERATIONS', 1_000_000],
    ['MAX_ATTEMPTS_PER_PAIR', 1000],
    ['WAVE_MAX_APPEARANCES_PER_ESSAY', 1000],
    ['MIN_RESAMPLING_NET_SIZE', 20_000],
    ['SPLIT_HALF_SPLITS', 2.5],
    ['MIN_SUCCESS_RATE', -0.1],
  ])('%s = %d is out of range: refused naming the field', (name, value) => {
    // Act
    const error = configError(() => resolveBatchConfig({ [name]: value }));

    // Assess
    expect(error.field).toBe(name);
    expect(error.message).toContain(`invalid value for ${name}`);
  });
});

describe('deployment settings', () => {
  it.each(DEPLOYMENT_NAMES.map((name) => [name]))(
    '%s cannot be set by a batch, even to its default',
    (name) => {
      // Act
      const error = configError(() =>
        resolveBatchConfig({ [name]: CONFIG_SPEC[name].default as unknown }),
      );

      // Assess
      expect(error.field).toBe(name);
      expect(error.message).toContain('deployment setting');
    },
  );

  it('include every JUDGE_* setting: a batch cannot set one and have it ignored', () => {
    // Prepare
    const judgeNames = CONFIG_NAMES.filter((name) => name.startsWith('JUDGE_'));

    // Act
    const perBatch = judgeNames.filter((name) => CONFIG_SPEC[name].perBatch);

    // Assess
    expect(judgeNames.length).toBeGreaterThanOrEqual(10);
    expect(perBatch).toEqual([]);
  });

  it('caps the exact-SE size so its dense matrix stays within 128 MB', () => {
    // Act
    const range = settingRange('BT_EXACT_SE_MAX_N');

    // Assess
    expect(CONFIG_SPEC.BT_EXACT_SE_MAX_N.perBatch).toBe(false);
    expect(range.kind === 'number' && 8 * range.max ** 2).toBeLessThanOrEqual(128 * 1024 * 1024);
  });

  it('remain settable in the simulator and offline tools (resolveConfig checks ranges only)', () => {
    // Act
    const [name, value] = parseConfigAssignment('BT_POSTERIOR_MAX_SWEEPS=200');

    // Assess
    expect([name, value]).toEqual(['BT_POSTERIOR_MAX_SWEEPS', 200]);
  });
});

describe('a create request with config overrides', () => {
  const essays = [
    { id: 'e1', text: 'one' },
    { id: 'e2', text: 'two' },
  ];

  it.each([
    [{ SPLIT_HALF_SPLITS: 1_000_000_000 }, 'config.SPLIT_HALF_SPLITS'],
    [{ COMPARISON_DEADLINE_SECONDS: 10_000_000_000_000 }, 'config.COMPARISON_DEADLINE_SECONDS'],
    [{ JUDGE_CALL_TIMEOUT_MS: 1000 }, 'config.JUDGE_CALL_TIMEOUT_MS'],
    [{ JUDGE_DEFAULT_MAX_TOKENS: 10 }, 'config.JUDGE_DEFAULT_MAX_TOKENS'],
    [{ BT_EXACT_SE_MAX_N: 100_000 }, 'config.BT_EXACT_SE_MAX_N'],
    [{ MAX_ESSAY_CHARS: 90_000 }, 'config.MAX_ESSAY_CHARS'],
  ])('%j is a 400 naming %s', (config, field) => {
    // Act
    const parsed = createBatchRequestSchema.safeParse({ essays, config });

    // Assess
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(toValidationError(parsed.error).field).toBe(field);
  });

  it('accepts per-batch overrides within range', () => {
    // Act
    const parsed = createBatchRequestSchema.parse({
      essays,
      config: { SPLIT_HALF_SPLITS: 20, COMPARISON_DEADLINE_SECONDS: 86_400 },
    });

    // Assess
    expect(parsed.config).toEqual({ SPLIT_HALF_SPLITS: 20, COMPARISON_DEADLINE_SECONDS: 86_400 });
  });
});

describe('coerceConfigAssignment (cj submit --set)', () => {
  it.each([
    ['SPLIT_HALF_SPLITS=1000000000', ['SPLIT_HALF_SPLITS', 1_000_000_000]],
    ['RESAMPLING_ENABLED=0', ['RESAMPLING_ENABLED', false]],
    ['RESAMPLING_ENABLED=maybe', ['RESAMPLING_ENABLED', 'maybe']],
    ['MIN_SUCCESS_RATE=abc', ['MIN_SUCCESS_RATE', 'abc']],
    ['PAIRING_STRATEGY=random', ['PAIRING_STRATEGY', 'random']],
    ['NOT_A_SETTING=3', ['NOT_A_SETTING', '3']],
  ])('%s → %j (typed by the default, never range-checked)', (assignment, expected) => {
    // Act
    const result = coerceConfigAssignment(assignment);

    // Assess
    expect(result).toEqual(expected);
  });

  it('refuses an assignment without NAME=', () => {
    // Act
    const error = configError(() => coerceConfigAssignment('=3'));

    // Assess
    expect(error.field).toBe('=3');
  });
});

describe('the range column of docs/config.md', () => {
  it.each([
    ['SPLIT_HALF_SPLITS', '1 to 20, whole'],
    ['COMPARISON_DEADLINE_SECONDS', '1 to 86,400, whole'],
    ['PAIRING_FOCUS_FRACTION', '> 0 to 1'],
    ['RATE_LIMIT_BACKOFF_FACTOR', '> 0 to < 1'],
    ['BT_FIT_TOLERANCE', '> 0'],
    ['BATCH_TTL_DAYS', '≥ 1, whole'],
    ['RESAMPLING_ENABLED', 'true/false'],
    ['PAIRING_STRATEGY', '`adaptive`, `random`'],
    ['PROVIDER_RATE_LIMITS', 'JSON object'],
  ] as const)('%s: %s', (name, expected) => {
    // Act
    const text = renderRange(name);

    // Assess
    expect(text).toBe(expected);
  });
});
