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
 * preconditioned conjugate gradients on the sparse weighted Laplacian L (L_ij = −n_ij p_ij (1−p_ij))
 * and a backtracking (Armijo) line search. Duplicate pairs are aggregated first, so the cost per
 * iteration is O(distinct pairs).
 *
 * Standard errors of the centred scores: Cov = P (L + αI)⁻¹ P with P = I − 11ᵀ/n (the Fisher
 * information at the MAP, consistent with the centring). With M = L + αI + 11ᵀ/n (SPD; eigenvalue
 * 1+α along 1 and equal to L+αI on 1⊥): diag(Cov) = diag(M⁻¹) − 1/(n(1+α)).
 *  - 'exact': dense Cholesky of M, then the diagonal of M⁻¹ from the inverse Cholesky factor.
 *    O(n³) time, n² doubles of memory; used up to BT_EXACT_SE_MAX_N.
 *  - 'approx': stochastic diagonal estimation (Hutchinson, Rademacher probes) of diag(Cov), with
 *    each probe solved by PCG and a control variate: a truncated Neumann series of (L+αI)⁻¹ whose
 *    diagonal is known exactly, so the probes only estimate the small remainder. Seeded and
 *    deterministic. Measured error vs exact: see BT_APPROX_SE_PROBES in config.ts and BENCHMARKS.md.
 */
import { DEFAULT_CONFIG } from './config.ts';
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
  /** Probes for approximate SEs. Default BT_APPROX_SE_PROBES. */
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
 * Comparisons aggregated per distinct pair, as symmetric CSR adjacency: for row i, entries
 * rowStart[i]..rowStart[i+1]-1 hold neighbour col[e], the wins of i over that neighbour wins[e]
 * and the comparisons between them count[e]. Columns within a row are ascending.
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
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (winners.length !== losers.length) {
    throw new RangeError(
      `winners and losers differ in length (${winners.length} vs ${losers.length})`,
    );
  }
  for (let k = 0; k < winners.length; k++) {
    const w = winners[k] as number;
    const l = losers[k] as number;
    if (w < 0 || w >= n || l < 0 || l >= n) {
      throw new RangeError(`comparison ${k} has an index outside 0..${n - 1}`);
    }
    if (w === l) throw new RangeError(`comparison ${k} compares item ${w} with itself`);
  }
}

/** Aggregates comparisons into the CSR pair graph (O(m + distinct pairs · log degree)). */
export function buildPairGraph(data: BtData): PairGraph {
  validate(data);
  const { n, winners, losers } = data;
  const m = winners.length;
  const degree = new Float64Array(n);
  const totalWins = new Float64Array(n);
  const rawStart = new Int32Array(n + 1);
  for (let k = 0; k < m; k++) {
    const w = winners[k] as number;
    const l = losers[k] as number;
    rawStart[w + 1] = (rawStart[w + 1] as number) + 1;
    rawStart[l + 1] = (rawStart[l + 1] as number) + 1;
    degree[w] = (degree[w] as number) + 1;
    degree[l] = (degree[l] as number) + 1;
    totalWins[w] = (totalWins[w] as number) + 1;
  }
  for (let i = 0; i < n; i++)
    rawStart[i + 1] = (rawStart[i + 1] as number) + (rawStart[i] as number);
  const rawCol = new Int32Array(2 * m);
  const rawWin = new Uint8Array(2 * m);
  const cursor = rawStart.slice(0, n);
  for (let k = 0; k < m; k++) {
    const w = winners[k] as number;
    const l = losers[k] as number;
    let p = cursor[w] as number;
    rawCol[p] = l;
    rawWin[p] = 1;
    cursor[w] = p + 1;
    p = cursor[l] as number;
    rawCol[p] = w;
    cursor[l] = p + 1;
  }
  // Deduplicate each row with a per-column stamp; rows are compacted in place.
  const stamp = new Int32Array(n).fill(-1);
  const slot = new Int32Array(n);
  const rowStart = new Int32Array(n + 1);
  const colTmp = new Int32Array(2 * m);
  const winsTmp = new Float64Array(2 * m);
  const countTmp = new Float64Array(2 * m);
  let out = 0;
  for (let i = 0; i < n; i++) {
    rowStart[i] = out;
    const begin = out;
    for (let p = rawStart[i] as number, end = rawStart[i + 1] as number; p < end; p++) {
      const j = rawCol[p] as number;
      if (stamp[j] !== i) {
        stamp[j] = i;
        slot[j] = out;
        colTmp[out] = j;
        winsTmp[out] = rawWin[p] as number;
        countTmp[out] = 1;
        out++;
      } else {
        const s = slot[j] as number;
        winsTmp[s] = (winsTmp[s] as number) + (rawWin[p] as number);
        countTmp[s] = (countTmp[s] as number) + 1;
      }
    }
    sortRow(colTmp, winsTmp, countTmp, begin, out);
  }
  rowStart[n] = out;
  return {
    n,
    rowStart,
    col: colTmp.slice(0, out),
    wins: winsTmp.slice(0, out),
    count: countTmp.slice(0, out),
    totalWins,
    degree,
  };
}

/** Insertion sort of one CSR row by column (rows are short: the distinct opponents of an item). */
function sortRow(
  col: Int32Array,
  wins: Float64Array,
  count: Float64Array,
  begin: number,
  end: number,
): void {
  for (let a = begin + 1; a < end; a++) {
    const c = col[a] as number;
    const w = wins[a] as number;
    const k = count[a] as number;
    let b = a - 1;
    while (b >= begin && (col[b] as number) > c) {
      col[b + 1] = col[b] as number;
      wins[b + 1] = wins[b] as number;
      count[b + 1] = count[b] as number;
      b--;
    }
    col[b + 1] = c;
    wins[b + 1] = w;
    count[b + 1] = k;
  }
}

/** Workspace for evaluating ℓ, its gradient and the Hessian weights at a point. */
interface Evaluation {
  value: number;
  grad: Float64Array;
  /** Per CSR entry: n_ij p_ij (1 − p_ij), the Fisher weight of the pair. */
  weight: Float64Array;
  /** Diagonal of L + αI. */
  diag: Float64Array;
}

function newEvaluation(graph: PairGraph): Evaluation {
  return {
    value: 0,
    grad: new Float64Array(graph.n),
    weight: new Float64Array(graph.col.length),
    diag: new Float64Array(graph.n),
  };
}

/** Evaluates ℓ(θ), ∇ℓ(θ) and the Fisher weights in one pass (one exp and one log1p per entry). */
function evaluate(graph: PairGraph, alpha: number, theta: Float64Array, out: Evaluation): void {
  const { n, rowStart, col, wins, count, totalWins } = graph;
  const { grad, weight, diag } = out;
  let loglik = 0;
  let prior = 0;
  for (let i = 0; i < n; i++) {
    const ti = theta[i] as number;
    let g = (totalWins[i] as number) - alpha * ti;
    let d = alpha;
    for (let e = rowStart[i] as number, end = rowStart[i + 1] as number; e < end; e++) {
      const x = ti - (theta[col[e] as number] as number);
      const w = wins[e] as number;
      const c = count[e] as number;
      // σ(x) and log σ(x) from one exp(−|x|), stable for any x.
      const ex = Math.exp(-Math.abs(x));
      const inv = 1 / (1 + ex);
      const s = x >= 0 ? inv : ex * inv;
      if (w > 0) loglik += w * (x >= 0 ? -Math.log1p(ex) : x - Math.log1p(ex));
      g -= c * s;
      const h = c * s * (1 - s);
      weight[e] = h;
      d += h;
    }
    grad[i] = g;
    diag[i] = d;
    prior += ti * ti;
  }
  out.value = loglik - 0.5 * alpha * prior;
}

/** y = M x with M = L + αI + 11ᵀ/n (L from the Fisher weights; diag already includes α). */
function applyM(graph: PairGraph, ev: Evaluation, x: Float64Array, y: Float64Array): void {
  const { n, rowStart, col } = graph;
  const { weight, diag } = ev;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[i] as number;
  const mean = sum / n;
  for (let i = 0; i < n; i++) {
    let acc = (diag[i] as number) * (x[i] as number) + mean;
    for (let e = rowStart[i] as number, end = rowStart[i + 1] as number; e < end; e++) {
      acc -= (weight[e] as number) * (x[col[e] as number] as number);
    }
    y[i] = acc;
  }
}

interface PcgWork {
  r: Float64Array;
  z: Float64Array;
  p: Float64Array;
  q: Float64Array;
}

function newPcgWork(n: number): PcgWork {
  return {
    r: new Float64Array(n),
    z: new Float64Array(n),
    p: new Float64Array(n),
    q: new Float64Array(n),
  };
}

/**
 * Solves M x = b by Jacobi-preconditioned CG, starting from the given x, until
 * ‖r‖₂ ≤ relTol·‖b‖₂ or maxIter. For b ⊥ 1 the solution equals (L+αI)⁻¹ b and is centred.
 */
function pcgSolve(
  graph: PairGraph,
  ev: Evaluation,
  b: Float64Array,
  x: Float64Array,
  relTol: number,
  maxIter: number,
  work: PcgWork,
): number {
  const n = graph.n;
  const { r, z, p, q } = work;
  const invN = 1 / n;
  applyM(graph, ev, x, q);
  let bNorm2 = 0;
  let rz = 0;
  let rNorm2 = 0;
  for (let i = 0; i < n; i++) {
    const bi = b[i] as number;
    bNorm2 += bi * bi;
    const ri = bi - (q[i] as number);
    r[i] = ri;
    const zi = ri / ((ev.diag[i] as number) + invN);
    z[i] = zi;
    p[i] = zi;
    rz += ri * zi;
    rNorm2 += ri * ri;
  }
  const target = relTol * relTol * bNorm2;
  let it = 0;
  while (rNorm2 > target && it < maxIter) {
    applyM(graph, ev, p, q);
    let pq = 0;
    for (let i = 0; i < n; i++) pq += (p[i] as number) * (q[i] as number);
    if (!(pq > 0)) break;
    const step = rz / pq;
    let rzNext = 0;
    rNorm2 = 0;
    for (let i = 0; i < n; i++) {
      x[i] = (x[i] as number) + step * (p[i] as number);
      const ri = (r[i] as number) - step * (q[i] as number);
      r[i] = ri;
      const zi = ri / ((ev.diag[i] as number) + invN);
      z[i] = zi;
      rzNext += ri * zi;
      rNorm2 += ri * ri;
    }
    const beta = rzNext / rz;
    rz = rzNext;
    for (let i = 0; i < n; i++) p[i] = (z[i] as number) + beta * (p[i] as number);
    it++;
  }
  return it;
}

function centre(x: Float64Array): void {
  const n = x.length;
  if (n === 0) return;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[i] as number;
  const mean = sum / n;
  for (let i = 0; i < n; i++) x[i] = (x[i] as number) - mean;
}

function resolveSeMethod(requested: BtOptions['standardErrors'], n: number): SeMethod {
  const method = requested ?? 'auto';
  if (method === 'auto') return n <= DEFAULT_CONFIG.BT_EXACT_SE_MAX_N ? 'exact' : 'approx';
  return method;
}

/** Fits the Bradley–Terry MAP (and standard errors unless standardErrors is 'none'). */
export function fitBradleyTerry(data: BtData, options: BtOptions = {}): BtFit {
  const graph = buildPairGraph(data);
  return fitPairGraph(graph, options);
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
      const v = options.initial[i] as number;
      theta[i] = Number.isFinite(v) ? v : 0;
    }
    centre(theta);
  }

  let current = newEvaluation(graph);
  let trial = newEvaluation(graph);
  const trialTheta = new Float64Array(n);
  const step = new Float64Array(n);
  const work = newPcgWork(n);
  const innerMax = Math.max(50, Math.min(n + 10, 2000));
  evaluate(graph, alpha, theta, current);

  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    let gNorm2 = 0;
    for (let i = 0; i < n; i++) gNorm2 += (current.grad[i] as number) ** 2;
    if (gNorm2 === 0) {
      converged = true;
      break;
    }
    // Inexact Newton: solve loosely far from the optimum, tightly near it (superlinear).
    const relTol = Math.min(0.1, Math.max(1e-12, Math.sqrt(gNorm2)));
    step.fill(0);
    pcgSolve(graph, current, current.grad, step, relTol, innerMax, work);
    centre(step);
    let slope = 0;
    let maxStep = 0;
    for (let i = 0; i < n; i++) {
      const s = step[i] as number;
      slope += s * (current.grad[i] as number);
      const a = Math.abs(s);
      if (a > maxStep) maxStep = a;
    }
    iterations++;
    // Backtracking line search on ℓ (Armijo); a full step is taken almost always.
    let t = 1;
    let accepted = false;
    for (let halvings = 0; halvings < 60; halvings++) {
      for (let i = 0; i < n; i++) trialTheta[i] = (theta[i] as number) + t * (step[i] as number);
      centre(trialTheta);
      evaluate(graph, alpha, trialTheta, trial);
      if (trial.value >= current.value + 1e-4 * t * slope) {
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) {
      // No ascent possible at machine precision: we are at the optimum.
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
      options.seProbes ?? DEFAULT_CONFIG.BT_APPROX_SE_PROBES,
      options.seSeed ?? hashSeed('bt-approx-se', n, graph.col.length),
    );
  }
  return { scores: theta, se, seMethod, iterations, converged, logPosterior: current.value };
}

/**
 * Exact SEs: dense Cholesky M = R Rᵀ (R lower, row-major), then X = R⁻¹ in place; diag(M⁻¹)_c is
 * the squared norm of column c of X. Inner loops run over contiguous rows.
 */
function exactStandardErrors(graph: PairGraph, ev: Evaluation, alpha: number): Float64Array {
  const n = graph.n;
  const invN = 1 / n;
  const a = new Float64Array(n * n);
  // Lower triangle of M.
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < i; j++) a[row + j] = invN;
    a[row + i] = (ev.diag[i] as number) + invN;
    for (let e = graph.rowStart[i] as number, end = graph.rowStart[i + 1] as number; e < end; e++) {
      const j = graph.col[e] as number;
      if (j < i) a[row + j] = (a[row + j] as number) - (ev.weight[e] as number);
    }
  }
  choleskyInPlace(a, n);
  const diagInv = lowerInverseColumnNorms(a, n);
  const shift = 1 / (n * (1 + alpha));
  const se = new Float64Array(n);
  for (let i = 0; i < n; i++) se[i] = Math.sqrt(Math.max(0, (diagInv[i] as number) - shift));
  return se;
}

function dot(a: Float64Array, offA: number, offB: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    s0 += (a[offA + k] as number) * (a[offB + k] as number);
    s1 += (a[offA + k + 1] as number) * (a[offB + k + 1] as number);
    s2 += (a[offA + k + 2] as number) * (a[offB + k + 2] as number);
    s3 += (a[offA + k + 3] as number) * (a[offB + k + 3] as number);
  }
  for (; k < len; k++) s0 += (a[offA + k] as number) * (a[offB + k] as number);
  return s0 + s1 + s2 + s3;
}

/** In-place Cholesky of the lower triangle of a row-major SPD matrix. */
function choleskyInPlace(a: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j < i; j++) {
      const rj = j * n;
      const s = (a[ri + j] as number) - dot(a, ri, rj, j);
      a[ri + j] = s / (a[rj + j] as number);
    }
    const d = (a[ri + i] as number) - dot(a, ri, ri, i);
    if (!(d > 0)) throw new Error('information matrix is not positive definite');
    a[ri + i] = Math.sqrt(d);
  }
}

/**
 * Overwrites the lower-triangular factor R with X = R⁻¹ (row by row: row r of X only needs row r
 * of R and rows < r of X) and returns the squared column norms of X, i.e. diag(M⁻¹).
 */
function lowerInverseColumnNorms(a: Float64Array, n: number): Float64Array {
  const norms = new Float64Array(n);
  const t = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const rr = r * n;
    t.fill(0, 0, r);
    for (let k = 0; k < r; k++) {
      const coef = a[rr + k] as number;
      if (coef === 0) continue;
      const rk = k * n;
      for (let c = 0; c <= k; c++) t[c] = (t[c] as number) + coef * (a[rk + c] as number);
    }
    const inv = 1 / (a[rr + r] as number);
    for (let c = 0; c < r; c++) {
      const v = -(t[c] as number) * inv;
      a[rr + c] = v;
      norms[c] = (norms[c] as number) + v * v;
    }
    a[rr + r] = inv;
    norms[r] = (norms[r] as number) + inv * inv;
  }
  return norms;
}

/** y = W x with W the off-diagonal Fisher weights (L + αI = D − W). */
function applyW(graph: PairGraph, ev: Evaluation, x: Float64Array, y: Float64Array): void {
  const { n, rowStart, col } = graph;
  const weight = ev.weight;
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let e = rowStart[i] as number, end = rowStart[i + 1] as number; e < end; e++) {
      acc += (weight[e] as number) * (x[col[e] as number] as number);
    }
    y[i] = acc;
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
  probes: number,
  seed: number,
): Float64Array {
  const n = graph.n;
  const { rowStart, col } = graph;
  const { weight, diag } = ev;
  const invD = new Float64Array(n);
  for (let i = 0; i < n; i++) invD[i] = 1 / (diag[i] as number);
  // Exact diagonal of C: 1/D_i + Σ_j w_ij² / (D_i² D_j) (the one-hop term has zero diagonal).
  const diagC = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let e = rowStart[i] as number, end = rowStart[i + 1] as number; e < end; e++) {
      const w = weight[e] as number;
      acc += w * w * (invD[col[e] as number] as number);
    }
    const di = invD[i] as number;
    diagC[i] = di + di * di * acc;
  }
  const t1 = new Float64Array(n);
  const t2 = new Float64Array(n);
  const applyC = (x: Float64Array, y: Float64Array): void => {
    for (let i = 0; i < n; i++) y[i] = (x[i] as number) * (invD[i] as number);
    applyW(graph, ev, y, t1);
    for (let i = 0; i < n; i++) t1[i] = (t1[i] as number) * (invD[i] as number);
    applyW(graph, ev, t1, t2);
    for (let i = 0; i < n; i++) {
      y[i] = (y[i] as number) + (t1[i] as number) + (t2[i] as number) * (invD[i] as number);
    }
  };
  // diag(PCP)_i = C_ii − 2 (C1)_i / n + 1ᵀC1 / n².
  const ones = new Float64Array(n).fill(1);
  const c1 = new Float64Array(n);
  applyC(ones, c1);
  let total = 0;
  for (let i = 0; i < n; i++) total += c1[i] as number;
  const estimate = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    estimate[i] = (diagC[i] as number) - (2 * (c1[i] as number)) / n + total / (n * n);
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
  for (let k = 0; k < probes; k++) {
    for (let i = 0; i < n; i++) sign[i] = rng() < 0.5 ? -1 : 1;
    pz.set(sign);
    centre(pz);
    applyC(pz, cz);
    centre(cz);
    // x = (L+αI)⁻¹ P z (centred because Pz ⊥ 1), warm-started at the control variate P C P z.
    x.set(cz);
    pcgSolve(graph, ev, pz, x, relTol, innerMax, work);
    // E[z ⊙ G z] = diag(G) for Rademacher z, with G = P((L+αI)⁻¹ − C)P: Gz = x − PCPz.
    for (let i = 0; i < n; i++) {
      remainder[i] =
        (remainder[i] as number) + (sign[i] as number) * ((x[i] as number) - (cz[i] as number));
    }
  }
  // Variances of the centred scores; the shift of the exact path does not apply (no 11ᵀ/n term).
  const se = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const variance = (estimate[i] as number) + (probes > 0 ? (remainder[i] as number) / probes : 0);
    se[i] = Math.sqrt(Math.max(0, variance));
  }
  return se;
}
