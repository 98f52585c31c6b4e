/**
 * The production engine: the pure decision function and the finalization report of
 * `#domain/`, with result rows mapped from essay indices back to the client's essay ids.
 */
import { decide } from '#domain/decide.ts';
import { buildProcessingMetadata } from '#domain/metadata.ts';
import type { Engine } from './ports.ts';

export const domainEngine: Engine = {
  decide: (snapshot) => decide(snapshot),
  finalization: (snapshot, decision, essayIds, judgeMode = 'sync', grading = null) => {
    const scale = grading?.scale ?? null;
    const report = buildProcessingMetadata({
      essayCount: snapshot.essayCount,
      comparisons: snapshot.comparisons,
      scores: decision.scores,
      se: decision.se,
      orderEffect: decision.orderEffect,
      priorVariance: decision.priorVariance,
      reliability: decision.reliability,
      resamplingPassCount: decision.resamplingPassCount,
      config: snapshot.config,
      seed: snapshot.seed,
      judgeMode,
      grading:
        grading === null || scale === null
          ? null
          : {
              scale,
              anchorGrades: grading.anchorGrades.map((label) =>
                label === null ? null : scale.indexOf(label),
              ),
            },
    });
    const label = (grade: number | undefined) =>
      grade === undefined || scale === null ? undefined : scale[grade];
    return {
      processingMetadata: { ...report.metadata },
      results: report.results.map((row) => {
        const grade = label(row.grade);
        const anchor = label(row.anchor_grade);
        return {
          id: essayIds[row.index] ?? `#${row.index}`,
          score: row.score,
          // A fit without standard errors reports 0 rather than a value DynamoDB cannot store.
          se: row.se ?? 0,
          rank: row.rank,
          comparisons: row.comparisons,
          wins: row.wins,
          ...(grade === undefined ? {} : { grade }),
          ...(row.grade_probabilities === undefined || scale === null
            ? {}
            : {
                grade_probabilities: Object.fromEntries(
                  scale.map((name, k) => [name, row.grade_probabilities?.[k] ?? 0]),
                ),
              }),
          ...(anchor === undefined ? {} : { anchor_grade: anchor }),
        };
      }),
    };
  },
};
