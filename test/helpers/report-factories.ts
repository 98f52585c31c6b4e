/**
 * Wire-format factories for report and dashboard tests: a finalized batch's state, its results
 * and its wave history, shaped like the API's JSON (shared/messages).
 */

import { seededRandom } from '#domain/random.ts';
import type { BatchResults, BatchState } from '#messages/state.ts';
import type { BatchWaves, WaveSummary } from '#messages/waves.ts';

const CREATED = Date.parse('2026-11-27T08:00:00.000Z');

function at(seconds: number): string {
  return new Date(CREATED + seconds * 1000).toISOString();
}

export function makeBatchState(overrides: Partial<BatchState> = {}): BatchState {
  return {
    v: 1,
    batch_id: 'batch-report-1',
    status: 'COMPLETE_STABLE',
    failure_reason: null,
    essay_count: 40,
    essays_stored: 40,
    submitted_comparisons: 300,
    completed_comparisons: 296,
    failed_comparisons: 4,
    pending_callbacks: 0,
    total_comparisons: 300,
    total_budget: 400,
    current_iteration: 6,
    resampling_pass_count: 1,
    completion_denominator: 300,
    processing_metadata: {
      successful_comparisons: 296,
      failed_comparisons: 4,
      bt_quality_flags: {
        bt_se_inflated: false,
        comparison_coverage_sparse: false,
        has_isolated_items: true,
      },
      reliability: {
        eap: null,
        ssr: 0.912,
        split_half: 0.834,
        split_half_uncorrected: 0.715,
        split_half_splits: 20,
      },
      judge_usage: {
        mode: 'sync',
        comparisons: 296,
        input_tokens: 355_200,
        output_tokens: 11_840,
        cost_usd: 0.0604,
        unpriced_comparisons: 0,
        both_orders_comparisons: 0,
        order_flips: 0,
        order_flip_rate: null,
        unverified_price_comparisons: 0,
      },
    },
    grade_scale: null,
    created_at: at(0),
    updated_at: at(95),
    finalized_at: at(95),
    ...overrides,
  };
}

/** `n` essays `e000…` with seeded scores and SEs, best first. */
export function makeResults(n: number, overrides: Partial<BatchResults> = {}): BatchResults {
  const random = seededRandom(5);
  const scores = Array.from({ length: n }, () => (random() - 0.5) * 6).sort((x, y) => y - x);
  return {
    v: 1,
    batch_id: 'batch-report-1',
    status: 'COMPLETE_STABLE',
    total: n,
    essays: scores.map((score, index) => ({
      id: `e${String(index).padStart(3, '0')}`,
      score: Number(score.toFixed(4)),
      se: Number((0.3 + random() * 0.4).toFixed(4)),
      rank: index + 1,
      comparisons: 12 + (index % 5),
      wins: Math.max(0, 14 - Math.floor(index / 3)),
    })),
    ...overrides,
  };
}

/** `count` waves of `size` comparisons, each settling 10 s after it was planned. */
export function makeWaves(
  count: number,
  size: number,
  overrides: Partial<BatchWaves> = {},
): BatchWaves {
  const waves: WaveSummary[] = Array.from({ length: count }, (_, index) => ({
    iteration: index + 1,
    kind: index === count - 1 ? 'resample' : 'coverage',
    size,
    completed: size - (index % 2),
    failed: index % 2,
    timed_out: index % 2,
    pending: 0,
    planned_at: at(index * 15),
    settled_at: at(index * 15 + 10),
    decision: null,
    reason: null,
  }));
  const pending_timeline = waves.flatMap((_, index) => [
    { at: at(index * 15), pending: size },
    { at: at(index * 15 + 5), pending: Math.floor(size / 2) },
    { at: at(index * 15 + 10), pending: 0 },
  ]);
  return {
    v: 1,
    batch_id: 'batch-report-1',
    status: 'COMPLETE_STABLE',
    failure_reason: null,
    created_at: at(0),
    finalized_at: at(count * 15),
    waves,
    pending_timeline,
    ...overrides,
  };
}
