import { describe, expect, it } from 'vitest';
import { batchResultsSchema, batchStateSchema, buildResultRows } from '#messages/state.ts';
import { batchResults, batchState } from '#shared/workflow/views.ts';
import { batchMeta } from '#test/helpers/store-fakes.ts';

describe('state JSON', () => {
  it('maps META to the snake_case state with pending callbacks derived from the counters', () => {
    // Prepare
    const meta = batchMeta(
      {
        submitted_comparisons: 10,
        total_comparisons: 10,
        completed_comparisons: 6,
        failed_comparisons: 1,
        current_iteration: 2,
      },
      { config: { MIN_RESAMPLING_NET_SIZE: 5, MAX_RESAMPLING_PASSES_FOR_SMALL_NET: 3 } },
    );

    // Act
    const state = batchState(meta);

    // Assess: 5 essays, a small net with 3 passes → min(budget 40, 10 × 4) = 40.
    expect(batchStateSchema.parse(state)).toEqual(state);
    expect(state).toMatchObject({
      batch_id: meta.batch_id,
      status: 'RUNNING',
      failure_reason: null,
      pending_callbacks: 3,
      completion_denominator: 40,
      processing_metadata: {},
      finalized_at: null,
    });
  });

  it('rejects a state whose processing_metadata is not an object', () => {
    // Prepare
    const state = { ...batchState(batchMeta()), processing_metadata: [1, 2] };

    // Act
    const parsed = batchStateSchema.safeParse(state);

    // Assess
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['processing_metadata']);
  });
});

describe('results JSON', () => {
  it('ranks by score (1 = best, ties share a rank) and lists best first', () => {
    // Prepare
    const inputs = {
      ids: ['e0', 'e1', 'e2', 'e3'],
      scores: Float64Array.from([-1, 2, 0.5, 0.5]),
      se: [0.4, 0.3, 0.2, 0.2],
      comparisons: [3, 3, 4, 4],
      wins: [0, 3, 2, 1],
    };

    // Act
    const rows = buildResultRows(inputs);
    const results = batchResults(batchMeta({ status: 'COMPLETE_STABLE' }), rows);

    // Assess
    expect(rows.map((row) => row.rank)).toEqual([4, 1, 2, 2]);
    expect(results.essays.map((row) => row.id)).toEqual(['e1', 'e2', 'e3', 'e0']);
    expect(results.essays[0]).toEqual({
      id: 'e1',
      score: 2,
      se: 0.3,
      rank: 1,
      comparisons: 3,
      wins: 3,
    });
    expect(batchResultsSchema.parse(results)).toEqual(results);
  });
});
