/** Factories for pure-domain tests: counters, configs, comparison histories and snapshots. */
import type { CounterState } from '#domain/batch-state.ts';
import { type EngineConfig, resolveConfig } from '#domain/config.ts';
import type { DecisionSnapshot } from '#domain/decide.ts';
import type { ComparisonRecord, Counters } from '#domain/types.ts';

export function makeConfig(overrides: Readonly<Record<string, unknown>> = {}): EngineConfig {
  return resolveConfig(overrides);
}

export function makeCounters(overrides: Partial<Counters> = {}): Counters {
  return {
    submitted_comparisons: 0,
    completed_comparisons: 0,
    failed_comparisons: 0,
    ...overrides,
  };
}

export function makeCounterState(overrides: Partial<CounterState> = {}): CounterState {
  const counters = makeCounters(overrides);
  return {
    ...counters,
    total_comparisons: overrides.total_comparisons ?? counters.submitted_comparisons,
    total_budget: overrides.total_budget ?? 120,
  };
}

export function makeComparison(overrides: Partial<ComparisonRecord> = {}): ComparisonRecord {
  return {
    a: 0,
    b: 1,
    status: 'COMPLETED',
    winner: 'A',
    kind: 'coverage',
    iteration: 1,
    ...overrides,
  };
}

/** Counters that match a comparison history. */
export function countersOf(comparisons: readonly ComparisonRecord[]): Counters {
  let completed = 0;
  let failed = 0;
  for (const c of comparisons) {
    if (c.status === 'COMPLETED') completed++;
    else if (c.status === 'FAILED') failed++;
  }
  return {
    submitted_comparisons: comparisons.length,
    completed_comparisons: completed,
    failed_comparisons: failed,
  };
}

/** Every pair of `n` essays judged once (lower index wins), as one coverage history. */
export function fullCoverage(n: number, iteration = 1): ComparisonRecord[] {
  const out: ComparisonRecord[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      out.push(makeComparison({ a: i, b: j, winner: 'A', iteration }));
    }
  }
  return out;
}

export function makeSnapshot(overrides: Partial<DecisionSnapshot> = {}): DecisionSnapshot {
  const comparisons = overrides.comparisons ?? [];
  const maxIteration = comparisons.reduce((max, c) => Math.max(max, c.iteration), 0);
  return {
    essayCount: 5,
    counters: countersOf(comparisons),
    totalBudget: 120,
    currentIteration: maxIteration,
    resamplingPassCount: 0,
    status: 'RUNNING',
    comparisons,
    previousScores: null,
    config: makeConfig(),
    seed: 7,
    ...overrides,
  };
}
