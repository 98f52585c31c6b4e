/**
 * The mock judge adapter: the pure seeded mock judge (`#domain/mock-judge.ts`) behind the provider
 * port, plus the delivery faults the judge function applies for a mock batch (dropped and
 * duplicated callbacks), so the pipeline's accounting can be proven end to end.
 *
 * Mock failures are final for the request (`retryable: false`): a profile's `failure_rate` is the
 * share of comparisons that end failed, which is what the failure-handling rules are tested with.
 * Retrying them in process would silently lower the rate a batch asked for.
 */

import {
  type MockJudgeSettings,
  mockJudge,
  type ResolvedMockJudge,
  resolveMockJudge,
} from '#domain/mock-judge.ts';
import { hashSeed, seededRandom } from '#domain/random.ts';
import type { JudgeEssay, JudgeProvider, JudgeRequest, JudgeResult } from './port.ts';

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

function qualityOf(essay: JudgeEssay): number | undefined {
  const quality = essay.metadata?.quality;
  return typeof quality === 'number' && Number.isFinite(quality) ? quality : undefined;
}

export interface MockProviderOptions {
  /** Longest simulated latency actually waited (MOCK_LATENCY_MAX_MS). */
  maxLatencyMs: number;
  sleep?: Sleep;
}

export class MockJudgeProvider implements JudgeProvider {
  readonly name = 'mock';
  readonly #judge: ResolvedMockJudge;
  readonly #maxLatencyMs: number;
  readonly #sleep: Sleep;

  constructor(settings: MockJudgeSettings, options: MockProviderOptions) {
    this.#judge = resolveMockJudge(settings);
    this.#maxLatencyMs = options.maxLatencyMs;
    this.#sleep = options.sleep ?? realSleep;
  }

  /** The delivery faults this batch asked for, for the judge function to apply. */
  delivery(key: JudgeRequest['key']): MockDelivery {
    return mockDelivery(this.#judge, key);
  }

  async judge(request: JudgeRequest): Promise<JudgeResult> {
    const qualityA = qualityOf(request.essayA);
    const qualityB = qualityOf(request.essayB);
    const outcome = mockJudge(this.#judge, {
      comparisonKey: `${request.key.batchId}/${request.key.comparisonId}`,
      attempt: request.key.attempt,
      a: { id: request.essayA.id, ...(qualityA === undefined ? {} : { quality: qualityA }) },
      b: { id: request.essayB.id, ...(qualityB === undefined ? {} : { quality: qualityB }) },
    });
    const waited = Math.min(Math.max(0, outcome.latencyMs), this.#maxLatencyMs);
    if (waited > 0) await this.#sleep(waited);
    if (!outcome.ok) {
      return {
        outcome: 'failure',
        kind: outcome.failureKind,
        reason: `mock_${outcome.failureKind}`,
        retryable: false,
      };
    }
    return {
      outcome: 'verdict',
      winner: outcome.winner,
      usage: { latency_ms: outcome.latencyMs, model: `mock/${this.#judge.profile}` },
    };
  }
}

/** How the judge function delivers the callback of one mock request. */
export interface MockDelivery {
  /** Send no callback at all (the sweeper must time the comparison out). */
  drop: boolean;
  /** Copies to send beyond the first (the callback function must count one). */
  extraCopies: number;
}

/** Seeded per (batch seed, comparison, attempt): a redelivered request behaves the same. */
export function mockDelivery(judge: ResolvedMockJudge, key: JudgeRequest['key']): MockDelivery {
  const rng = seededRandom(
    hashSeed('delivery', judge.seed, key.batchId, key.comparisonId, key.attempt),
  );
  return { drop: rng() < judge.dropRate, extraCopies: judge.duplicateCallbacks };
}
