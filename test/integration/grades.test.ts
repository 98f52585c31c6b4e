/**
 * Grades from anchor essays end to end on the local cloud (docs/grades.md): a batch declares its
 * grade scale, some essays carry the grade they are known to deserve, and after scoring every
 * essay gets a projected grade and its grade probabilities; the boundaries and the judge's order
 * effect are in processing_metadata. Bad anchors are refused with 400 naming the field.
 */

import { describe, expect, it } from 'vitest';
import { ApiError } from '#cli/api.ts';
import { isSuccess } from '#domain/types.ts';
import { runBatch } from '#test/helpers/batch-runner.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { integrationTarget } from '#test/helpers/integration-target.ts';

const SCALE = ['D', 'C', 'B', 'A'];

describe('grades from anchors', () => {
  it('projects a grade and grade probabilities for every essay from anchors the judge never sees', async () => {
    // Prepare: 24 essays; the two best and two worst of each quarter by latent quality anchor the
    // four grades (the mock judge decides from the quality; position bias 0.4 logits).
    const { api } = await integrationTarget();
    const essays = makeEssays(24, { seed: 11, qualitySd: 2 });
    const byQuality = [...essays].sort(
      (x, y) => (x.metadata?.quality ?? 0) - (y.metadata?.quality ?? 0),
    );
    const gradeOf = new Map<string, string>();
    byQuality.forEach((essay, rank) => {
      const grade = SCALE[Math.floor(rank / 6)] as string;
      if (rank % 6 === 1 || rank % 6 === 4) gradeOf.set(essay.id, grade);
    });
    const anchored = essays.map((essay) =>
      gradeOf.has(essay.id) ? { ...essay, anchor_grade: gradeOf.get(essay.id) } : essay,
    );

    // Act
    const run = await runBatch(api, {
      essays: anchored,
      grade_scale: SCALE,
      budget: 240,
      judge: { provider: 'mock', profile: 'default', latency_ms: 10, position_bias: 0.4, seed: 4 },
    });
    const results = await api.getResults(run.batchId);

    // Assess: the batch finished, with the scale and its three boundaries in order.
    expect(isSuccess(run.final.status)).toBe(true);
    expect(run.final.grade_scale).toEqual(SCALE);
    const meta = run.final.processing_metadata;
    const boundaries = meta.grades?.boundaries ?? [];
    expect(boundaries.map((b) => `${b.lower}|${b.upper}`)).toEqual(['D|C', 'C|B', 'B|A']);
    for (let k = 1; k < boundaries.length; k++) {
      expect(boundaries[k]!.score).toBeGreaterThan(boundaries[k - 1]!.score);
    }
    expect(meta.grades?.anchors_per_grade).toEqual([2, 2, 2, 2]);
    expect(meta.order_effect?.comparisons).toBe(run.final.completed_comparisons);
    expect(meta.reliability?.eap).toBeGreaterThan(0.5);
    // Every essay has a grade on the scale and probabilities over the scale summing to 1.
    expect(results.essays).toHaveLength(24);
    for (const row of results.essays) {
      expect(SCALE).toContain(row.grade);
      expect(Object.keys(row.grade_probabilities ?? {})).toEqual(SCALE);
      const total = Object.values(row.grade_probabilities ?? {}).reduce((a, b) => a + b, 0);
      expect(total).toBeCloseTo(1, 6);
      expect(row.anchor_grade).toBe(gradeOf.get(row.id));
    }
    // The projection is informative: most essays land within one grade of their quarter.
    const quarterOf = new Map(byQuality.map((essay, rank) => [essay.id, Math.floor(rank / 6)]));
    const within = results.essays.filter(
      (row) => Math.abs(SCALE.indexOf(row.grade ?? '') - (quarterOf.get(row.id) ?? -9)) <= 1,
    ).length;
    expect(within).toBeGreaterThanOrEqual(20);
  });

  it.each([
    ['an anchor grade off the scale', 'essays[1].anchor_grade', ['B', 'A'], ['A', 'A+']],
    ['anchors of a single grade', 'essays', ['B', 'A'], ['A', 'A']],
    ['anchors without a scale', 'grade_scale', undefined, ['A', 'B']],
  ])('refuses %s with 400 naming %s', async (_name, field, scale, grades) => {
    // Prepare
    const { api } = await integrationTarget();
    const essays = makeEssays(3).map((essay, index) =>
      index < grades.length ? { ...essay, anchor_grade: grades[index] } : essay,
    );

    // Act
    const error = await api
      .createBatch({
        essays,
        ...(scale === undefined ? {} : { grade_scale: scale }),
        judge: { provider: 'mock', profile: 'default' },
      })
      .then(
        () => null,
        (caught: unknown) => caught,
      );

    // Assess
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).body).toMatchObject({ error: 'validation_error', field });
  });
});
