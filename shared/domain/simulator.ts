/**
 * In-process batch runner: whole batches through the same `decide` the continuation step uses,
 * judged by the pure mock judge. Every wave: decide → record the pairs as PENDING → judge each →
 * record the callbacks → decide again. The engine's test bench and the source of every efficiency
 * figure (`npm run sim`). Simulated time (sim-clock.ts) gives each run its wall time: waves times
 * the slowest callback of each, with lost callbacks settled by the sweeper after their deadline.
 */
import { type CounterState, checkInvariants, completionDenominator } from '#domain/batch-state.ts';
import { defaultBudget, type EngineConfig, resolveConfig } from '#domain/config.ts';
import {
  type DecideDependencies,
  type Decision,
  type DecisionType,
  decide,
  type WavePair,
} from '#domain/decide.ts';
import {
  type AnchorObservation,
  fitGradeBoundaries,
  type GradeModel,
  gradeProbabilities,
  mostLikelyGrade,
  normalQuantile,
} from '#domain/grades.ts';
import { buildProcessingMetadata, type FinalReport } from '#domain/metadata.ts';
import {
  type MockJudgeRequest,
  type MockProfileName,
  mockJudge,
  type ResolvedMockJudge,
  resolveMockJudge,
} from '#domain/mock-judge.ts';
import { pairKey } from '#domain/pairing.ts';
import { hashSeed, normal, seededRandom, shuffleInPlace } from '#domain/random.ts';
import { kendallTau, pearson, spearman } from '#domain/reliability.ts';
import {
  type LatencyDistribution,
  sampleLatency,
  timeWave,
  type WaveComparison,
} from '#domain/sim-clock.ts';
import type {
  BatchStatus,
  ComparisonRecord,
  Counters,
  FailureReason,
  Winner,
} from '#domain/types.ts';

export interface SimulationOptions {
  n: number;
  config: EngineConfig;
  seed: number;
  /** Total comparisons allowed; default `defaultBudget(n, config)`. */
  budget?: number;
  /** SD of the true latent qualities (logits), drawn N(0, sd) from the seed. Default 2. */
  sd?: number;
  /** True qualities; overrides `sd`. */
  qualities?: readonly number[];
  profile?: MockProfileName;
  /** Overrides the profile's failure rate. */
  failureRate?: number;
  /** Simulated time: judge latency, lost callbacks, concurrency, sweeper (defaults below). */
  time?: SimulatedTime;
  /** Overrides the profile's position bias (logit bonus of the essay shown first). */
  positionBias?: number;
  /**
   * Judge every comparison in both orders (two judge calls): the verdict is the essay both calls
   * picked; when they disagree (an order flip) a seeded coin decides, since the mock states no
   * confidence to break the tie with. The record carries `usage.order_flip` as the engine's do.
   */
  judgeBothOrders?: boolean;
  /**
   * Grades from anchors: true grades are the bands of the true quality between fixed boundaries
   * (the G-quantiles of N(0, sd²), so grades are equally likely); `anchorsPerGrade` essays of each
   * grade (fewer when a grade has fewer) serve as anchors; every other essay is graded by the
   * model and compared with its true grade (`run.grades`).
   */
  grading?: { anchorsPerGrade: number; grades: number };
  /** Compute split-half reliability (costs SPLIT_HALF_SPLITS × 2 fits). Default true. */
  splitHalf?: boolean;
  /** Replaces the planner or fitter (tests of the simulator's own checks). */
  decideDependencies?: DecideDependencies;
  /** Called after every state change (wave submitted, each callback), e.g. to check invariants. */
  observe?: (event: SimulationEvent) => void;
}

/** How time passes in a simulated batch (sim-clock.ts); every field has a default. */
export interface SimulatedTime {
  /** Judge latency; default the mock profile's own (log-normal around its latency_ms). */
  latency?: LatencyDistribution;
  /** Share of callbacks lost (the judge worked, nothing arrives); default 0. */
  lossRate?: number;
  /** Judge calls in flight at once; default SIMULATED_JUDGE_CONCURRENCY. */
  concurrency?: number;
  /** Seconds between sweeper runs; default 60 (the deployed schedule). */
  sweeperPeriodSeconds?: number;
  /** Seconds of one continuation step (read, decide, write the wave); default 1. */
  stepSeconds?: number;
}

/**
 * The deployed judge's calls in flight: 5 concurrent invocations (infra judgeMaxConcurrency) of 5
 * records each, processed in parallel.
 */
export const SIMULATED_JUDGE_CONCURRENCY = 25;
export const SIMULATED_SWEEPER_PERIOD_SECONDS = 60;
export const SIMULATED_STEP_SECONDS = 1;

export type SimulationEvent =
  | { type: 'decision'; decision: Decision; counters: Counters }
  | { type: 'submitted'; counters: Counters; waveSize: number }
  | { type: 'callback'; counters: Counters };

export interface SimulationRun {
  status: BatchStatus;
  failure_reason: FailureReason | null;
  comparisons: number;
  completed: number;
  failed: number;
  resampling_pass_count: number;
  completion_denominator: number;
  /** Decision types in the order they were taken. */
  decisions: DecisionType[];
  spearman: number | null;
  kendall: number | null;
  ssr: number | null;
  split_half: number | null;
  /** Squared Pearson correlation of the estimated and true scores. */
  true_r2: number | null;
  /** Waves planned (continuation steps that submitted comparisons). */
  waves: number;
  /** Simulated seconds from the first continuation step to the final decision. */
  simulated_wall_s: number;
  /** Comparisons failed with `timeout` by the deadline (lost or late callbacks). */
  timed_out: number;
  /** The EAP reliability the batch reports. */
  eap_reliability: number | null;
  /** Share of essays whose 95 % interval (score ± 1.96 SE) covers the centred true quality. */
  coverage: number | null;
  /** Estimated order effect and its SE (null when not estimated). */
  order_effect: number | null;
  order_effect_se: number | null;
  /** Grade agreement and calibration (with `grading`; null otherwise or without scores). */
  grades: GradeEvaluation | null;
}

export interface GradeEvaluation {
  anchors: number;
  /** Essays graded by the model (every essay that is not an anchor). */
  graded: number;
  /** Share whose most probable grade is the true grade. */
  exact: number;
  /** Share within one grade of the true grade. */
  adjacent: number;
  /** Mean over essays of Σ_k (p_k − [k = true])² (0 perfect; 1 − 1/G for uniform guesses… up to 2). */
  brier: number;
  /**
   * Calibration of the stated probabilities: every (essay, grade) probability binned in tenths;
   * `error` is the mean |stated − observed| over bins weighted by their size (0 = calibrated).
   */
  calibration_error: number;
  calibration: { bin: string; count: number; stated: number; observed: number }[];
  /** The same figures with the true boundaries known (only the scores' uncertainty left). */
  oracle_exact: number;
  oracle_brier: number;
  /** Estimated boundaries minus the true ones (in the batch's centred scale). */
  boundary_errors: number[];
}

export interface SimulationResult {
  run: SimulationRun;
  budget: number;
  qualities: Float64Array;
  history: ComparisonRecord[];
  finalDecision: Decision;
  report: FinalReport;
}

/** Default SD of simulated true qualities (logits); docs/pairing.md "Published figures" use 2. */
export const DEFAULT_SIMULATION_SD = 2;

function trueQualities(options: SimulationOptions): Float64Array {
  if (options.qualities) {
    if (options.qualities.length !== options.n) {
      throw new RangeError(`qualities has ${options.qualities.length} entries for n=${options.n}`);
    }
    return Float64Array.from(options.qualities);
  }
  const sd = options.sd ?? DEFAULT_SIMULATION_SD;
  const rng = seededRandom(options.seed);
  return Float64Array.from({ length: options.n }, () => sd * normal(rng));
}

function counterState(counters: Counters, budget: number): CounterState {
  return { ...counters, total_comparisons: counters.submitted_comparisons, total_budget: budget };
}

export function simulateBatch(options: SimulationOptions): SimulationResult {
  const { n, config, seed } = options;
  const budget = options.budget ?? defaultBudget(n, config);
  const qualities = trueQualities(options);
  const judge = resolveMockJudge({
    provider: 'mock',
    profile: options.profile ?? 'default',
    seed,
    ...(options.failureRate === undefined ? {} : { failure_rate: options.failureRate }),
    ...(options.positionBias === undefined ? {} : { position_bias: options.positionBias }),
  });

  const history: ComparisonRecord[] = [];
  const counters: Counters = {
    submitted_comparisons: 0,
    completed_comparisons: 0,
    failed_comparisons: 0,
  };
  let iteration = 0;
  let resamplingPassCount = 0;
  const time = options.time ?? {};
  const clock = {
    now: 0,
    timedOut: 0,
    latencyRng: seededRandom(hashSeed('latency', seed)),
    lossRng: seededRandom(hashSeed('loss', seed)),
    sweeper: {
      period: time.sweeperPeriodSeconds ?? SIMULATED_SWEEPER_PERIOD_SECONDS,
      phase:
        seededRandom(hashSeed('sweeper', seed))() *
        (time.sweeperPeriodSeconds ?? SIMULATED_SWEEPER_PERIOD_SECONDS),
    },
  };
  const step = time.stepSeconds ?? SIMULATED_STEP_SECONDS;
  let previousScores: Float64Array | null = null;
  const decisions: DecisionType[] = [];
  // Pairs ever attempted / ever judged, to check every wave's shape (catches planner regressions).
  const attempted = new Set<number>();
  const succeeded = new Set<number>();
  const assertInvariants = (before: CounterState) => {
    const violations = checkInvariants(before, counterState(counters, budget));
    if (violations.length > 0) throw new Error(`invariant violated: ${violations.join('; ')}`);
  };

  for (;;) {
    const decision = decide(
      {
        essayCount: n,
        counters: { ...counters },
        totalBudget: budget,
        currentIteration: iteration,
        resamplingPassCount,
        status: 'RUNNING',
        comparisons: history,
        previousScores,
        config,
        seed,
      },
      options.decideDependencies,
    );
    decisions.push(decision.type);
    clock.now += step;
    options.observe?.({ type: 'decision', decision, counters: { ...counters } });
    resamplingPassCount = decision.resamplingPassCount;
    if (decision.type === 'FINALIZE_SCORING' || decision.type === 'FINALIZE_FAILURE') {
      return finish(options, decision, {
        budget,
        qualities,
        history,
        decisions,
        counters,
        waves: iteration,
        wallSeconds: clock.now,
        timedOut: clock.timedOut,
      });
    }
    if (decision.type === 'WAIT') {
      // Every callback is in before each decision here, so WAIT would be an engine bug.
      throw new Error(`unexpected WAIT (${decision.reason}) with every callback in`);
    }
    assertWaveShape(n, decision.pairs, attempted, succeeded, config.WAVE_MAX_APPEARANCES_PER_ESSAY);
    previousScores = decision.scores;
    iteration++;
    const before = counterState(counters, budget);
    const start = history.length;
    for (const pair of decision.pairs) {
      const record: ComparisonRecord = {
        a: pair.a,
        b: pair.b,
        status: 'PENDING',
        kind: pair.kind,
        iteration,
        attempt: pair.attempt,
      };
      if (pair.resamplePass !== undefined) record.resamplePass = pair.resamplePass;
      history.push(record);
      attempted.add(pairKey(pair.a, pair.b));
    }
    counters.submitted_comparisons += decision.pairs.length;
    assertInvariants(before);
    options.observe?.({
      type: 'submitted',
      counters: { ...counters },
      waveSize: decision.pairs.length,
    });
    const outcomes = history.slice(start).map((record, k) => {
      const request: MockJudgeRequest = {
        comparisonKey: `${iteration}:${k}`,
        attempt: record.attempt ?? 1,
        a: { id: String(record.a), quality: qualities[record.a] as number },
        b: { id: String(record.b), quality: qualities[record.b] as number },
      };
      return options.judgeBothOrders
        ? judgeBothOrders(judge, request)
        : { ...mockJudge(judge, request), orderFlip: undefined };
    });
    const timing = timeWave({
      start: clock.now,
      comparisons: outcomes.map(
        (outcome): WaveComparison => ({
          latency: time.latency
            ? sampleLatency(time.latency, clock.latencyRng)
            : outcome.latencyMs / 1000,
          lost: clock.lossRng() < (time.lossRate ?? 0),
        }),
      ),
      concurrency: time.concurrency ?? SIMULATED_JUDGE_CONCURRENCY,
      deadlineSeconds: config.COMPARISON_DEADLINE_SECONDS,
      sweeper: clock.sweeper,
    });
    clock.now = timing.end;
    for (let k = start; k < history.length; k++) {
      const record = history[k] as ComparisonRecord;
      const timedOut = timing.timedOut[k - start] === 1;
      const outcome: (typeof outcomes)[number] = timedOut
        ? { ok: false, failureKind: 'timeout', latencyMs: 0, orderFlip: undefined }
        : (outcomes[k - start] as (typeof outcomes)[number]);
      if (timedOut) clock.timedOut++;
      const beforeCallback = counterState(counters, budget);
      if (outcome.ok) {
        record.status = 'COMPLETED';
        record.winner = outcome.winner;
        if (outcome.orderFlip !== undefined) record.usage = { order_flip: outcome.orderFlip };
        succeeded.add(pairKey(record.a, record.b));
        counters.completed_comparisons++;
      } else {
        record.status = 'FAILED';
        record.failureKind = outcome.failureKind;
        counters.failed_comparisons++;
      }
      assertInvariants(beforeCallback);
      options.observe?.({ type: 'callback', counters: { ...counters } });
    }
  }
}

/**
 * Both orders with the mock: the pair as shown and swapped (its own comparison key), the verdict
 * both agree on, a seeded coin when they disagree (the mock has no stated confidence).
 */
function judgeBothOrders(
  judge: ResolvedMockJudge,
  request: MockJudgeRequest,
): ReturnType<typeof mockJudge> & { orderFlip: boolean | undefined } {
  const shown = mockJudge(judge, request);
  if (!shown.ok) return { ...shown, orderFlip: undefined };
  const swapped = mockJudge(judge, {
    ...request,
    comparisonKey: `${request.comparisonKey}:swapped`,
    a: request.b,
    b: request.a,
  });
  if (!swapped.ok) return { ...swapped, orderFlip: undefined };
  const swappedWinner: Winner = swapped.winner === 'A' ? 'B' : 'A';
  if (swappedWinner === shown.winner) return { ...shown, orderFlip: false };
  const coin = seededRandom(
    hashSeed('both-orders', judge.seed, request.comparisonKey, request.attempt),
  );
  return { ...shown, winner: coin() < 0.5 ? 'A' : 'B', orderFlip: true };
}

/**
 * A wave must be non-empty, use each essay at most `maxAppearances` times and each pair at most
 * once, and plan coverage only for new pairs, resampling only for judged pairs and retries only for
 * attempted pairs without a verdict.
 */
function assertWaveShape(
  n: number,
  pairs: readonly WavePair[],
  attempted: ReadonlySet<number>,
  succeeded: ReadonlySet<number>,
  maxAppearances: number,
): void {
  if (pairs.length === 0) throw new Error('wave with zero pairs');
  const used = new Map<number, number>();
  const inWave = new Set<number>();
  for (const { a, b, kind } of pairs) {
    const valid = (i: number) => Number.isInteger(i) && i >= 0 && i < n;
    if (!valid(a) || !valid(b) || a === b) throw new Error(`invalid pair (${a}, ${b})`);
    for (const essay of [a, b]) {
      const count = (used.get(essay) ?? 0) + 1;
      if (count > maxAppearances) {
        throw new Error(`essay ${essay} in more than ${maxAppearances} pairs of one wave`);
      }
      used.set(essay, count);
    }
    const key = pairKey(a, b);
    if (inWave.has(key)) throw new Error(`pair (${a}, ${b}) twice in one wave`);
    inWave.add(key);
    const fine =
      kind === 'coverage'
        ? !attempted.has(key)
        : kind === 'resample'
          ? succeeded.has(key)
          : attempted.has(key) && !succeeded.has(key);
    if (!fine) throw new Error(`${kind} pair (${a}, ${b}) does not fit its kind`);
  }
}

function finish(
  options: SimulationOptions,
  decision: Extract<Decision, { type: 'FINALIZE_SCORING' | 'FINALIZE_FAILURE' }>,
  state: {
    budget: number;
    qualities: Float64Array;
    history: ComparisonRecord[];
    decisions: DecisionType[];
    counters: Counters;
    waves: number;
    wallSeconds: number;
    timedOut: number;
  },
): SimulationResult {
  const { n, config, seed } = options;
  const { scores, se } = decision;
  const report = buildProcessingMetadata({
    essayCount: n,
    comparisons: state.history,
    scores,
    se,
    orderEffect: decision.orderEffect,
    priorVariance: decision.priorVariance,
    reliability: decision.reliability,
    resamplingPassCount: decision.resamplingPassCount,
    config: options.splitHalf === false ? { ...config, SPLIT_HALF_SPLITS: 1 } : config,
    seed,
  });
  const correlation = scores === null ? null : pearson(scores, state.qualities);
  const run: SimulationRun = {
    status: decision.type === 'FINALIZE_SCORING' ? decision.status : 'FAILED',
    failure_reason: decision.type === 'FINALIZE_FAILURE' ? decision.failureReason : null,
    comparisons: state.counters.submitted_comparisons,
    completed: state.counters.completed_comparisons,
    failed: state.counters.failed_comparisons,
    resampling_pass_count: decision.resamplingPassCount,
    completion_denominator: completionDenominator({
      essayCount: n,
      totalBudget: state.budget,
      config,
    }),
    decisions: state.decisions,
    spearman: scores === null ? null : spearman(scores, state.qualities),
    kendall: scores === null ? null : kendallTau(scores, state.qualities),
    ssr: report.metadata.reliability.ssr,
    split_half: options.splitHalf === false ? null : report.metadata.reliability.split_half,
    true_r2: correlation === null ? null : correlation * correlation,
    waves: state.waves,
    simulated_wall_s: Math.round(state.wallSeconds * 10) / 10,
    timed_out: state.timedOut,
    eap_reliability: report.metadata.reliability.eap,
    coverage: scores === null || se === null ? null : intervalCoverage(scores, se, state.qualities),
    order_effect: decision.orderEffect?.estimate ?? null,
    order_effect_se: decision.orderEffect?.se ?? null,
    grades:
      options.grading === undefined || scores === null || se === null
        ? null
        : evaluateGrades(
            options.grading,
            scores,
            se,
            state.qualities,
            options.sd ?? DEFAULT_SIMULATION_SD,
            seed,
          ),
  };
  return {
    run,
    budget: state.budget,
    qualities: state.qualities,
    history: state.history,
    finalDecision: decision,
    report,
  };
}

/**
 * Grades in simulation (see `SimulationOptions.grading`): picks anchors of every true grade, fits
 * the grade model on their scores and grades the other essays.
 */
export function evaluateGrades(
  grading: { anchorsPerGrade: number; grades: number },
  scores: Float64Array,
  se: Float64Array,
  qualities: Float64Array,
  sd: number,
  seed: number,
): GradeEvaluation {
  const { grades: G, anchorsPerGrade } = grading;
  const n = scores.length;
  let trueMean = 0;
  for (let i = 0; i < n; i++) trueMean += qualities[i] as number;
  trueMean /= n;
  // Fixed boundaries on the true scale; the scores are centred, so compare in centred terms.
  const trueBoundaries = Array.from({ length: G - 1 }, (_, k) => sd * normalQuantile((k + 1) / G));
  const trueGrade = Int32Array.from(qualities, (q) => trueBoundaries.filter((c) => c < q).length);
  const rng = seededRandom(hashSeed('anchors', seed));
  const isAnchor = new Uint8Array(n);
  const anchors: AnchorObservation[] = [];
  for (let g = 0; g < G; g++) {
    const members: number[] = [];
    for (let i = 0; i < n; i++) if (trueGrade[i] === g) members.push(i);
    shuffleInPlace(members, rng);
    for (const i of members.slice(0, anchorsPerGrade)) {
      isAnchor[i] = 1;
      anchors.push({ score: scores[i] as number, se: se[i] as number, grade: g });
    }
  }
  let spread = 0;
  for (let i = 0; i < n; i++) spread += (scores[i] as number) ** 2;
  spread = Math.sqrt(spread / n);
  const model = fitGradeBoundaries(anchors, { grades: G, spread });
  const oracle: GradeModel = {
    grades: G,
    boundaries: trueBoundaries.map((c) => ({ estimate: c - trueMean, se: 0 })),
    gradingNoise: 0,
    anchorsPerGrade: model.anchorsPerGrade,
    converged: true,
  };
  const bins = Array.from({ length: 10 }, () => ({ count: 0, stated: 0, observed: 0 }));
  let graded = 0;
  let exact = 0;
  let adjacent = 0;
  let brier = 0;
  let oracleExact = 0;
  let oracleBrier = 0;
  const brierOf = (p: Float64Array, truth: number) => {
    let total = 0;
    for (let k = 0; k < G; k++) total += ((p[k] as number) - (k === truth ? 1 : 0)) ** 2;
    return total;
  };
  for (let i = 0; i < n; i++) {
    if (isAnchor[i] === 1) continue;
    graded++;
    const truth = trueGrade[i] as number;
    const p = gradeProbabilities(scores[i] as number, se[i] as number, model);
    const predicted = mostLikelyGrade(p);
    if (predicted === truth) exact++;
    if (Math.abs(predicted - truth) <= 1) adjacent++;
    brier += brierOf(p, truth);
    for (let k = 0; k < G; k++) {
      const stated = p[k] as number;
      const bin = bins[Math.min(9, Math.floor(stated * 10))] as (typeof bins)[number];
      bin.count++;
      bin.stated += stated;
      bin.observed += k === truth ? 1 : 0;
    }
    const q = gradeProbabilities(scores[i] as number, se[i] as number, oracle);
    if (mostLikelyGrade(q) === truth) oracleExact++;
    oracleBrier += brierOf(q, truth);
  }
  let totalBinned = 0;
  let calibrationError = 0;
  for (const bin of bins) {
    totalBinned += bin.count;
    if (bin.count > 0) calibrationError += Math.abs(bin.stated - bin.observed);
  }
  const share = (x: number) => (graded === 0 ? 0 : x / graded);
  return {
    anchors: anchors.length,
    graded,
    exact: share(exact),
    adjacent: share(adjacent),
    brier: share(brier),
    calibration_error: totalBinned === 0 ? 0 : calibrationError / totalBinned,
    calibration: bins.map((bin, b) => ({
      bin: `${(b / 10).toFixed(1)}-${((b + 1) / 10).toFixed(1)}`,
      count: bin.count,
      stated: bin.count === 0 ? 0 : bin.stated / bin.count,
      observed: bin.count === 0 ? 0 : bin.observed / bin.count,
    })),
    oracle_exact: share(oracleExact),
    oracle_brier: share(oracleBrier),
    boundary_errors: model.boundaries.map(
      (b, k) => b.estimate - ((trueBoundaries[k] as number) - trueMean),
    ),
  };
}

/** Share of essays whose score ± 1.96·SE covers its true quality (both centred on their means). */
export function intervalCoverage(
  scores: Float64Array,
  se: Float64Array,
  qualities: Float64Array,
): number {
  const n = scores.length;
  if (n === 0) return 0;
  let trueMean = 0;
  let scoreMean = 0;
  for (let i = 0; i < n; i++) {
    trueMean += qualities[i] as number;
    scoreMean += scores[i] as number;
  }
  trueMean /= n;
  scoreMean /= n;
  let covered = 0;
  for (let i = 0; i < n; i++) {
    const error = (scores[i] as number) - scoreMean - ((qualities[i] as number) - trueMean);
    if (Math.abs(error) <= 1.96 * (se[i] as number)) covered++;
  }
  return covered / n;
}

const NUMERIC_FIELDS = [
  'comparisons',
  'completed',
  'failed',
  'resampling_pass_count',
  'completion_denominator',
  'spearman',
  'kendall',
  'ssr',
  'split_half',
  'true_r2',
  'waves',
  'simulated_wall_s',
  'timed_out',
  'eap_reliability',
  'coverage',
  'order_effect',
  'order_effect_se',
] as const;

export type SimulationSummary = Record<(typeof NUMERIC_FIELDS)[number], number | null>;

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Medians of the numeric fields over runs (nulls, e.g. from failed runs, are left out). */
export function summarizeRuns(runs: readonly SimulationRun[]): SimulationSummary {
  const summary = {} as SimulationSummary;
  for (const field of NUMERIC_FIELDS) {
    summary[field] = median(
      runs.map((r) => r[field]).filter((v): v is number => v !== null && Number.isFinite(v)),
    );
  }
  return summary;
}

// --- what `npm run sim` runs (its flags are parsed in bench/sim-args.ts) -------------------------

/** Several simulated batches of one setting: run i uses seed `seed + i`. */
export interface SimulationsOptions {
  n: number;
  sd: number;
  /** Budget ceil(perEssay · n / 2); at most one of perEssay and budget. */
  perEssay?: number;
  budget?: number;
  strategy?: 'adaptive' | 'random';
  profile: MockProfileName;
  failureRate?: number;
  /** Simulated time (judge latency, lost callbacks, concurrency, sweeper). */
  time?: SimulatedTime;
  /** Position bias of the mock judge (logits in favour of the essay shown first). */
  positionBias?: number;
  judgeBothOrders?: boolean;
  /** Anchors per grade and grades on the scale (given together). */
  anchors?: number;
  grades?: number;
  seed: number;
  runs: number;
  /** Config overrides by name (validated by resolveConfig). */
  overrides: Record<string, unknown>;
}

/** Runs the batches the options describe: run i uses seed X+i. */
export function runSimulations(options: SimulationsOptions): {
  runs: SimulationRun[];
  summary: ReturnType<typeof summarizeRuns>;
  /** With --anchors/--grades: medians of the grade figures over runs. */
  grades?: GradeSummary;
  /** With a position bias: how the order-effect estimate recovered it. */
  order_effect?: OrderEffectSummary;
} {
  const config = resolveConfig({
    ...options.overrides,
    ...(options.strategy ? { PAIRING_STRATEGY: options.strategy } : {}),
  });
  const budget =
    options.budget ??
    (options.perEssay === undefined ? undefined : Math.ceil((options.perEssay * options.n) / 2));
  const runs: SimulationRun[] = [];
  for (let i = 0; i < options.runs; i++) {
    const result = simulateBatch({
      n: options.n,
      config,
      seed: options.seed + i,
      sd: options.sd,
      profile: options.profile,
      ...(budget === undefined ? {} : { budget }),
      ...(options.failureRate === undefined ? {} : { failureRate: options.failureRate }),
      ...(options.time === undefined ? {} : { time: options.time }),
      ...(options.positionBias === undefined ? {} : { positionBias: options.positionBias }),
      ...(options.judgeBothOrders ? { judgeBothOrders: true } : {}),
      ...(options.anchors === undefined || options.grades === undefined
        ? {}
        : { grading: { anchorsPerGrade: options.anchors, grades: options.grades } }),
    });
    runs.push(result.run);
  }
  return {
    runs,
    summary: summarizeRuns(runs),
    ...(options.anchors === undefined ? {} : { grades: summarizeGrades(runs) }),
    ...(options.positionBias === undefined
      ? {}
      : { order_effect: summarizeOrderEffect(runs, options.positionBias) }),
  };
}

export interface GradeSummary {
  runs: number;
  /** Medians over runs. */
  anchors: number | null;
  exact: number | null;
  adjacent: number | null;
  brier: number | null;
  calibration_error: number | null;
  oracle_exact: number | null;
  oracle_brier: number | null;
  /** Median over runs of the largest |estimated − true boundary|. */
  worst_boundary_error: number | null;
  /** Calibration bins pooled over runs: stated probability vs observed frequency. */
  calibration: { bin: string; count: number; stated: number; observed: number }[];
}

/** Medians of the grade figures over runs, and the calibration table pooled over them. */
export function summarizeGrades(runs: readonly SimulationRun[]): GradeSummary {
  const evaluations = runs.map((r) => r.grades).filter((g): g is GradeEvaluation => g !== null);
  const pick = (f: (g: GradeEvaluation) => number) => median(evaluations.map(f));
  const pooled = new Map<string, { count: number; stated: number; observed: number }>();
  for (const g of evaluations) {
    for (const bin of g.calibration) {
      const total = pooled.get(bin.bin) ?? { count: 0, stated: 0, observed: 0 };
      total.count += bin.count;
      total.stated += bin.stated * bin.count;
      total.observed += bin.observed * bin.count;
      pooled.set(bin.bin, total);
    }
  }
  return {
    runs: evaluations.length,
    anchors: pick((g) => g.anchors),
    exact: pick((g) => g.exact),
    adjacent: pick((g) => g.adjacent),
    brier: pick((g) => g.brier),
    calibration_error: pick((g) => g.calibration_error),
    oracle_exact: pick((g) => g.oracle_exact),
    oracle_brier: pick((g) => g.oracle_brier),
    worst_boundary_error: pick((g) => Math.max(0, ...g.boundary_errors.map(Math.abs))),
    calibration: [...pooled].map(([bin, t]) => ({
      bin,
      count: t.count,
      stated: t.count === 0 ? 0 : t.stated / t.count,
      observed: t.count === 0 ? 0 : t.observed / t.count,
    })),
  };
}

export interface OrderEffectSummary {
  injected: number;
  median_estimate: number | null;
  median_se: number | null;
  /** Share of runs whose estimate ± 1.96 SE contains the injected bias. */
  covered: number | null;
}

export function summarizeOrderEffect(
  runs: readonly SimulationRun[],
  injected: number,
): OrderEffectSummary {
  const estimated = runs.filter((r) => r.order_effect !== null && r.order_effect_se !== null);
  const covered = estimated.filter(
    (r) => Math.abs((r.order_effect as number) - injected) <= 1.96 * (r.order_effect_se as number),
  ).length;
  return {
    injected,
    median_estimate: median(estimated.map((r) => r.order_effect as number)),
    median_se: median(estimated.map((r) => r.order_effect_se as number)),
    covered: estimated.length === 0 ? null : covered / estimated.length,
  };
}
