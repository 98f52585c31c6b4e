import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  latentQuality,
  listMockProfiles,
  MOCK_PROFILE_NAMES,
  type MockJudgeRequest,
  mockJudge,
  mockJudgeSettingsSchema,
  resolveMockJudge,
} from '#domain/mock-judge.ts';

function request(key: string, qualityA: number, qualityB: number, attempt = 1): MockJudgeRequest {
  return {
    comparisonKey: key,
    attempt,
    a: { id: 'essay-a', quality: qualityA },
    b: { id: 'essay-b', quality: qualityB },
  };
}

function winRateOfA(
  judge: ReturnType<typeof resolveMockJudge>,
  qualityA: number,
  qualityB: number,
  calls: number,
) {
  let wins = 0;
  let verdicts = 0;
  for (let i = 0; i < calls; i++) {
    const outcome = mockJudge(judge, request(`cmp-${i}`, qualityA, qualityB));
    if (outcome.ok) {
      verdicts++;
      if (outcome.winner === 'A') wins++;
    }
  }
  return { rate: wins / verdicts, verdicts };
}

describe('mock judge profiles', () => {
  it('offers the named profiles', () => {
    // Act
    const names = listMockProfiles().map((p) => p.name);
    // Assess
    expect(names).toEqual(MOCK_PROFILE_NAMES);
    expect(names).toEqual(
      expect.arrayContaining([
        'default',
        'realistic',
        'eng5_lower5_gpt51_low',
        'flaky_half',
        'always_fail',
      ]),
    );
  });

  it('eng5_lower5_gpt51_low never fails', () => {
    // Prepare
    const judge = resolveMockJudge({ provider: 'mock', profile: 'eng5_lower5_gpt51_low', seed: 3 });
    // Act
    const outcomes = Array.from({ length: 500 }, (_, i) =>
      mockJudge(judge, request(`k${i}`, 0, 0)),
    );
    // Assess
    expect(outcomes.every((o) => o.ok)).toBe(true);
  });

  it('always_fail fails every call with a known kind', () => {
    // Prepare
    const judge = resolveMockJudge({ provider: 'mock', profile: 'always_fail' });
    // Act
    const outcomes = Array.from({ length: 300 }, (_, i) =>
      mockJudge(judge, request(`k${i}`, 5, -5)),
    );
    // Assess
    const kinds = new Set(outcomes.map((o) => (o.ok ? 'verdict' : o.failureKind)));
    expect(kinds).toEqual(new Set(['timeout', 'rate_limited', 'malformed_answer']));
  });

  it('flaky_half fails about half of the calls', () => {
    // Prepare
    const judge = resolveMockJudge({ provider: 'mock', profile: 'flaky_half', seed: 11 });
    // Act
    const { verdicts } = winRateOfA(judge, 0, 0, 4000);
    // Assess
    expect(verdicts / 4000).toBeGreaterThan(0.46);
    expect(verdicts / 4000).toBeLessThan(0.54);
  });
});

describe('mockJudge', () => {
  it('gives the same answer for the same comparison and attempt (redelivery)', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 1000 }),
        (key, attempt, seed) => {
          // Prepare
          const judge = resolveMockJudge({ provider: 'mock', profile: 'flaky_half', seed });
          // Act
          const first = mockJudge(judge, request(key, 0.3, -0.2, attempt));
          const again = mockJudge(judge, request(key, 0.3, -0.2, attempt));
          // Assess
          expect(again).toEqual(first);
        },
      ),
    );
  });

  it('draws afresh for a retry (next attempt)', () => {
    // Prepare
    const judge = resolveMockJudge({ provider: 'mock', profile: 'flaky_half', seed: 1 });
    // Act
    const firstAttempts = Array.from({ length: 200 }, (_, i) =>
      mockJudge(judge, request(`k${i}`, 0, 0, 1)),
    );
    const secondAttempts = Array.from({ length: 200 }, (_, i) =>
      mockJudge(judge, request(`k${i}`, 0, 0, 2)),
    );
    // Assess
    const differing = firstAttempts.filter((o, i) => o.ok !== secondAttempts[i]?.ok).length;
    expect(differing).toBeGreaterThan(50);
  });

  it('prefers the better essay with the Bradley–Terry probability', () => {
    // Prepare
    const judge = resolveMockJudge({ provider: 'mock', profile: 'default', seed: 5 });
    // Act
    const { rate } = winRateOfA(judge, 1, 0, 6000);
    // Assess: σ(1) ≈ 0.731
    expect(rate).toBeGreaterThan(0.7);
    expect(rate).toBeLessThan(0.76);
  });

  it('applies the position bias in logits to the first-shown essay', () => {
    // Prepare
    const judge = resolveMockJudge({
      provider: 'mock',
      profile: 'default',
      position_bias: 1,
      seed: 9,
    });
    // Act
    const first = mockJudge(judge, request('k', 0, 0));
    const { rate } = winRateOfA(judge, 0, 0, 6000);
    // Assess
    expect(first.ok && first.probabilityA).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(rate).toBeGreaterThan(0.7);
    expect(rate).toBeLessThan(0.76);
  });

  it('honours a failure_rate override', () => {
    // Prepare
    const judge = resolveMockJudge({ provider: 'mock', profile: 'default', failure_rate: 1 });
    // Act
    const outcome = mockJudge(judge, request('k', 0, 0));
    // Assess
    expect(outcome.ok).toBe(false);
  });

  it('returns a positive latency around the configured median without waiting', () => {
    // Prepare
    const judge = resolveMockJudge({ provider: 'mock', profile: 'default', latency_ms: 1000 });
    // Act
    const latencies = Array.from(
      { length: 501 },
      (_, i) => mockJudge(judge, request(`k${i}`, 0, 0)).latencyMs,
    ).sort((x, y) => x - y);
    // Assess
    const median = latencies[250] ?? 0;
    expect(latencies[0]).toBeGreaterThan(0);
    expect(median).toBeGreaterThan(850);
    expect(median).toBeLessThan(1150);
  });
});

describe('latentQuality', () => {
  it('uses metadata.quality when given', () => {
    // Prepare
    const judge = resolveMockJudge({ provider: 'mock', profile: 'default', seed: 1 });
    // Act
    const quality = latentQuality(judge, { id: 'e1', quality: 1.25 });
    // Assess
    expect(quality).toBe(1.25);
  });

  it('derives a stable quality from id and seed otherwise', () => {
    // Prepare
    const judge = resolveMockJudge({ provider: 'mock', profile: 'default', seed: 1 });
    const otherSeed = resolveMockJudge({ provider: 'mock', profile: 'default', seed: 2 });
    // Act
    const once = latentQuality(judge, { id: 'e1' });
    const twice = latentQuality(judge, { id: 'e1' });
    const reseeded = latentQuality(otherSeed, { id: 'e1' });
    // Assess
    expect(twice).toBe(once);
    expect(reseeded).not.toBe(once);
    expect(Number.isFinite(once)).toBe(true);
  });
});

describe('mockJudgeSettingsSchema', () => {
  it('accepts a full mock setting', () => {
    // Prepare
    const input = {
      provider: 'mock',
      profile: 'flaky_half',
      failure_rate: 0.6,
      position_bias: 0.3,
      latency_ms: 10,
      duplicate_callbacks: 2,
      drop_rate: 0.1,
      seed: 42,
    };
    // Act
    const parsed = mockJudgeSettingsSchema.parse(input);
    // Assess
    expect(parsed).toEqual(input);
  });

  it.each([
    [{ provider: 'mock', profile: 'nope' }, 'profile'],
    [{ provider: 'mock', profile: 'default', failure_rate: 1.5 }, 'failure_rate'],
    [{ provider: 'mock', profile: 'default', drop_rate: -0.1 }, 'drop_rate'],
    [{ provider: 'mock', profile: 'default', duplicate_callbacks: 1.5 }, 'duplicate_callbacks'],
    [{ provider: 'mock', profile: 'default', latency_ms: -1 }, 'latency_ms'],
    [{ provider: 'openai', profile: 'default' }, 'provider'],
    [{ provider: 'mock', profile: 'default', colour: 'red' }, ''],
  ])('rejects %j naming the field', (input, field) => {
    // Act
    const result = mockJudgeSettingsSchema.safeParse(input);
    // Assess
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join('.')).toBe(field);
  });
});
