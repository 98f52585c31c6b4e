import { describe, expect, it } from 'vitest';
import { describeState } from '#cli/format.ts';
import { batchState } from '#shared/workflow/views.ts';
import { batchMeta } from '#test/helpers/store-fakes.ts';

describe('describeState', () => {
  it('prints a failed batch whose fit has no standard errors as n/a, with its flags', () => {
    // Prepare: what the engine stores for a batch where every comparison failed.
    const state = batchState(
      batchMeta({ status: 'FAILED', failure_reason: 'no_successful_comparisons' }),
      {
        max_possible_pairs: 10,
        successful_pairs_count: 0,
        unique_coverage_complete: false,
        resampling_pass_count: 0,
        bt_se_summary: {
          mean_se: null,
          max_se: null,
          mean_comparisons_per_item: 0,
          isolated_items: 5,
        },
        bt_quality_flags: {
          bt_se_inflated: false,
          comparison_coverage_sparse: true,
          has_isolated_items: true,
        },
      },
    );

    // Act
    const text = describeState(state);

    // Assess
    expect(text).toContain('status       FAILED (no_successful_comparisons)');
    expect(text).toContain('standard err mean n/a, max n/a, 0.0 comparisons per essay, 5 isolated');
    expect(text).toContain('flags        comparison_coverage_sparse, has_isolated_items');
  });
});
