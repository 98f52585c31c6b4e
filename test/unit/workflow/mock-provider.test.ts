/**
 * The mock judge behind the provider port: seeded and repeatable per (comparison, attempt),
 * latency waited but capped, failures final with a reason, delivery faults from the batch settings.
 */
import { describe, expect, it } from 'vitest';
import { MockJudgeProvider } from '#shared/judges/mock.ts';
import type { JudgeRequest } from '#shared/judges/port.ts';
import { createJudgeProvider } from '#shared/judges/registry.ts';

function request(comparisonId: string, attempt = 1): JudgeRequest {
  return {
    essayA: { id: 'student-a', text: 'first essay', metadata: { quality: 3 } },
    essayB: { id: 'student-b', text: 'second essay', metadata: { quality: -3 } },
    key: { batchId: 'b1', comparisonId, attempt },
  };
}

function provider(settings: Record<string, unknown>, maxLatencyMs = 100) {
  const sleeps: number[] = [];
  const judge = new MockJudgeProvider(
    { provider: 'mock', profile: 'default', ...settings } as never,
    {
      maxLatencyMs,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
  );
  return { judge, sleeps };
}

describe('MockJudgeProvider', () => {
  it('answers the same request the same way (a redelivery gets the same verdict)', async () => {
    // Prepare
    const { judge } = provider({ seed: 11 });

    // Act
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        judge.judge(request(`000001-${String(i).padStart(6, '0')}`)),
      ),
    );
    const again = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        judge.judge(request(`000001-${String(i).padStart(6, '0')}`)),
      ),
    );

    // Assess
    expect(again).toEqual(answers);
    const winsA = answers.filter((a) => a.outcome === 'verdict' && a.winner === 'A').length;
    expect(winsA).toBeGreaterThan(35); // quality +3 vs −3: A wins ~99.8 %
  });

  it('waits the simulated latency, capped at the configured maximum', async () => {
    // Prepare
    const { judge, sleeps } = provider({ latency_ms: 60_000 }, 250);

    // Act
    const result = await judge.judge(request('000001-000000'));

    // Assess
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeLessThanOrEqual(250);
    expect(result).toMatchObject({ outcome: 'verdict', usage: { model: 'mock/default' } });
  });

  it('reports failures as final, with the kind and a reason code', async () => {
    // Prepare
    const { judge } = provider({ failure_rate: 1 });

    // Act
    const result = await judge.judge(request('000001-000000'));

    // Assess
    expect(result).toEqual({
      outcome: 'failure',
      kind: expect.stringMatching(/^(timeout|rate_limited|malformed_answer)$/),
      reason: expect.stringMatching(/^mock_/),
      retryable: false,
    });
  });

  it('derives the delivery faults from the batch settings, seeded per request', () => {
    // Prepare
    const dropAll = provider({ drop_rate: 1, duplicate_callbacks: 2 }).judge;
    const dropNone = provider({}).judge;

    // Act
    const dropped = dropAll.delivery({ batchId: 'b1', comparisonId: '000001-000000', attempt: 1 });
    const kept = dropNone.delivery({ batchId: 'b1', comparisonId: '000001-000000', attempt: 1 });

    // Assess
    expect(dropped).toEqual({ drop: true, extraCopies: 2 });
    expect(kept).toEqual({ drop: false, extraCopies: 0 });
  });

  it('is chosen by the registry for provider mock, and rejects settings the mock does not know', () => {
    // Act
    const chosen = createJudgeProvider(
      { provider: 'mock', profile: 'flaky_half' },
      { maxMockLatencyMs: 0 },
    );
    const unknownProfile = () =>
      createJudgeProvider(
        { provider: 'mock', profile: 'no_such_profile' },
        { maxMockLatencyMs: 0 },
      );

    // Assess
    expect(chosen.name).toBe('mock');
    expect(unknownProfile).toThrow(/profile/);
  });
});
