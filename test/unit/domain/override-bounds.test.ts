/**
 * No accepted request can break a continuation step (issue 17): over the whole per-batch override
 * space, within the declared ranges (fast-check draws every per-batch setting from its range), the
 * pure engine's decision and finalization never throw, plan only valid pairs within the budget,
 * give every wave a valid deadline, and stay within the continuation function's time and memory.
 * The heavy case runs every cost-raising setting at the top of its range on a large batch.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BATCH_CONFIG_NAMES,
  type ConfigName,
  DEFAULT_CONFIG,
  type EngineConfig,
  resolveBatchConfig,
  settingRange,
} from '#domain/config.ts';
import { type Decision, type DecisionSnapshot, decide } from '#domain/decide.ts';
import { seededRandom } from '#domain/random.ts';
import type { ComparisonRecord } from '#domain/types.ts';
import { FUNCTIONS } from '#infra/functions.ts';
import { domainEngine } from '#shared/workflow/engine.ts';
import { waveDeadline } from '#shared/workflow/judge-mode.ts';

const CONTINUATION = FUNCTIONS.find((spec) => spec.name === 'continuation');
if (!CONTINUATION) throw new Error('no continuation function spec');
/** Share of the continuation's timeout one decision plus finalization may take here. */
const TIME_FRACTION = 0.5;
const TIME_BUDGET_MS = CONTINUATION.timeoutSeconds * 1000 * TIME_FRACTION;
const MEMORY_BUDGET_BYTES = CONTINUATION.memorySize * 1024 * 1024;

/** A value of one setting drawn from its declared range. */
function arbitraryFor(name: ConfigName): fc.Arbitrary<unknown> {
  const range = settingRange(name);
  switch (range.kind) {
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...range.values);
    case 'number': {
      const ends = fc.constantFrom(range.min, range.max).filter((v) => {
        if (v === range.min) return !range.minExclusive;
        return !range.maxExclusive;
      });
      const inside = range.integer
        ? fc.integer({ min: range.min, max: range.max })
        : fc.double({
            min: range.min,
            max: range.max,
            minExcluded: range.minExclusive,
            maxExcluded: range.maxExclusive,
            noNaN: true,
          });
      // The ends of a range are where things break: draw them often.
      return range.minExclusive && range.maxExclusive ? inside : fc.oneof(ends, inside);
    }
    case 'object':
      throw new Error(`${name}: no per-batch object settings are expected`);
  }
}

const overridesArbitrary = fc.record(
  Object.fromEntries(BATCH_CONFIG_NAMES.map((name) => [name, arbitraryFor(name)])),
  { requiredKeys: [] },
);

/** A batch history: `m` comparisons of `n` essays, some failed, in waves of `waveSize`. */
function history(n: number, m: number, seed: number, failRate: number): ComparisonRecord[] {
  const random = seededRandom(seed);
  const quality = Array.from({ length: n }, () => random() * 4);
  const waveSize = Math.max(1, Math.ceil(n / 2));
  const out: ComparisonRecord[] = [];
  for (let k = 0; k < m; k++) {
    const a = Math.floor(random() * n);
    const other = Math.floor(random() * (n - 1));
    const b = other >= a ? other + 1 : other;
    const iteration = 1 + Math.floor(k / waveSize);
    if (random() < failRate) {
      out.push({ a, b, status: 'FAILED', failureKind: 'timeout', kind: 'coverage', iteration });
      continue;
    }
    const p = 1 / (1 + Math.exp((quality[b] ?? 0) - (quality[a] ?? 0)));
    const winner = random() < p ? 'A' : 'B';
    out.push({ a, b, status: 'COMPLETED', winner, kind: 'coverage', iteration });
  }
  return out;
}

function snapshotOf(
  n: number,
  comparisons: ComparisonRecord[],
  config: EngineConfig,
  totalBudget: number,
  seed: number,
): DecisionSnapshot {
  let completed = 0;
  let failed = 0;
  let iteration = 0;
  for (const c of comparisons) {
    if (c.status === 'COMPLETED') completed++;
    else failed++;
    iteration = Math.max(iteration, c.iteration);
  }
  return {
    essayCount: n,
    counters: {
      submitted_comparisons: comparisons.length,
      completed_comparisons: completed,
      failed_comparisons: failed,
    },
    totalBudget,
    currentIteration: iteration,
    resamplingPassCount: 0,
    status: 'RUNNING',
    comparisons,
    previousScores: null,
    config,
    seed,
  };
}

/**
 * One continuation step's engine work: decide, then finalize when it says so. After a wave
 * decision the finalization report is built too (the scoring the next step may do), so the time is
 * an upper bound of either step.
 */
function step(snapshot: DecisionSnapshot): { elapsedMs: number; decision: Decision } {
  const ids = Array.from({ length: snapshot.essayCount }, (_, i) => `e${i}`);
  const started = performance.now();
  const decision = decide(snapshot);
  if (decision.type === 'FINALIZE_SCORING' || decision.type === 'FINALIZE_FAILURE') {
    domainEngine.finalization(snapshot, decision, ids);
  } else if (decision.scores !== null) {
    const scoring: Decision = {
      ...decision,
      type: 'FINALIZE_SCORING',
      status: 'COMPLETE_BUDGET_EXHAUSTED',
    };
    domainEngine.finalization(snapshot, scoring, ids);
  }
  return { elapsedMs: performance.now() - started, decision };
}

describe('per-batch overrides within their declared ranges', () => {
  it('never make a continuation step throw, plan an invalid wave or an invalid deadline', () => {
    // Prepare
    const cases = fc.record({
      overrides: overridesArbitrary,
      n: fc.integer({ min: 2, max: 60 }),
      perEssay: fc.integer({ min: 0, max: 12 }),
      failRate: fc.constantFrom(0, 0.2, 1),
      budget: fc.integer({ min: 1, max: DEFAULT_CONFIG.MAX_BUDGET_PER_BATCH }),
      seed: fc.integer({ min: 1, max: 1_000_000 }),
    });

    // Act + Assess
    fc.assert(
      fc.property(cases, ({ overrides, n, perEssay, failRate, budget, seed }) => {
        const config = resolveBatchConfig(overrides);
        const comparisons = history(n, Math.floor((n * perEssay) / 2), seed, failRate);
        const totalBudget = Math.max(budget, comparisons.length);
        const { elapsedMs, decision } = step(snapshotOf(n, comparisons, config, totalBudget, seed));

        const deadline = waveDeadline({ provider: 'mock', profile: 'default' }, config, new Date());
        expect(Number.isNaN(deadline.getTime())).toBe(false);
        expect(deadline.toISOString()).toMatch(/^\d{4}-/);
        if (decision.type === 'REQUEST_MORE_COMPARISONS' || decision.type === 'RESAMPLE') {
          expect(decision.pairs.length).toBeGreaterThan(0);
          expect(decision.pairs.length).toBeLessThanOrEqual(totalBudget - comparisons.length);
          for (const pair of decision.pairs) {
            expect(pair.a).not.toBe(pair.b);
            expect(Math.min(pair.a, pair.b)).toBeGreaterThanOrEqual(0);
            expect(Math.max(pair.a, pair.b)).toBeLessThan(n);
          }
        }
        expect(elapsedMs).toBeLessThan(TIME_BUDGET_MS);
      }),
      { numRuns: 60, seed: 17 },
    );
  }, 60_000);

  it('keep a large batch within the continuation time and memory with every cost at its top', () => {
    // Prepare: the settings that add work (waves, rounds, candidates, splits, attempts) at the
    // top of their ranges, stability never reached; sparse data (the EP and split-half fits'
    // slowest case) at n = 2,000, the size a test can afford on the shared machine.
    const top = (name: ConfigName) => {
      const range = settingRange(name);
      if (range.kind !== 'number') throw new Error(name);
      return range.max;
    };
    const config = resolveBatchConfig({
      SPLIT_HALF_SPLITS: top('SPLIT_HALF_SPLITS'),
      WAVE_MAX_APPEARANCES_PER_ESSAY: top('WAVE_MAX_APPEARANCES_PER_ESSAY'),
      WAVE_MIN_COMPARISONS: top('WAVE_MIN_COMPARISONS'),
      WAVE_GROWTH_FACTOR: top('WAVE_GROWTH_FACTOR'),
      PAIRING_CANDIDATE_WINDOW: top('PAIRING_CANDIDATE_WINDOW'),
      PAIRING_RANDOM_CANDIDATES: top('PAIRING_RANDOM_CANDIDATES'),
      PAIRING_EXPLORATION_COMPARISONS_PER_ESSAY: 0,
      PAIRING_FOCUS_FRACTION: 1,
      MAX_ATTEMPTS_PER_PAIR: top('MAX_ATTEMPTS_PER_PAIR'),
      MIN_COMPARISONS_FOR_STABILITY_CHECK: top('MIN_COMPARISONS_FOR_STABILITY_CHECK'),
      BT_EB_VARIANCE_PRIOR_LOG_SD: top('BT_EB_VARIANCE_PRIOR_LOG_SD'),
    });
    const n = 2000;
    const comparisons = history(n, 10_000, 5, 0.05);
    const rssBefore = process.memoryUsage().rss;

    // Act
    const { elapsedMs, decision } = step(
      snapshotOf(n, comparisons, config, DEFAULT_CONFIG.MAX_BUDGET_PER_BATCH, 5),
    );
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    // Assess
    expect(decision.type).toBe('REQUEST_MORE_COMPARISONS');
    expect(elapsedMs).toBeLessThan(TIME_BUDGET_MS);
    expect(rssGrowth).toBeLessThan(MEMORY_BUDGET_BYTES / 4);
  }, 60_000);

  it('cannot size the exact-SE matrix past a quarter of the continuation memory at the largest batch', () => {
    // Prepare: the dense matrix has min(n, BT_EXACT_SE_MAX_N)² doubles; no batch can change the
    // cap (a deployment setting), and the deployment's own range is bounded.
    const cap = settingRange('BT_EXACT_SE_MAX_N');
    if (cap.kind !== 'number') throw new Error('BT_EXACT_SE_MAX_N');

    // Act
    const side = Math.min(DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH, cap.max);
    const bytes = 8 * side * side;

    // Assess
    expect(BATCH_CONFIG_NAMES).not.toContain('BT_EXACT_SE_MAX_N');
    expect(bytes).toBeLessThanOrEqual(MEMORY_BUDGET_BYTES / 4);
  });
});
