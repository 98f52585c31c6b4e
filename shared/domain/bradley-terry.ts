/**
 * Bradley–Terry MAP fit with a weak Gaussian (ridge) prior, and standard errors.
 *
 * Model: P(i beats j) = σ(θ_i − θ_j). Objective (the log-posterior, up to a constant):
 *   ℓ(θ) = Σ_comparisons log σ(θ_winner − θ_loser) − (α/2)·Σ θ_i²
 * The prior keeps disconnected or perfectly separated data finite. At the maximum the likelihood
 * gradient sums to zero, so α·Σθ = 0: the MAP is exactly mean-centred, and we re-centre after each
 * step so rounding never lets the mean drift.
 *
 * Fitting: Newton's method on ℓ, with each Newton system (L + αI)·δ = ∇ℓ solved by Jacobi-
 * preconditioned conjugate gradients on the sparse weighted Laplacian L (L_ij = −n_ij p_ij (1−p_ij)).
 * Duplicate pairs are aggregated first and each distinct pair is stored once, so an iteration costs
 * one exp per distinct pair plus a few sparse products. Step control: the full Newton step is kept
 * when the directional derivative at its end is still ≥ 0 (ℓ is concave, so ℓ then rose all the way
 * and no log is needed); otherwise an Armijo backtracking search on ℓ.
 *
 * Standard errors of the centred scores: Cov = P (L + αI)⁻¹ P with P = I − 11ᵀ/n (the Fisher
 * information at the MAP, consistent with the centring). With M = L + αI + 11ᵀ/n (SPD; eigenvalue
 * 1+α along 1 and equal to L+αI on 1⊥): diag(Cov) = diag(M⁻¹) − 1/(n(1+α)).
 *  - 'exact': dense Cholesky of M, then the diagonal of M⁻¹ from the inverse Cholesky factor.
 *    O(n³) time, n² doubles of memory; used up to BT_EXACT_SE_MAX_N.
 *  - 'approx': stochastic diagonal estimation (Hutchinson, Rademacher probes) of diag(Cov), with
 *    each probe solved by PCG and a control variate: a truncated Neumann series of (L+αI)⁻¹ whose
 *    diagonal is known exactly, so the probes only estimate the small remainder. Seeded and
 *    deterministic. Component-constant directions are handled exactly (connected components).
 *    Probes start at BT_APPROX_SE_PROBES and are added (up to BT_APPROX_SE_MAX_PROBES) while the
 *    estimated relative error of the worst item's SE exceeds BT_APPROX_SE_TARGET_ERROR.
 *    Measured relative error of the SEs vs exact (`npm run -s bench:bt -- --n N --m 10N --runs 1
 *    --compare-se --json`, seeds 1-3): median 0.16-0.18 % and max 1.1-1.7 % at n = 300; median
 *    0.15-0.18 % and max 1.9-3.8 % at n = 1,000 and 2,000 (128 probes suffice there). Sparse data
 *    (n = 300-400, 1-2 comparisons per essay): median 0.2-0.5 %, max 4-10 % (450-1,024 probes).
 *    Cost: ~10 sparse products per probe.
 */
import { DEFAULT_CONFIG } from './config.ts';
import { choleskyInPlace, inverseDiagonalFromCholesky } from './linear-algebra.ts';
import { hashSeed, seededRandom } from './random.ts';

/** One entry per successful comparison; indices are 0..n-1. */
export interface BtData {
  readonly n: number;
  readonly winners: Int32Array;
  readonly losers: Int32Array;
}

export type SeMethod = 'exact' | 'approx' | 'none';

export interface BtOptions {
  /** Ridge prior precision (prior variance 1/alpha). Default DEFAULT_CONFIG.BT_PRIOR_ALPHA. */
  alpha?: number;
  /** Default 'auto': exact when n <= BT_EXACT_SE_MAX_N, else approx. */
  standardErrors?: 'auto' | SeMethod;
  /** Converged when the largest Newton step is below this (logits). Default BT_FIT_TOLERANCE. */
  tolerance?: number;
  /** Newton iteration cap. Default BT_MAX_NEWTON_ITERATIONS. */
  maxIterations?: number;
  /** Warm start (e.g. scores from the previous wave); re-centred before use. */
  initial?: Float64Array;
  /**
   * Probes the approximate SEs start with; more are added while the estimated error exceeds
   * BT_APPROX_SE_TARGET_ERROR, up to max(seProbes, BT_APPROX_SE_MAX_PROBES).
   * Default BT_APPROX_SE_PROBES.
   */
  seProbes?: number;
  /** Seed for the approximate-SE probes (the result is deterministic given data and seed). */
  seSeed?: number;
}

export interface BtFit {
  /** MAP estimates, mean-centred logits. */
  scores: Float64Array;
  /** Standard errors of the centred scores (null when seMethod is 'none'). */
  se: Float64Array | null;
  seMethod: SeMethod;
  /** Newton iterations taken. */
  iterations: number;
  converged: boolean;
  /** ℓ at the returned scores (log-likelihood plus log-prior, constants dropped). */
  logPosterior: number;
}

/** P(A beats B) under Bradley–Terry. */
export function winProbability(scoreA: number, scoreB: number): number {
  const x = scoreA - scoreB;
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * Comparisons aggregated per distinct pair, each pair stored once (upper-triangular CSR): row i
 * holds the pairs (i, j) with j > i, entries rowStart[i]..rowStart[i+1]-1, with neighbour col[e]
 * (ascending), the wins of i over j wins[e] and the comparisons between them count[e].
 */
export interface PairGraph {
  readonly n: number;
  readonly rowStart: Int32Array;
  readonly col: Int32Array;
  readonly wins: Float64Array;
  readonly count: Float64Array;
  /** Total wins of each item. */
  readonly totalWins: Float64Array;
  /** Comparisons each item took part in. */
  readonly degree: Float64Array;
}

function validate(data: BtData): void {
  const { n, winners, losers } = data;
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`n must be a non-negative integer, got ${n}`);
  }
  if (winners.length !== losers.length) {
    throw new RangeError(
      `winners and losers differ in length (${winners.length} vs ${losers.length})`,
    );
  }
  for (let k = 0; k < winners.length; k++) {
    const w = winners[k]!;
    const l = losers[k]!;
    if (w < 0 || w >= n || l < 0 || l >= n) {
      throw new RangeError(`comparison ${k} has an index outside 0..${n - 1}`);
    }
    if (w === l) throw new RangeError(`comparison ${k} compares item ${w} with itself`);
  }
}

/** Aggregates comparisons into the pair graph (O(m + distinct pairs · row length)). */
export function buildPairGraph(data: BtData): PairGraph {
  validate(data);
  const { n, winners, losers } = data;
  const m = winners.length;
  const degree = new Float64Array(n);
  const totalWins = new Float64Array(n);
  const rawStart = new Int32Array(n + 1);
  for (let k = 0; k < m; k++) {
    const w = winners[k]!;
    const l = losers[k]!;
    const low = Math.min(w, l);
    rawStart[low + 1] = rawStart[low + 1]! + 1;
    degree[w] = degree[w]! + 1;
    degree[l] = degree[l]! + 1;
    totalWins[w] = totalWins[w]! + 1;
  }
  for (let i = 0; i < n; i++) rawStart[i + 1] = rawStart[i + 1]! + rawStart[i]!;
  const rawCol = new Int32Array(m);
  const rawWin = new Uint8Array(m);
  const cursor = rawStart.slice(0, n);
  for (let k = 0; k < m; k++) {
    const w = winners[k]!;
    const l = losers[k]!;
    const low = Math.min(w, l);
    const p = cursor[low]!;
    rawCol[p] = Math.max(w, l);
    rawWin[p] = w < l ? 1 : 0;
    cursor[low] = p + 1;
  }
  // Deduplicate each row with a per-column stamp.
  const stamp = new Int32Array(n).fill(-1);
  const slot = new Int32Array(n);
  const rowStart = new Int32Array(n + 1);
  const col = new Int32Array(m);
  const wins = new Float64Array(m);
  const count = new Float64Array(m);
  let out = 0;
  for (let i = 0; i < n; i++) {
    rowStart[i] = out;
    const begin = out;
    for (let p = rawStart[i]!, end = rawStart[i + 1]!; p < end; p++) {
      const j = rawCol[p]!;
      if (stamp[j] !== i) {
        stamp[j] = i;
        slot[j] = out;
        col[out] = j;
        wins[out] = rawWin[p]!;
        count[out] = 1;
        out++;
      } else {
        const s = slot[j]!;
        wins[s] = wins[s]! + rawWin[p]!;
        count[s] = count[s]! + 1;
      }
    }
    sortRow(col, wins, count, begin, out);
  }
  rowStart[n] = out;
  return {
    n,
    rowStart,
    col: col.slice(0, out),
    wins: wins.slice(0, out),
    count: count.slice(0, out),
    totalWins,
    degree,
  };
}

/** Insertion sort of one row by column (rows are short: the distinct opponents of an item). */
function sortRow(
  col: Int32Array,
  wins: Float64Array,
  count: Float64Array,
  begin: number,
  end: number,
): void {
  for (let a = begin + 1; a < end; a++) {
    const c = col[a]!;
    const w = wins[a]!;
    const k = count[a]!;
    let b = a - 1;
    while (b >= begin && col[b]! > c) {
      col[b + 1] = col[b]!;
      wins[b + 1] = wins[b]!;
      count[b + 1] = count[b]!;
      b--;
    }
    col[b + 1] = c;
    wins[b + 1] = w;
    count[b + 1] = k;
  }
}

/** Gradient of ℓ and the Fisher information at one point. */
interface Evaluation {
  grad: Float64Array;
  /** Per pair: n_ij p_ij (1 − p_ij), the Fisher weight (−L_ij). */
  weight: Float64Array;
  /** Diagonal of L + αI. */
  diag: Float64Array;
}

function newEvaluation(graph: PairGraph): Evaluation {
  return {
    grad: new Float64Array(graph.n),
    weight: new Float64Array(graph.col.length),
    diag: new Float64Array(graph.n),
  };
}

/** ∇ℓ(θ) and the Fisher weights in one pass over the pairs (one exp per pair). */
function evaluate(graph: PairGraph, alpha: number, theta: Float64Array, out: Evaluation): void {
  const { n, rowStart, col, count, totalWins } = graph;
  const { grad, weight, diag } = out;
  for (let i = 0; i < n; i++) {
    grad[i] = totalWins[i]! - alpha * theta[i]!;
    diag[i] = alpha;
  }
  for (let i = 0; i < n; i++) {
    const ti = theta[i]!;
    let gi = 0;
    let di = 0;
    for (let e = rowStart[i]!, end = rowStart[i + 1]!; e < end; e++) {
      const j = col[e]!;
      const c = count[e]!;
      // s = σ(θ_i − θ_j) from exp(−|x|), stable for any x.
      const x = ti - theta[j]!;
      const ex = Math.exp(-Math.abs(x));
      const inv = 1 / (1 + ex);
      const s = x >= 0 ? inv : ex * inv;
      const cs = c * s;
      const h = cs * (1 - s);
      gi += cs;
      grad[j] = grad[j]! - (c - cs);
      weight[e] = h;
      di += h;
      diag[j] = diag[j]! + h;
    }
    grad[i] = grad[i]! - gi;
    diag[i] = diag[i]! + di;
  }
}

/** ℓ(θ): log-likelihood plus log-prior, constants dropped. */
function logPosteriorAt(graph: PairGraph, alpha: number, theta: Float64Array): number {
  const { n, rowStart, col, wins, count } = graph;
  let loglik = 0;
  let prior = 0;
  for (let i = 0; i < n; i++) {
    const ti = theta[i]!;
    prior += ti * ti;
    for (let e = rowStart[i]!, end = rowStart[i + 1]!; e < end; e++) {
      const x = ti - theta[col[e]!]!;
      const w = wins[e]!;
      // log σ(x) = min(x, 0) − log1p(exp(−|x|)); the pair adds w·log σ(x) + (c − w)·log σ(−x).
      const soft = Math.log1p(Math.exp(-Math.abs(x)));
      const logS = Math.min(x, 0) - soft;
      const logNotS = (x > 0 ? -x : 0) - soft;
      loglik += w * logS + (count[e]! - w) * logNotS;
    }
  }
  return loglik - 0.5 * alpha * prior;
}

/**
 * A partition of the items into groups g with sizes n_g; M adds Σ_g 1_g 1_gᵀ / n_g to L + αI.
 * The fit uses one group (M = L + αI + 11ᵀ/n). The approximate SEs use the connected components:
 * then every component-constant direction has eigenvalue 1 + α instead of α, so CG on
 * within-component-centred right-hand sides converges as if the graph were connected.
 */
interface Groups {
  readonly label: Int32Array;
  readonly invSize: Float64Array;
  /** Scratch: one sum per group. */
  readonly sums: Float64Array;
}

function singleGroup(n: number): Groups {
  return {
    label: new Int32Array(n),
    invSize: Float64Array.of(1 / n),
    sums: new Float64Array(1),
  };
}

/** Connected components of the pair graph (union–find), as Groups. */
function connectedComponents(graph: PairGraph): Groups {
  const { n, rowStart, col } = graph;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    let root = i;
    while (parent[root] !== root) root = parent[root]!;
    while (parent[i] !== root) {
      const next = parent[i]!;
      parent[i] = root;
      i = next;
    }
    return root;
  };
  for (let i = 0; i < n; i++) {
    for (let e = rowStart[i]!, end = rowStart[i + 1]!; e < end; e++) {
      const a = find(i);
      const b = find(col[e]!);
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  }
  const label = new Int32Array(n);
  const id = new Int32Array(n).fill(-1);
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    const root = find(i);
    if (id[root] === -1) {
      id[root] = sizes.length;
      sizes.push(0);
    }
    const g = id[root]!;
    label[i] = g;
    sizes[g] = sizes[g]! + 1;
  }
  return {
    label,
    invSize: Float64Array.from(sizes, (size) => 1 / size),
    sums: new Float64Array(sizes.length),
  };
}

/** x ← x minus its mean within each group. */
function centreWithin(groups: Groups, x: Float64Array): void {
  const { label, invSize, sums } = groups;
  sums.fill(0);
  for (let i = 0; i < x.length; i++) sums[label[i]!] = sums[label[i]!]! + x[i]!;
  for (let g = 0; g < sums.length; g++) sums[g] = sums[g]! * invSize[g]!;
  for (let i = 0; i < x.length; i++) x[i] = x[i]! - sums[label[i]!]!;
}

/** y = M x with M = L + αI + Σ_g 1_g 1_gᵀ / n_g (symmetric product over the once-stored pairs). */
function applyM(
  graph: PairGraph,
  ev: Evaluation,
  groups: Groups,
  x: Float64Array,
  y: Float64Array,
): void {
  const { n, rowStart, col } = graph;
  const { weight, diag } = ev;
  const { label, invSize, sums } = groups;
  sums.fill(0);
  for (let i = 0; i < n; i++) sums[label[i]!] = sums[label[i]!]! + x[i]!;
  for (let g = 0; g < sums.length; g++) sums[g] = sums[g]! * invSize[g]!;
  for (let i = 0; i < n; i++) y[i] = diag[i]! * x[i]! + sums[label[i]!]!;
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    let acc = 0;
    for (let e = rowStart[i]!, end = rowStart[i + 1]!; e < end; e++) {
      const j = col[e]!;
      const h = weight[e]!;
      acc += h * x[j]!;
      y[j] = y[j]! - h * xi;
    }
    y[i] = y[i]! - acc;
  }
}

interface PcgWork {
  /** Jacobi preconditioner: 1 / diag(M). */
  invDiag: Float64Array;
  r: Float64Array;
  z: Float64Array;
  p: Float64Array;
  q: Float64Array;
}

function newPcgWork(n: number): PcgWork {
  return {
    invDiag: new Float64Array(n),
    r: new Float64Array(n),
    z: new Float64Array(n),
    p: new Float64Array(n),
    q: new Float64Array(n),
  };
}

/**
 * Solves M x = b by Jacobi-preconditioned CG, starting from the given x, until
 * ‖r‖₂ ≤ relTol·‖b‖₂ or maxIter. For b with zero sum in every group the solution equals
 * (L+αI)⁻¹ b and has zero sum in every group too.
 */
function pcgSolve(
  graph: PairGraph,
  ev: Evaluation,
  groups: Groups,
  b: Float64Array,
  x: Float64Array,
  relTol: number,
  maxIter: number,
  work: PcgWork,
): number {
  const n = graph.n;
  const { invDiag, r, z, p, q } = work;
  for (let i = 0; i < n; i++) {
    invDiag[i] = 1 / (ev.diag[i]! + groups.invSize[groups.label[i]!]!);
  }
  applyM(graph, ev, groups, x, q);
  let bNorm2 = 0;
  let rz = 0;
  let rNorm2 = 0;
  for (let i = 0; i < n; i++) {
    const bi = b[i]!;
    bNorm2 += bi * bi;
    const ri = bi - q[i]!;
    r[i] = ri;
    const zi = ri * invDiag[i]!;
    z[i] = zi;
    p[i] = zi;
    rz += ri * zi;
    rNorm2 += ri * ri;
  }
  const target = relTol * relTol * bNorm2;
  let it = 0;
  while (rNorm2 > target && it < maxIter) {
    applyM(graph, ev, groups, p, q);
    let pq = 0;
    for (let i = 0; i < n; i++) pq += p[i]! * q[i]!;
    if (!(pq > 0)) break;
    const step = rz / pq;
    let rzNext = 0;
    rNorm2 = 0;
    for (let i = 0; i < n; i++) {
      x[i] = x[i]! + step * p[i]!;
      const ri = r[i]! - step * q[i]!;
      r[i] = ri;
      const zi = ri * invDiag[i]!;
      z[i] = zi;
      rzNext += ri * zi;
      rNorm2 += ri * ri;
    }
    const beta = rzNext / rz;
    rz = rzNext;
    for (let i = 0; i < n; i++) p[i] = z[i]! + beta * p[i]!;
    it++;
  }
  return it;
}

function centre(x: Float64Array): void {
  const n = x.length;
  if (n === 0) return;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[i]!;
  const mean = sum / n;
  for (let i = 0; i < n; i++) x[i] = x[i]! - mean;
}

function dotProduct(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function resolveSeMethod(requested: BtOptions['standardErrors'], n: number): SeMethod {
  const method = requested ?? 'auto';
  if (method === 'auto') return n <= DEFAULT_CONFIG.BT_EXACT_SE_MAX_N ? 'exact' : 'approx';
  return method;
}

/** Fits the Bradley–Terry MAP (and standard errors unless standardErrors is 'none'). */
export function fitBradleyTerry(data: BtData, options: BtOptions = {}): BtFit {
  return fitPairGraph(buildPairGraph(data), options);
}

/** As fitBradleyTerry, on an already aggregated pair graph (lets callers reuse the aggregation). */
export function fitPairGraph(graph: PairGraph, options: BtOptions = {}): BtFit {
  const n = graph.n;
  const alpha = options.alpha ?? DEFAULT_CONFIG.BT_PRIOR_ALPHA;
  if (!(alpha > 0) || !Number.isFinite(alpha)) {
    throw new RangeError(`alpha must be a positive finite number, got ${alpha}`);
  }
  const tolerance = options.tolerance ?? DEFAULT_CONFIG.BT_FIT_TOLERANCE;
  const maxIterations = options.maxIterations ?? DEFAULT_CONFIG.BT_MAX_NEWTON_ITERATIONS;
  const seMethod = resolveSeMethod(options.standardErrors, n);
  const probes = options.seProbes ?? DEFAULT_CONFIG.BT_APPROX_SE_PROBES;
  if (!Number.isInteger(probes) || probes < 1) {
    throw new RangeError(`seProbes must be a positive integer, got ${probes}`);
  }
  if (n === 0) {
    return {
      scores: new Float64Array(0),
      se: seMethod === 'none' ? null : new Float64Array(0),
      seMethod,
      iterations: 0,
      converged: true,
      logPosterior: 0,
    };
  }
  const theta = new Float64Array(n);
  if (options.initial) {
    if (options.initial.length !== n) {
      throw new RangeError(`initial has length ${options.initial.length}, expected ${n}`);
    }
    for (let i = 0; i < n; i++) {
      const v = options.initial[i]!;
      theta[i] = Number.isFinite(v) ? v : 0;
    }
    centre(theta);
  } else {
    // Cold start at each item's smoothed log-odds of winning (0 for an item never compared):
    // measured 8 instead of 10 Newton iterations at n = 1,000 and 9 instead of 11 at 10,000.
    for (let i = 0; i < n; i++) {
      const wins = graph.totalWins[i]!;
      theta[i] = Math.log((wins + 1) / (graph.degree[i]! - wins + 1));
    }
    centre(theta);
  }

  let current = newEvaluation(graph);
  let trial = newEvaluation(graph);
  const trialTheta = new Float64Array(n);
  const step = new Float64Array(n);
  const work = newPcgWork(n);
  const whole = singleGroup(n);
  const innerMax = Math.max(50, Math.min(n + 10, 2000));
  evaluate(graph, alpha, theta, current);

  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    const gNorm2 = dotProduct(current.grad, current.grad);
    if (gNorm2 === 0) {
      converged = true;
      break;
    }
    // Inexact Newton: solve loosely far from the optimum, tightly near it (superlinear).
    const relTol = Math.min(0.1, Math.max(1e-12, Math.sqrt(gNorm2)));
    step.fill(0);
    pcgSolve(graph, current, whole, current.grad, step, relTol, innerMax, work);
    centre(step);
    const slope = dotProduct(step, current.grad);
    let maxStep = 0;
    for (let i = 0; i < n; i++) maxStep = Math.max(maxStep, Math.abs(step[i]!));
    iterations++;
    if (!(slope > 0)) {
      // No ascent direction left at working precision: we are at the optimum.
      converged = true;
      break;
    }
    const t = takeStep(graph, alpha, theta, step, slope, trial, trialTheta);
    if (t === 0) {
      converged = true;
      break;
    }
    theta.set(trialTheta);
    const swap = current;
    current = trial;
    trial = swap;
    if (t * maxStep < tolerance) {
      converged = true;
      break;
    }
  }

  let se: Float64Array | null = null;
  if (seMethod === 'exact') se = exactStandardErrors(graph, current, alpha);
  else if (seMethod === 'approx') {
    se = approxStandardErrors(
      graph,
      current,
      alpha,
      probes,
      Math.max(probes, DEFAULT_CONFIG.BT_APPROX_SE_MAX_PROBES),
      DEFAULT_CONFIG.BT_APPROX_SE_TARGET_ERROR,
      options.seSeed ?? hashSeed('bt-approx-se', n, graph.col.length),
    );
  }
  return {
    scores: theta,
    se,
    seMethod,
    iterations,
    converged,
    logPosterior: logPosteriorAt(graph, alpha, theta),
  };
}

/**
 * Chooses the step length along the Newton direction, leaving the new point in trialTheta and its
 * evaluation in `trial`; returns the length (0 when no step increases ℓ at working precision).
 */
function takeStep(
  graph: PairGraph,
  alpha: number,
  theta: Float64Array,
  step: Float64Array,
  slope: number,
  trial: Evaluation,
  trialTheta: Float64Array,
): number {
  const n = graph.n;
  const moveTo = (t: number): void => {
    for (let i = 0; i < n; i++) trialTheta[i] = theta[i]! + t * step[i]!;
    centre(trialTheta);
  };
  moveTo(1);
  evaluate(graph, alpha, trialTheta, trial);
  // ℓ is concave along the step: a non-negative slope at its end means ℓ rose all the way.
  if (dotProduct(trial.grad, step) >= 0) return 1;
  // Overshoot: Armijo backtracking on ℓ. The slack absorbs rounding in ℓ near the optimum.
  const base = logPosteriorAt(graph, alpha, theta);
  const slack = 1e-12 * (1 + Math.abs(base));
  let t = 1;
  for (let halvings = 0; halvings < 60; halvings++) {
    if (halvings > 0) moveTo(t);
    if (logPosteriorAt(graph, alpha, trialTheta) >= base + 1e-4 * t * slope - slack) {
      if (halvings > 0) evaluate(graph, alpha, trialTheta, trial);
      return t;
    }
    t *= 0.5;
  }
  return 0;
}

/**
 * Exact SEs: dense Cholesky of M, then diag(M⁻¹) (see linear-algebra.ts), shifted by the 11ᵀ/n
 * term. Memory: one n×n Float64Array (8n² bytes).
 */
function exactStandardErrors(graph: PairGraph, ev: Evaluation, alpha: number): Float64Array {
  const { n, rowStart, col } = graph;
  const invN = 1 / n;
  const a = new Float64Array(n * n);
  // Lower triangle of M: 1/n everywhere, minus the Fisher weight of each pair, plus the diagonal.
  for (let i = 0; i < n; i++) {
    const row = i * n;
    a.fill(invN, row, row + i);
    a[row + i] = ev.diag[i]! + invN;
  }
  for (let i = 0; i < n; i++) {
    for (let e = rowStart[i]!, end = rowStart[i + 1]!; e < end; e++) {
      const index = col[e]! * n + i;
      a[index] = a[index]! - ev.weight[e]!;
    }
  }
  choleskyInPlace(a, n);
  const diagInv = inverseDiagonalFromCholesky(a, n);
  const shift = 1 / (n * (1 + alpha));
  const se = new Float64Array(n);
  for (let i = 0; i < n; i++) se[i] = Math.sqrt(Math.max(0, diagInv[i]! - shift));
  return se;
}

/** y = W x with W the off-diagonal Fisher weights (L + αI = D − W). */
function applyW(graph: PairGraph, ev: Evaluation, x: Float64Array, y: Float64Array): void {
  const { n, rowStart, col } = graph;
  const weight = ev.weight;
  y.fill(0);
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    let acc = 0;
    for (let e = rowStart[i]!, end = rowStart[i + 1]!; e < end; e++) {
      const j = col[e]!;
      const h = weight[e]!;
      acc += h * x[j]!;
      y[j] = y[j]! + h * xi;
    }
    y[i] = y[i]! + acc;
  }
}

/**
 * Approximate SEs by Hutchinson's estimator of diag(P (L+αI)⁻¹ P) with a control variate
 * C = D⁻¹ + D⁻¹WD⁻¹ + D⁻¹WD⁻¹WD⁻¹ (truncated Neumann series of (D − W)⁻¹), projected: diag(PCP)
 * is computed exactly and the Rademacher probes estimate only diag(P(L+αI)⁻¹P − PCP), whose
 * off-diagonal mass (the estimator's variance) is much smaller. PCP·z also warm-starts each solve.
 */
function approxStandardErrors(
  graph: PairGraph,
  ev: Evaluation,
  alpha: number,
  probes: number,
  maxProbes: number,
  targetError: number,
  seed: number,
): Float64Array {
  const n = graph.n;
  const { rowStart, col } = graph;
  const { weight, diag } = ev;
  const invD = new Float64Array(n);
  for (let i = 0; i < n; i++) invD[i] = 1 / diag[i]!;
  // Exact diagonal of C: 1/D_i + Σ_j w_ij² / (D_i² D_j) (the one-hop term has zero diagonal).
  const twoHop = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let e = rowStart[i]!, end = rowStart[i + 1]!; e < end; e++) {
      const j = col[e]!;
      const w2 = weight[e]! * weight[e]!;
      twoHop[i] = twoHop[i]! + w2 * invD[j]!;
      twoHop[j] = twoHop[j]! + w2 * invD[i]!;
    }
  }
  const diagC = new Float64Array(n);
  for (let i = 0; i < n; i++) diagC[i] = invD[i]! + invD[i]! * invD[i]! * twoHop[i]!;
  const t1 = new Float64Array(n);
  const t2 = new Float64Array(n);
  const applyC = (x: Float64Array, y: Float64Array): void => {
    for (let i = 0; i < n; i++) y[i] = x[i]! * invD[i]!;
    applyW(graph, ev, y, t1);
    for (let i = 0; i < n; i++) t1[i] = t1[i]! * invD[i]!;
    applyW(graph, ev, t1, t2);
    for (let i = 0; i < n; i++) y[i] = y[i]! + t1[i]! + t2[i]! * invD[i]!;
  };
  // Q centres within each connected component g. C is block-diagonal by component, so
  // diag(QCQ)_i = C_ii − 2 (C1)_i / n_g + (Σ_{j∈g} (C1)_j) / n_g².
  const components = connectedComponents(graph);
  const { label, invSize } = components;
  const ones = new Float64Array(n).fill(1);
  const c1 = new Float64Array(n);
  applyC(ones, c1);
  const componentTotal = new Float64Array(invSize.length);
  for (let i = 0; i < n; i++) componentTotal[label[i]!] = componentTotal[label[i]!]! + c1[i]!;
  const estimate = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const inv = invSize[label[i]!]!;
    estimate[i] = diagC[i]! - 2 * c1[i]! * inv + componentTotal[label[i]!]! * inv * inv;
  }

  const rng = seededRandom(seed);
  const sign = new Float64Array(n);
  const pz = new Float64Array(n);
  const cz = new Float64Array(n);
  const x = new Float64Array(n);
  const work = newPcgWork(n);
  const innerMax = Math.max(50, Math.min(n + 10, 2000));
  const relTol = DEFAULT_CONFIG.BT_APPROX_SE_CG_TOLERANCE;
  const remainder = new Float64Array(n);
  const remainderSquares = new Float64Array(n);
  let done = 0;
  let planned = Math.min(probes, maxProbes);
  while (done < planned) {
    for (let i = 0; i < n; i++) sign[i] = rng() < 0.5 ? -1 : 1;
    pz.set(sign);
    centreWithin(components, pz);
    applyC(pz, cz);
    centreWithin(components, cz);
    // x = (L+αI)⁻¹ Q z, warm-started at the control variate Q C Q z; the exact solution has
    // zero sum in every component, so re-projecting only removes solver error.
    x.set(cz);
    pcgSolve(graph, ev, components, pz, x, relTol, innerMax, work);
    centreWithin(components, x);
    // E[z ⊙ G z] = diag(G) for Rademacher z, with G = Q((L+αI)⁻¹ − C)Q: Gz = x − QCQz.
    for (let i = 0; i < n; i++) {
      const term = sign[i]! * (x[i]! - cz[i]!);
      remainder[i] = remainder[i]! + term;
      remainderSquares[i] = remainderSquares[i]! + term * term;
    }
    done++;
    if (done === planned && done < maxProbes) {
      // Estimated relative standard error of the worst item's SE (half that of its variance);
      // if above target, plan the probe count that the 1/√K law says would reach it.
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const mean = remainder[i]! / done;
        const spread = Math.max(0, remainderSquares[i]! / done - mean * mean);
        const variance = estimate[i]! + mean + (invSize[label[i]!]! - 1 / n) / alpha;
        if (variance > 0) worst = Math.max(worst, (0.5 * Math.sqrt(spread / done)) / variance);
      }
      if (worst > targetError) {
        // At least a quarter more, so a borderline estimate does not trigger many small rounds.
        const needed = Math.ceil(done * Math.max(1.25, (worst / targetError) ** 2));
        planned = Math.min(maxProbes, needed);
      }
    }
  }
  // (L+αI)⁻¹ = Q(L+αI)⁻¹Q + Σ_g 1_g1_gᵀ/(α n_g), and Cov = P(L+αI)⁻¹P subtracts 1/(α n) from
  // the diagonal ((L+αI)⁻¹1 = 1/α): the component-constant part is exact, not estimated.
  const se = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const exactPart = (invSize[label[i]!]! - 1 / n) / alpha;
    const variance = estimate[i]! + (done > 0 ? remainder[i]! / done : 0) + exactPart;
    se[i] = Math.sqrt(Math.max(0, variance));
  }
  return se;
}
