/**
 * The production engine: the pure decision function and the finalization report of
 * `#domain/`, with result rows mapped from essay indices back to the client's essay ids.
 */
import { decide } from '#domain/decide.ts';
import { buildProcessingMetadata } from '#domain/metadata.ts';
import type { Engine } from './ports.ts';

export const domainEngine: Engine = {
  decide: (snapshot) => decide(snapshot),
  finalization: (snapshot, decision, essayIds, judgeMode = 'sync') => {
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
    });
    return {
      processingMetadata: { ...report.metadata },
      results: report.results.map((row) => ({
        id: essayIds[row.index] ?? `#${row.index}`,
        score: row.score,
        // A fit without standard errors reports 0 rather than a value DynamoDB cannot store.
        se: row.se ?? 0,
        rank: row.rank,
        comparisons: row.comparisons,
        wins: row.wins,
      })),
    };
  },
};
