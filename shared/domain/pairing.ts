/**
 * Pair-wave planning: which pairs of essays to judge next, and in which A/B order.
 *
 * A wave is a set of pairs in which every essay appears at most once, so one slow or failing essay
 * never holds up more than one comparison and every essay's comparison count grows evenly.
 *
 * Three kinds of wave (see `WavePlanRequest.kind`):
 * - `coverage`: pairs never attempted before. Coverage never repeats a pair, so repeated coverage
 *   waves reach full coverage (all n·(n−1)/2 pairs) exactly.
 * - `resample`: pairs that already have a verdict, re-judged once per resampling pass with the A/B
 *   order of their last verdict flipped (cancels a judge's position bias on that pair).
 * - `retry`: pairs whose every attempt failed, while attempts < MAX_ATTEMPTS_PER_PAIR.
 *
 * Coverage strategies:
 * - `random`: a random maximal matching over never-attempted pairs (the baseline).
 * - `adaptive`: Thompson-style. Each essay's score is drawn from N(score, (scale·se)²), essays are
 *   sorted by the draw and each essay is matched with its nearest unmatched neighbour in that order
 *   that it has not met yet. Near-equal pairs carry the most information (p(1−p) is largest at
 *   p = ½), and the draw makes uncertain essays travel further, which keeps the comparison graph
 *   well connected (pairing by the point scores alone measured clearly worse). A wave includes
 *   only the PAIRING_FOCUS_FRACTION of essays whose rank is most uncertain (see
 *   `focusParticipants`): essays in the sparse tails are ranked correctly with fewer comparisons.
 *   The first PAIRING_EXPLORATION_COMPARISONS_PER_ESSAY are random. Measured against random with
 *   `npm run -s bench:efficiency` (BENCHMARKS.md, "Ranking efficiency"; docs/pairing.md).
 *
 * Orientation: every pair is shown with the essay that has been shown first less often as "Essay A"
 * (ties broken by the seed), so each essay's first/second counts stay even.
 *
 * Cost: O(m) to read the history of m comparisons plus O(n log n + n·window) per wave; no n² work
 * or memory (an exhaustive partner scan runs only for an essay whose nearby and random candidates
 * were all used, which happens only when its remaining partners are few).
 *
 * Deterministic: the same request gives the same wave (crash recovery re-plans and must match).
 */
import type { EngineConfig } from '#domain/config.ts';
import { hashSeed, normal, type Rng, seededRandom } from '#domain/random.ts';
import type { ComparisonRecord, PlannedPair, WaveKind } from '#domain/types.ts';

export type PairingStrategy = 'adaptive' | 'random';

export interface WavePlanRequest {
  /** Number of essays in the batch (indices 0..n−1). */
  n: number;
  /**
   * `coverage`: pairs never attempted. `resample`: pairs with ≥ 1 successful verdict not yet judged
   * in pass `resamplePass`, orientation flipped vs their last verdict. `retry`: pairs with no
   * success whose attempts all failed, attempts < MAX_ATTEMPTS_PER_PAIR, none pending.
   */
  kind: WaveKind;
  /** Most pairs to plan (e.g. the remaining budget), ≥ 1. */
  maxPairs: number;
  /** The batch's full comparison history, all statuses. */
  comparisons: readonly ComparisonRecord[];
  /** Current Bradley–Terry scores and standard errors; null before any success. */
  scores: Float64Array | null;
  se: Float64Array | null;
  strategy: PairingStrategy;
  /** Same request ⇒ same wave. */
  seed: number;
  config: EngineConfig;
  /** Resampling pass (1-based) the wave belongs to; required for kind `resample`. */
  resamplePass?: number;
  /** Essays already used in this wave (when the caller combines kinds); never planned again. */
  busyEssays?: ReadonlySet<number>;
}

// 2^26: unordered pair keys stay exact integers (< 2^53) for up to 67 million essays.
const PAIR_KEY_STRIDE = 67_108_864;

/** Order-independent key of the pair {i, j}; `pairKey(i, j) === pairKey(j, i)`. */
export function pairKey(i: number, j: number): number {
  return i < j ? i * PAIR_KEY_STRIDE + j : j * PAIR_KEY_STRIDE + i;
}

/** The pair {lo, hi} (lo < hi) behind a key made by `pairKey`. */
export function pairFromKey(key: number): [number, number] {
  const lo = Math.floor(key / PAIR_KEY_STRIDE);
  return [lo, key - lo * PAIR_KEY_STRIDE];
}

/** n·(n−1)/2: the number of distinct unordered pairs of n essays. */
export function maxPossiblePairs(n: number): number {
  return n < 2 ? 0 : (n * (n - 1)) / 2;
}

/** Distinct pairs attempted at least once (any status). */
export function attemptedPairCount(comparisons: readonly ComparisonRecord[]): number {
  const seen = new Set<number>();
  for (const c of comparisons) seen.add(pairKey(c.a, c.b));
  return seen.size;
}

/** Distinct pairs with at least one successful verdict (`successful_pairs_count`). */
export function successfulPairCount(comparisons: readonly ComparisonRecord[]): number {
  const seen = new Set<number>();
  for (const c of comparisons) if (c.status === 'COMPLETED') seen.add(pairKey(c.a, c.b));
  return seen.size;
}

/** Pairs never attempted: what coverage waves can still plan. 0 means full coverage. */
export function coverageRemaining(n: number, comparisons: readonly ComparisonRecord[]): number {
  return maxPossiblePairs(n) - attemptedPairCount(comparisons);
}

/**
 * Per-essay orientation balance over comparisons that are pending or have a verdict:
 * times shown as "Essay A" minus times shown as "Essay B". Failed attempts produced no verdict, so
 * their order cannot bias anything and they are not counted.
 */
export function orientationBalance(
  n: number,
  comparisons: readonly ComparisonRecord[],
): Int32Array {
  const balance = new Int32Array(n);
  for (const c of comparisons) {
    if (c.status === 'FAILED') continue;
    balance[c.a] = (balance[c.a] ?? 0) + 1;
    balance[c.b] = (balance[c.b] ?? 0) - 1;
  }
  return balance;
}

/** Per-pair facts needed by resample and retry waves. */
interface PairStats {
  lo: number;
  hi: number;
  attempts: number;
  successes: number;
  pending: number;
  /** Display order of the latest verdict (highest iteration, then latest in the history). */
  lastVerdict: { a: number; b: number; iteration: number } | undefined;
  /** Attempts per resampling pass, and whether that pass already holds a verdict or a pending one. */
  passes: Map<number, { attempts: number; settled: boolean }>;
}

function collectPairStats(comparisons: readonly ComparisonRecord[]): Map<number, PairStats> {
  const stats = new Map<number, PairStats>();
  for (const c of comparisons) {
    const key = pairKey(c.a, c.b);
    let s = stats.get(key);
    if (s === undefined) {
      s = {
        lo: Math.min(c.a, c.b),
        hi: Math.max(c.a, c.b),
        attempts: 0,
        successes: 0,
        pending: 0,
        lastVerdict: undefined,
        passes: new Map(),
      };
      stats.set(key, s);
    }
    s.attempts += 1;
    if (c.status === 'PENDING') s.pending += 1;
    if (c.status === 'COMPLETED') {
      s.successes += 1;
      if (s.lastVerdict === undefined || c.iteration >= s.lastVerdict.iteration) {
        s.lastVerdict = { a: c.a, b: c.b, iteration: c.iteration };
      }
    }
    if (c.kind === 'resample' && c.resamplePass !== undefined) {
      const pass = s.passes.get(c.resamplePass) ?? { attempts: 0, settled: false };
      pass.attempts += 1;
      if (c.status !== 'FAILED') pass.settled = true;
      s.passes.set(c.resamplePass, pass);
    }
  }
  return stats;
}

/**
 * Which pairs have been attempted, as sorted per-essay partner lists (compressed sparse rows):
 * O(m) to build from m comparisons and O(log degree) per lookup, with typed arrays only. A hash
 * set of pair keys was several times slower at n = 10,000 with 150,000 comparisons.
 */
export class AttemptedPairs {
  private readonly start: Int32Array;
  private readonly partnerList: Int32Array;
  /** Distinct partners attempted per essay: n − 1 means nothing left to cover. */
  readonly partners: Int32Array;
  /** Distinct pairs attempted. */
  readonly size: number;

  constructor(n: number, comparisons: readonly ComparisonRecord[]) {
    const start = new Int32Array(n + 1);
    for (const c of comparisons) {
      start[c.a + 1] = (start[c.a + 1] ?? 0) + 1;
      start[c.b + 1] = (start[c.b + 1] ?? 0) + 1;
    }
    for (let i = 0; i < n; i += 1) start[i + 1] = (start[i + 1] ?? 0) + (start[i] ?? 0);
    const fill = start.slice(0, n);
    const list = new Int32Array(start[n] ?? 0);
    for (const c of comparisons) {
      list[fill[c.a] ?? 0] = c.b;
      fill[c.a] = (fill[c.a] ?? 0) + 1;
      list[fill[c.b] ?? 0] = c.a;
      fill[c.b] = (fill[c.b] ?? 0) + 1;
    }
    const partners = new Int32Array(n);
    let total = 0;
    for (let i = 0; i < n; i += 1) {
      const from = start[i] ?? 0;
      const to = start[i + 1] ?? 0;
      const slice = list.subarray(from, to).sort();
      let distinct = 0;
      for (let k = 0; k < slice.length; k += 1) {
        if (k === 0 || slice[k] !== slice[k - 1]) slice[distinct++] = slice[k] ?? 0;
      }
      partners[i] = distinct;
      total += distinct;
    }
    this.start = start;
    this.partnerList = list;
    this.partners = partners;
    this.size = total / 2;
  }

  has(i: number, j: number): boolean {
    let lo = this.start[i] ?? 0;
    let hi = lo + (this.partners[i] ?? 0);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const value = this.partnerList[mid] ?? 0;
      if (value === j) return true;
      if (value < j) lo = mid + 1;
      else hi = mid;
    }
    return false;
  }
}

/** Comparisons per essay that are pending or have a verdict (failed attempts are retried separately). */
function essayLoad(n: number, comparisons: readonly ComparisonRecord[]): Int32Array {
  const load = new Int32Array(n);
  for (const c of comparisons) {
    if (c.status === 'FAILED') continue;
    load[c.a] = (load[c.a] ?? 0) + 1;
    load[c.b] = (load[c.b] ?? 0) + 1;
  }
  return load;
}

/** Per-essay counts read once from the history. */
interface EssayState {
  load: Int32Array;
  /** Shown first minus shown second; updated as the wave is built. */
  balance: Int32Array;
}

/** Orders {i, j} so the essay shown first less often becomes "Essay A"; updates the balance. */
function orient(i: number, j: number, balance: Int32Array, rng: Rng): [number, number] {
  const bi = balance[i] ?? 0;
  const bj = balance[j] ?? 0;
  const iFirst = bi < bj || (bi === bj && rng() < 0.5);
  const [a, b] = iFirst ? [i, j] : [j, i];
  balance[a] = (balance[a] ?? 0) + 1;
  balance[b] = (balance[b] ?? 0) - 1;
  return [a, b];
}

/**
 * Essays that may take part in this wave: not busy, with a valid index. Ordered by fewest
 * comparisons first (ties by the seed), so a wave capped by `maxPairs` serves the least-compared.
 */
function essayOrder(n: number, load: Int32Array, busy: ReadonlySet<number>, rng: Rng): number[] {
  const tiebreak = new Float64Array(n);
  const order: number[] = [];
  for (let i = 0; i < n; i += 1) {
    tiebreak[i] = rng();
    if (!busy.has(i)) order.push(i);
  }
  order.sort((x, y) => (load[x] ?? 0) - (load[y] ?? 0) || (tiebreak[x] ?? 0) - (tiebreak[y] ?? 0));
  return order;
}

/** A set of essays with O(1) membership, removal and uniform random pick. */
class EssayPool {
  private readonly items: number[];
  private readonly position: Int32Array;

  constructor(n: number, members: readonly number[]) {
    this.items = [...members];
    this.position = new Int32Array(n).fill(-1);
    this.items.forEach((essay, index) => {
      this.position[essay] = index;
    });
  }

  get size(): number {
    return this.items.length;
  }

  has(essay: number): boolean {
    return (this.position[essay] ?? -1) >= 0;
  }

  remove(essay: number): void {
    const index = this.position[essay] ?? -1;
    if (index < 0) return;
    const last = this.items.pop() as number;
    if (last !== essay) {
      this.items[index] = last;
      this.position[last] = index;
    }
    this.position[essay] = -1;
  }

  pick(rng: Rng): number | undefined {
    return this.items[Math.floor(rng() * this.items.length)];
  }

  /** All members, starting at a random offset (so an exhaustive scan has no index bias). */
  *scan(rng: Rng): Generator<number> {
    const size = this.items.length;
    const start = Math.floor(rng() * size);
    for (let k = 0; k < size; k += 1) {
      const essay = this.items[(start + k) % size];
      if (essay !== undefined) yield essay;
    }
  }
}

/** Picks an unmatched, never-attempted partner for `essay` at random, or undefined. */
function randomPartner(
  essay: number,
  pool: EssayPool,
  attempted: AttemptedPairs,
  tries: number,
  rng: Rng,
): number | undefined {
  for (let t = 0; t < tries; t += 1) {
    const other = pool.pick(rng);
    if (other !== undefined && other !== essay && !attempted.has(essay, other)) {
      return other;
    }
  }
  for (const other of pool.scan(rng)) {
    if (other !== essay && !attempted.has(essay, other)) return other;
  }
  return undefined;
}

interface CoverageContext {
  n: number;
  maxPairs: number;
  attempted: AttemptedPairs;
  state: EssayState;
  order: number[];
  config: EngineConfig;
  rng: Rng;
}

function planRandomCoverage(ctx: CoverageContext): PlannedPair[] {
  const { n, attempted, state, order, rng, config } = ctx;
  const pool = new EssayPool(n, order);
  const wave: PlannedPair[] = [];
  for (const essay of order) {
    if (wave.length >= ctx.maxPairs || pool.size < 2) break;
    if (!pool.has(essay) || (attempted.partners[essay] ?? 0) >= n - 1) continue;
    pool.remove(essay);
    const partner = randomPartner(essay, pool, attempted, config.PAIRING_RANDOM_CANDIDATES, rng);
    if (partner === undefined) {
      continue;
    }
    pool.remove(partner);
    const [a, b] = orient(essay, partner, state.balance, rng);
    wave.push({ a, b, kind: 'coverage' });
  }
  return wave;
}

/**
 * Thompson-style adaptive coverage: sort by sampled scores, then each essay (least compared first)
 * takes the closest unmatched essay in sampled order that it has not met, looking at most
 * PAIRING_CANDIDATE_WINDOW unmatched neighbours on each side; beyond that, a random new partner.
 */
function planAdaptiveCoverage(
  ctx: CoverageContext,
  scores: Float64Array,
  se: Float64Array | null,
): PlannedPair[] {
  const { n, attempted, state, order, rng, config } = ctx;
  const sampled = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    const spread = (se?.[i] ?? 0) * config.PAIRING_THOMPSON_SCALE;
    sampled[i] = (scores[i] ?? 0) + spread * normal(rng);
  }
  const sorted = [...order].sort((x, y) => (sampled[x] ?? 0) - (sampled[y] ?? 0));
  // Doubly linked list over the sorted unmatched essays: neighbours in O(1) as essays leave.
  const prev = new Int32Array(n).fill(-1);
  const next = new Int32Array(n).fill(-1);
  for (let r = 0; r < sorted.length; r += 1) {
    const essay = sorted[r] as number;
    prev[essay] = r > 0 ? (sorted[r - 1] as number) : -1;
    next[essay] = r + 1 < sorted.length ? (sorted[r + 1] as number) : -1;
  }
  const pool = new EssayPool(n, order);
  const unlink = (essay: number): void => {
    const p = prev[essay] ?? -1;
    const q = next[essay] ?? -1;
    if (p >= 0) next[p] = q;
    if (q >= 0) prev[q] = p;
    pool.remove(essay);
  };

  const nearestNew = (essay: number): number | undefined => {
    const at = sampled[essay] ?? 0;
    let left = prev[essay] ?? -1;
    let right = next[essay] ?? -1;
    let leftSteps = 0;
    let rightSteps = 0;
    const window = config.PAIRING_CANDIDATE_WINDOW;
    while ((left >= 0 && leftSteps < window) || (right >= 0 && rightSteps < window)) {
      const useLeft =
        left >= 0 &&
        leftSteps < window &&
        (right < 0 ||
          rightSteps >= window ||
          at - (sampled[left] ?? 0) <= (sampled[right] ?? 0) - at);
      const candidate = useLeft ? left : right;
      if (!attempted.has(essay, candidate)) return candidate;
      if (useLeft) {
        left = prev[left] ?? -1;
        leftSteps += 1;
      } else {
        right = next[right] ?? -1;
        rightSteps += 1;
      }
    }
    return undefined;
  };

  const wave: PlannedPair[] = [];
  for (const essay of order) {
    if (wave.length >= ctx.maxPairs || pool.size < 2) break;
    if (!pool.has(essay) || (attempted.partners[essay] ?? 0) >= n - 1) continue;
    unlink(essay);
    const partner =
      nearestNew(essay) ??
      randomPartner(essay, pool, attempted, config.PAIRING_RANDOM_CANDIDATES, rng);
    if (partner === undefined) continue;
    unlink(partner);
    const [a, b] = orient(essay, partner, state.balance, rng);
    wave.push({ a, b, kind: 'coverage' });
  }
  return wave;
}

/** First index in ascending `values` whose value is >= x. */
function lowerBound(values: Float64Array, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in ascending `values` whose value is > x. */
function upperBound(values: Float64Array, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] ?? 0) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The essays whose rank is most uncertain, in their original order: the top `fraction` by
 * se_i × (essays whose score lies within ±se_i of essay i's). That product grows with the local
 * density of scores times the squared SE, which is how much one more comparison of essay i can
 * reduce its expected rank error; essays in sparse tails are ranked well with fewer comparisons.
 */
export function focusParticipants(
  order: readonly number[],
  scores: Float64Array,
  se: Float64Array,
  fraction: number,
): number[] {
  const keep = Math.max(2, Math.round(fraction * order.length));
  if (keep >= order.length) return [...order];
  const sortedScores = Float64Array.from(scores).sort();
  const priority = new Float64Array(scores.length);
  for (const i of order) {
    const score = scores[i] ?? 0;
    const spread = se[i] ?? 0;
    const nearby =
      upperBound(sortedScores, score + spread) - lowerBound(sortedScores, score - spread);
    priority[i] = spread * nearby;
  }
  const ranked = [...order].sort((x, y) => (priority[y] ?? 0) - (priority[x] ?? 0));
  const chosen = new Set(ranked.slice(0, keep));
  return order.filter((i) => chosen.has(i));
}

/** Mean comparisons per essay (pending or with a verdict) so far. */
function meanLoad(load: Int32Array): number {
  let total = 0;
  for (const value of load) total += value;
  return load.length === 0 ? 0 : total / load.length;
}

/**
 * Greedy matching over a fixed list of eligible pairs (resample, retry): pairs are taken in a
 * seeded random order, least-compared essays' pairs first, skipping pairs whose essays are used.
 */
function matchEligible(
  n: number,
  eligible: PairStats[],
  load: Int32Array,
  busy: ReadonlySet<number>,
  maxPairs: number,
  rng: Rng,
): PairStats[] {
  const keyed = eligible.map((pair) => ({
    pair,
    load: Math.min(load[pair.lo] ?? 0, load[pair.hi] ?? 0),
    tiebreak: rng(),
  }));
  keyed.sort((x, y) => x.load - y.load || x.tiebreak - y.tiebreak);
  const used = new Uint8Array(n);
  const chosen: PairStats[] = [];
  for (const { pair } of keyed) {
    if (chosen.length >= maxPairs) break;
    if (used[pair.lo] || used[pair.hi] || busy.has(pair.lo) || busy.has(pair.hi)) continue;
    used[pair.lo] = 1;
    used[pair.hi] = 1;
    chosen.push(pair);
  }
  return chosen;
}

function validIndex(n: number, i: number): boolean {
  return Number.isInteger(i) && i >= 0 && i < n;
}

/**
 * Plans one wave of `req.kind`. Each essay appears at most once; at most `maxPairs` pairs; `[]`
 * when nothing of that kind is plannable. Throws on a malformed request (caller bug).
 */
export function planWave(req: WavePlanRequest): PlannedPair[] {
  const { n, kind, maxPairs, comparisons, config } = req;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer`);
  if (!Number.isInteger(maxPairs) || maxPairs < 1) {
    throw new RangeError(`maxPairs must be an integer >= 1`);
  }
  for (const c of comparisons) {
    if (!validIndex(n, c.a) || !validIndex(n, c.b) || c.a === c.b) {
      throw new RangeError(`comparison (${c.a}, ${c.b}) is not a pair of essays 0..${n - 1}`);
    }
  }
  if (kind === 'resample' && (req.resamplePass === undefined || req.resamplePass < 1)) {
    throw new RangeError('resamplePass (>= 1) is required for a resample wave');
  }
  const busy = req.busyEssays ?? new Set<number>();
  const rng = seededRandom(hashSeed(req.seed, kind, req.resamplePass ?? 0, comparisons.length));
  if (n < 2) return [];

  if (kind === 'coverage') {
    const attempted = new AttemptedPairs(n, comparisons);
    if (attempted.size >= maxPossiblePairs(n)) return [];
    const state = { load: essayLoad(n, comparisons), balance: orientationBalance(n, comparisons) };
    const order = essayOrder(n, state.load, busy, rng);
    const ctx: CoverageContext = { n, maxPairs, attempted, state, order, config, rng };
    const explored = meanLoad(state.load) >= config.PAIRING_EXPLORATION_COMPARISONS_PER_ESSAY;
    if (req.strategy === 'adaptive' && req.scores !== null && explored) {
      if (req.se !== null && config.PAIRING_FOCUS_FRACTION < 1) {
        const focused = focusParticipants(order, req.scores, req.se, config.PAIRING_FOCUS_FRACTION);
        const wave = planAdaptiveCoverage({ ...ctx, order: focused }, req.scores, req.se);
        // Coverage must never look exhausted while new pairs remain outside the focus.
        if (wave.length > 0) return wave;
      }
      return planAdaptiveCoverage(ctx, req.scores, req.se);
    }
    return planRandomCoverage(ctx);
  }

  // Retry waves run before every coverage wave; only pairs with a failure can be retried, so the
  // per-pair statistics are built for those pairs alone (usually none).
  let relevant = comparisons;
  if (kind === 'retry') {
    const failedPairs = new Set<number>();
    for (const c of comparisons) if (c.status === 'FAILED') failedPairs.add(pairKey(c.a, c.b));
    if (failedPairs.size === 0) return [];
    relevant = comparisons.filter((c) => failedPairs.has(pairKey(c.a, c.b)));
  }
  const stats = [...collectPairStats(relevant).values()];
  const load = essayLoad(n, comparisons);
  // Sort by pair so the wave does not depend on the order the history was read in.
  stats.sort((x, y) => x.lo - y.lo || x.hi - y.hi);

  if (kind === 'resample') {
    const pass = req.resamplePass as number;
    const eligible = stats.filter((s) => {
      const inPass = s.passes.get(pass);
      return (
        s.successes > 0 &&
        s.pending === 0 &&
        !inPass?.settled &&
        (inPass?.attempts ?? 0) < config.MAX_ATTEMPTS_PER_PAIR
      );
    });
    return matchEligible(n, eligible, load, busy, maxPairs, rng).map((s) => {
      const last = s.lastVerdict as { a: number; b: number };
      return { a: last.b, b: last.a, kind: 'resample' };
    });
  }

  const balance = orientationBalance(n, comparisons);
  const eligible = stats.filter(
    (s) => s.successes === 0 && s.pending === 0 && s.attempts < config.MAX_ATTEMPTS_PER_PAIR,
  );
  return matchEligible(n, eligible, load, busy, maxPairs, rng).map((s) => {
    const [a, b] = orient(s.lo, s.hi, balance, rng);
    return { a, b, kind: 'retry' };
  });
}
