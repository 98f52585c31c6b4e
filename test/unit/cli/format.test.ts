import { describe, expect, it } from 'vitest';
import { describeState, resultsCsv } from '#cli/format.ts';
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

describe('resultsCsv', () => {
  const row = { comparisons: 4, wins: 2, se: 0.5 };

  it('has the plain columns without grades', () => {
    // Act
    const csv = resultsCsv([
      { ...row, id: 'b', score: -1, rank: 2 },
      { ...row, id: 'a', score: 1, rank: 1 },
    ]);
    // Assess
    expect(csv).toBe('rank,id,score,se,comparisons,wins\n1,a,1,0.5,4,2\n2,b,-1,0.5,4,2\n');
  });

  it('adds grade, anchor_grade and one probability column per grade of the scale', () => {
    // Prepare
    const probabilities = { C: 0.1, 'B,+': 0.2, A: 0.7 };
    // Act
    const csv = resultsCsv([
      {
        ...row,
        id: 'a',
        score: 1,
        rank: 1,
        grade: 'A',
        anchor_grade: 'A',
        grade_probabilities: probabilities,
      },
      { ...row, id: 'b', score: 0, rank: 2, grade: 'B,+', grade_probabilities: probabilities },
    ]);
    // Assess: a label with a comma is quoted.
    expect(csv.split('\n')).toEqual([
      'rank,id,score,se,comparisons,wins,grade,anchor_grade,p_C,"p_B,+",p_A',
      '1,a,1,0.5,4,2,A,A,0.1,0.2,0.7',
      '2,b,0,0.5,4,2,"B,+",,0.1,0.2,0.7',
      '',
    ]);
  });

  it('shows reliability, the order effect and the grade boundaries in the state summary', () => {
    // Prepare
    const state = batchState(
      batchMeta({ status: 'COMPLETE_STABLE' }),
      {
        reliability: {
          eap: 0.91,
          ssr: 0.93,
          split_half: 0.9,
          split_half_uncorrected: 0.82,
          split_half_splits: 20,
        },
        order_effect: {
          estimate: 0.42,
          se: 0.1,
          ci95: [0.22, 0.62],
          first_shown_win_rate: 0.6,
          comparisons: 300,
        },
        grades: {
          scale: ['C', 'B'],
          anchors_per_grade: [2, 2],
          boundaries: [{ lower: 'C', upper: 'B', score: 0.25, se: 0.3 }],
          grading_noise: 0.1,
          converged: true,
        },
      },
      ['C', 'B'],
    );
    // Act
    const text = describeState(state);
    // Assess
    expect(text).toContain('reliability  0.910 (EAP); SSR 0.930, split-half 0.900');
    expect(text).toContain('order effect 0.42 logits for the essay shown first (95 % 0.22 to 0.62');
    expect(text).toContain('grades       C|B at 0.25 ± 0.30');
  });
});
