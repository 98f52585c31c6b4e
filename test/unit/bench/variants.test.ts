import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseVariant } from '#bench/support/variants.ts';
import { UsageError } from '#cli/errors.ts';

describe('parseVariant', () => {
  it('types each setting by its default and keeps the text as the label', () => {
    // Act
    const variant = parseVariant(
      ' WAVE_GROWTH_FACTOR=1 , BT_ORDER_EFFECT=false,PAIRING_STRATEGY=random',
    );
    // Assess
    expect(variant.label).toBe(
      'WAVE_GROWTH_FACTOR=1,BT_ORDER_EFFECT=false,PAIRING_STRATEGY=random',
    );
    expect(variant.overrides).toEqual({
      WAVE_GROWTH_FACTOR: 1,
      BT_ORDER_EFFECT: false,
      PAIRING_STRATEGY: 'random',
    });
  });

  it.each([
    ['NOT_A_SETTING=1', 'unknown config name "NOT_A_SETTING"'],
    ['PAIRING_FOCUS_FRACTION=7', 'invalid value for PAIRING_FOCUS_FRACTION: "7"'],
    ['PAIRING_FOCUS_FRACTION', 'expected NAME=VALUE'],
    ['WAVE_GROWTH_FACTOR=1,,', 'expected NAME=VALUE[,NAME=VALUE...]'],
    ['WAVE_GROWTH_FACTOR=1,WAVE_GROWTH_FACTOR=2', 'WAVE_GROWTH_FACTOR is set twice'],
  ])('refuses %s, naming the flag and the problem', (raw, problem) => {
    // Act
    const parse = () => parseVariant(raw);
    // Assess
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(`--variant: ${problem}`);
  });
});

describe('npm run bench:efficiency --variant (process)', () => {
  function efficiency(...args: string[]) {
    return spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bench/efficiency.ts', ...args, '--plan-n', '20', '--plan-m', '20'],
      { encoding: 'utf8' },
    );
  }

  it('pairs each arm with the shipped strategy seed by seed', { timeout: 60_000 }, () => {
    // Prepare: one arm identical to the shipped defaults, one that pairs every essay with
    // plain Thompson spread
    const small = ['--n', '12', '--seeds', '6', '--per-essay', '5', '--plan-runs', '1'];
    // Act
    const out = efficiency(
      ...small,
      '--strategies',
      'adaptive',
      '--variant',
      'PAIRING_FOCUS_FRACTION=0.6',
      '--variant',
      'PAIRING_FOCUS_FRACTION=1,PAIRING_THOMPSON_SCALE=1',
      '--json',
    );
    // Assess
    expect(out.status).toBe(0);
    const { curves, variants } = JSON.parse(out.stdout);
    const [same, other] = variants;
    expect(same.variant).toBe('PAIRING_FOCUS_FRACTION=0.6');
    expect(same.points[0]).toMatchObject({
      per_essay: 5,
      spearman: curves.adaptive[0].spearman,
      shipped_spearman: curves.adaptive[0].spearman,
      minus_shipped: { median: 0, mean: 0, se: 0, share_below: 0, pairs: 6 },
    });
    expect(other.points[0].minus_shipped.pairs).toBe(6);
    expect(other.points[0].minus_shipped.se).toBeGreaterThan(0);
    expect(other.points[0].shipped_spearman).toBe(curves.adaptive[0].spearman);
  });

  it('exits 2 naming the flag and the setting, before running anything', {
    timeout: 60_000,
  }, () => {
    // Act
    const out = efficiency('--variant', 'PAIRING_FOCUS_FRACTION=7', '--json');
    // Assess
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('--variant: invalid value for PAIRING_FOCUS_FRACTION');
    expect(out.stdout).toBe('');
  });
});

describe('npm run bench:waves --variant (process)', () => {
  function waves(...args: string[]) {
    return spawnSync(process.execPath, ['--import', 'tsx', 'bench/waves.ts', ...args], {
      encoding: 'utf8',
    });
  }

  it('runs a labelled arm with its settings beside the shipped sizing', { timeout: 60_000 }, () => {
    // Act
    const out = waves('--n', '6', '--runs', '2', '--variant', 'g1:WAVE_GROWTH_FACTOR=1', '--json');
    // Assess
    expect(out.status).toBe(0);
    const labelled = JSON.parse(out.stdout).variants.map(
      (v: { label: string; overrides: object }) => [v.label, v.overrides],
    );
    expect(labelled).toEqual([
      ['shipped', {}],
      ['one_per_wave', { WAVE_MAX_APPEARANCES_PER_ESSAY: 1 }],
      ['g1', { WAVE_GROWTH_FACTOR: 1 }],
    ]);
  });

  it('refuses the same settings as bench:efficiency, naming the flag', { timeout: 60_000 }, () => {
    // Act
    const out = waves('--n', '6', '--variant', 'g:WAVE_GROWTH_FACTOR=1,WAVE_GROWTH_FACTOR=2');
    // Assess
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('--variant: WAVE_GROWTH_FACTOR is set twice');
    expect(out.stdout).toBe('');
  });
});
