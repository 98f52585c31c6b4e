import { describe, expect, it } from 'vitest';
import { buildProcessingMetadata, type MetadataInputs } from '#domain/metadata.ts';
import { conventionalSsr } from '#domain/reliability.ts';
import { fullCoverage, makeComparison, makeConfig } from '#test/helpers/domain-factories.ts';

function inputs(overrides: Partial<MetadataInputs> = {}): MetadataInputs {
  return {
    essayCount: 4,
    comparisons: fullCoverage(4),
    scores: Float64Array.from([1.5, 0.5, -0.5, -1.5]),
    se: Float64Array.from([0.9, 0.7, 0.7, 0.9]),
    resamplingPassCount: 0,
    config: makeConfig(),
    seed: 1,
    ...overrides,
  };
}

describe('buildProcessingMetadata', () => {
  it('reports coverage, SE summary and per-essay results', () => {
    // Act
    const { metadata, results } = buildProcessingMetadata(inputs({ resamplingPassCount: 2 }));
    // Assess
    expect(metadata).toMatchObject({
      max_possible_pairs: 6,
      successful_pairs_count: 6,
      unique_coverage_complete: true,
      resampling_pass_count: 2,
      successful_comparisons: 6,
      failed_comparisons: 0,
      bt_se_summary: {
        mean_se: expect.closeTo(0.8, 12),
        max_se: 0.9,
        mean_comparisons_per_item: 3,
        isolated_items: 0,
      },
      bt_quality_flags: {
        bt_se_inflated: false,
        comparison_coverage_sparse: true,
        has_isolated_items: false,
      },
    });
    // fullCoverage: the lower index always wins, so essay 0 won all three.
    expect(results).toEqual([
      { index: 0, score: 1.5, se: 0.9, rank: 1, comparisons: 3, wins: 3 },
      { index: 1, score: 0.5, se: 0.7, rank: 2, comparisons: 3, wins: 2 },
      { index: 2, score: -0.5, se: 0.7, rank: 3, comparisons: 3, wins: 1 },
      { index: 3, score: -1.5, se: 0.9, rank: 4, comparisons: 3, wins: 0 },
    ]);
  });

  it('counts distinct judged pairs, not comparisons, and ignores failures', () => {
    // Prepare
    const comparisons = [
      makeComparison({ a: 0, b: 1 }),
      makeComparison({ a: 1, b: 0, winner: 'B', kind: 'resample', resamplePass: 1 }),
      makeComparison({ a: 2, b: 3, status: 'FAILED', winner: undefined }),
    ];
    // Act
    const { metadata, results } = buildProcessingMetadata(inputs({ comparisons }));
    // Assess
    expect(metadata.successful_pairs_count).toBe(1);
    expect(metadata.unique_coverage_complete).toBe(false);
    expect(metadata.failed_comparisons).toBe(1);
    expect(metadata.bt_se_summary.isolated_items).toBe(2);
    expect(metadata.bt_quality_flags.has_isolated_items).toBe(true);
    expect(results[0]).toMatchObject({ comparisons: 2, wins: 2 });
  });

  it('raises bt_se_inflated above BT_STANDARD_ERROR_MAX', () => {
    // Prepare
    const se = Float64Array.from([0.5, 0.5, 0.5, 2.5]);
    // Act
    const { metadata } = buildProcessingMetadata(inputs({ se }));
    // Assess
    expect(metadata.bt_quality_flags.bt_se_inflated).toBe(true);
  });

  it('breaks score ties by index', () => {
    // Prepare
    const scores = Float64Array.from([0, 1, 0, -1]);
    // Act
    const { results } = buildProcessingMetadata(inputs({ scores }));
    // Assess
    expect(results.map((r) => r.rank)).toEqual([2, 1, 3, 4]);
  });

  it('reports SSR and a Spearman–Brown corrected split-half', () => {
    // Prepare
    const comparisons = [...fullCoverage(4, 1), ...fullCoverage(4, 2), ...fullCoverage(4, 3)];
    // Act
    const { metadata } = buildProcessingMetadata(inputs({ comparisons }));
    const { reliability } = metadata;
    // Assess
    const raw = reliability.split_half_uncorrected ?? Number.NaN;
    expect(reliability.split_half).toBeCloseTo((2 * raw) / (1 + raw), 12);
    expect(reliability.split_half_splits).toBeGreaterThan(0);
    expect(reliability.ssr).toBeGreaterThan(0);
  });

  it('has no results and no reliability without any verdict', () => {
    // Prepare
    const comparisons = [makeComparison({ status: 'FAILED', winner: undefined })];
    // Act
    const report = buildProcessingMetadata(inputs({ comparisons, scores: null, se: null }));
    // Assess
    expect(report.results).toEqual([]);
    expect(report.metadata.reliability).toEqual({
      eap: null,
      ssr: null,
      split_half: null,
      split_half_uncorrected: null,
      split_half_splits: 0,
    });
    expect(report.metadata.bt_se_summary.mean_se).toBeNull();
    expect(report.metadata.successful_pairs_count).toBe(0);
    expect(report.metadata.order_effect).toBeNull();
  });

  it('reports the order effect with its interval and the first-shown win rate', () => {
    // Prepare: 6 verdicts, 4 of them for the essay shown first.
    const comparisons = [
      makeComparison({ a: 0, b: 1, winner: 'A' }),
      makeComparison({ a: 2, b: 3, winner: 'A' }),
      makeComparison({ a: 1, b: 2, winner: 'A' }),
      makeComparison({ a: 3, b: 0, winner: 'A' }),
      makeComparison({ a: 0, b: 2, winner: 'B' }),
      makeComparison({ a: 1, b: 3, winner: 'B' }),
    ];
    const orderEffect = { estimate: 0.4, se: 0.2, comparisons: 6 };
    // Act
    const { metadata } = buildProcessingMetadata(
      inputs({ comparisons, orderEffect, priorVariance: 3.5 }),
    );
    // Assess
    expect(metadata.order_effect).toEqual({
      estimate: 0.4,
      se: 0.2,
      ci95: [expect.closeTo(0.4 - 0.392, 12), expect.closeTo(0.4 + 0.392, 12)],
      first_shown_win_rate: 4 / 6,
      comparisons: 6,
    });
    expect(metadata.score_model).toEqual({ prior: 'empirical_bayes', prior_variance: 3.5 });
  });

  it('reports the EAP reliability of the scores and SEs and the conventional SSR of the data', () => {
    // Prepare: var(scores) = 1.25 (population), mean SE² = 0.25 ⇒ EAP 1.25 / 1.5.
    const scores = Float64Array.from([1.5, 0.5, -0.5, -1.5]);
    const se = Float64Array.from([0.5, 0.5, 0.5, 0.5]);
    // Act
    const { metadata } = buildProcessingMetadata(inputs({ scores, se }));
    // Assess
    expect(metadata.reliability.eap).toBeCloseTo(1.25 / 1.5, 12);
    expect(metadata.reliability.ssr).toBeCloseTo(
      conventionalSsr({
        n: 4,
        winners: Int32Array.from(fullCoverage(4), (c) => c.a),
        losers: Int32Array.from(fullCoverage(4), (c) => c.b),
      }),
      12,
    );
  });

  it('projects grades from the anchors: boundaries in metadata, grade and probabilities per essay', () => {
    // Prepare: 8 essays in score order, grades C < B < A; essays 0-1 anchored A, 3 B, 6-7 C.
    const scores = Float64Array.from([3, 2.5, 1, 0.2, -0.5, -1, -2.5, -3]);
    const se = new Float64Array(8).fill(0.3);
    const grading = { scale: ['C', 'B', 'A'], anchorGrades: [2, 2, null, 1, null, null, 0, 0] };
    // Act
    const { metadata, results } = buildProcessingMetadata(
      inputs({ essayCount: 8, scores, se, grading }),
    );
    // Assess
    expect(metadata.grades?.scale).toEqual(['C', 'B', 'A']);
    expect(metadata.grades?.anchors_per_grade).toEqual([2, 1, 2]);
    const [low, high] = metadata.grades?.boundaries ?? [];
    expect(low).toMatchObject({ lower: 'C', upper: 'B' });
    expect(high).toMatchObject({ lower: 'B', upper: 'A' });
    expect(low?.score).toBeLessThan(0.2);
    expect(low?.score).toBeGreaterThan(-2.5);
    expect(high?.score).toBeGreaterThan(0.2);
    expect(high?.score).toBeLessThan(2.5);
    expect(results[0]).toMatchObject({ grade: 2, anchor_grade: 2 });
    expect(results[7]).toMatchObject({ grade: 0, anchor_grade: 0 });
    expect(results[2]?.anchor_grade).toBeUndefined();
    for (const row of results) {
      expect(row.grade_probabilities).toHaveLength(3);
      expect(row.grade_probabilities?.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });

  it('finalizes without grades, saying why, when the anchors cannot fit the model', () => {
    // Prepare: one anchor grade only (the API refuses this; the report must not throw).
    const grading = { scale: ['C', 'B', 'A'], anchorGrades: [2, null, null, null] };
    // Act
    const { metadata, results } = buildProcessingMetadata(inputs({ grading }));
    // Assess
    expect(metadata.grades).toBeUndefined();
    expect(metadata.grades_unavailable).toMatch(/two distinct grades/);
    expect(results[0]?.grade).toBeUndefined();
  });
});
