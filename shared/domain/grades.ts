/**
 * Grades from anchor essays: an ordinal model of the anchors' known grades on their scores sets the
 * grade boundaries on the score scale, and every essay gets the probability of each grade from its
 * score and SE. Pure and deterministic (docs/grades.md).
 *
 * Model (ordered probit with a known measurement error). Grades 0..G−1 (lowest first) are bands of
 * the latent quality θ between boundaries c_1 < … < c_{G−1}. An anchor with posterior score μ and
 * SE s, graded k by its assessors, has
 *   P(grade k) = Φ((c_{k+1} − μ)/σ) − Φ((c_k − μ)/σ),   σ² = s² + τ²,   c_0 = −∞, c_G = +∞,
 * where τ is the assessors' grading noise on the score scale (anchors graded off by a band).
 * Weak priors make two anchors per grade enough and keep boundaries without anchors on either side
 * defined: the log-widths of the inner bands share a common mean γ (log w_k ~ N(γ, 0.5²)), γ ~
 * N(log(4·spread/G), 1) with `spread` the SD of the batch's scores (grades usually span about ±2
 * SD), log τ ~ N(log(0.1·spread), 1.5²), and the lowest boundary N(−1.5·spread, (10·spread)²).
 * The maximum a posteriori is found by Newton's method on those G + 1 parameters (numerical
 * derivatives: the problem is tiny); the boundaries' SEs come from the curvature there (Laplace).
 *
 * Projection: an essay with score μ and SE s is in grade k with probability
 *   P(c_k < θ ≤ c_{k+1}),  θ ~ N(μ, s²),  c_k ~ N(ĉ_k, se(c_k)²)
 * i.e. P(grade ≤ k) = Φ((ĉ_{k+1} − μ) / √(s² + se(c_{k+1})²)): the score's uncertainty and the
 * boundaries' both propagate. The grading noise τ is not added: the projected grade is the band
 * the essay's quality lies in, not a noisy assessor's call.
 */
import { normalCdf } from '#domain/special-functions.ts';

export interface AnchorObservation {
  /** Posterior score and SE of the anchor essay. */
  score: number;
  se: number;
  /** Its known grade, 0 = lowest. */
  grade: number;
}

export interface GradeModelOptions {
  /** Number of grades G on the scale (≥ 2). */
  grades: number;
  /** SD of all essays' scores in the batch (scales the weak priors). */
  spread: number;
}

export interface GradeBoundary {
  /** Score at which grade k − 1 ends and grade k begins (k = 1..G−1). */
  estimate: number;
  se: number;
}

export interface GradeModel {
  grades: number;
  boundaries: GradeBoundary[];
  /** Estimated grading noise τ of the anchors (logits). */
  gradingNoise: number;
  /** Anchors per grade. */
  anchorsPerGrade: number[];
  converged: boolean;
}

/** A caller error (bad grade, too few distinct grades); the message names the problem. */
export class GradeModelError extends Error {
  override name = 'GradeModelError';
}

const GAP_SD = 0.5;
const GAMMA_SD = 1;
const NOISE_LOG_SD = 1.5;

/** log(Φ(b) − Φ(a)) for a < b, stable when both lie in the same tail. */
function logNormalInterval(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return Math.log(Math.max(1e-300, normalCdf(b)));
  if (b === Number.POSITIVE_INFINITY) return Math.log(Math.max(1e-300, normalCdf(-a)));
  // Use the tail where both are small: if a > 0, Φ(b) − Φ(a) = Φ(−a) − Φ(−b).
  const value = a > 0 ? normalCdf(-a) - normalCdf(-b) : normalCdf(b) - normalCdf(a);
  return Math.log(Math.max(1e-300, value));
}

/** Parameters: [c_1, log w_1..log w_{G−2}, γ, log τ]. */
interface Layout {
  grades: number;
  gapCount: number;
  size: number;
}

function boundariesOf(params: Float64Array, layout: Layout): Float64Array {
  const c = new Float64Array(layout.grades - 1);
  c[0] = params[0] as number;
  for (let k = 1; k < c.length; k++) {
    c[k] = (c[k - 1] as number) + Math.exp(params[k] as number);
  }
  return c;
}

function logPosterior(
  params: Float64Array,
  layout: Layout,
  anchors: readonly AnchorObservation[],
  priors: { lowest: number; lowestSd: number; gamma: number; logNoise: number },
): number {
  const c = boundariesOf(params, layout);
  const gamma = params[layout.size - 2] as number;
  const logNoise = params[layout.size - 1] as number;
  const noise2 = Math.exp(2 * logNoise);
  let total = 0;
  for (const anchor of anchors) {
    const sigma = Math.sqrt(anchor.se * anchor.se + noise2);
    const lower =
      anchor.grade === 0
        ? Number.NEGATIVE_INFINITY
        : (c[anchor.grade - 1] as number) - anchor.score;
    const upper =
      anchor.grade === layout.grades - 1
        ? Number.POSITIVE_INFINITY
        : (c[anchor.grade] as number) - anchor.score;
    total += logNormalInterval(lower / sigma, upper / sigma);
  }
  const z0 = ((params[0] as number) - priors.lowest) / priors.lowestSd;
  total -= 0.5 * z0 * z0;
  for (let k = 1; k <= layout.gapCount; k++) {
    const z = ((params[k] as number) - gamma) / GAP_SD;
    total -= 0.5 * z * z;
  }
  const zg = (gamma - priors.gamma) / GAMMA_SD;
  const zn = (logNoise - priors.logNoise) / NOISE_LOG_SD;
  return total - 0.5 * zg * zg - 0.5 * zn * zn;
}

/** Dense symmetric solve by Cholesky; null when the matrix is not positive definite. */
function choleskySolve(matrix: Float64Array, rhs: Float64Array, size: number): Float64Array | null {
  const l = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i * size + j] as number;
      for (let k = 0; k < j; k++) sum -= (l[i * size + k] as number) * (l[j * size + k] as number);
      if (i === j) {
        if (!(sum > 0)) return null;
        l[i * size + i] = Math.sqrt(sum);
      } else {
        l[i * size + j] = sum / (l[j * size + j] as number);
      }
    }
  }
  const y = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    let sum = rhs[i] as number;
    for (let k = 0; k < i; k++) sum -= (l[i * size + k] as number) * (y[k] as number);
    y[i] = sum / (l[i * size + i] as number);
  }
  const x = new Float64Array(size);
  for (let i = size - 1; i >= 0; i--) {
    let sum = y[i] as number;
    for (let k = i + 1; k < size; k++) sum -= (l[k * size + i] as number) * (x[k] as number);
    x[i] = sum / (l[i * size + i] as number);
  }
  return x;
}

const STEP = 1e-4;

/** Gradient and negative Hessian of f at p by central differences. */
function derivatives(
  f: (p: Float64Array) => number,
  p: Float64Array,
  size: number,
): { gradient: Float64Array; negHessian: Float64Array } {
  const gradient = new Float64Array(size);
  const negHessian = new Float64Array(size * size);
  const at = (changes: [number, number][]) => {
    const q = Float64Array.from(p);
    for (const [index, delta] of changes) q[index] = (q[index] as number) + delta;
    return f(q);
  };
  const centre = f(p);
  for (let i = 0; i < size; i++) {
    const plus = at([[i, STEP]]);
    const minus = at([[i, -STEP]]);
    gradient[i] = (plus - minus) / (2 * STEP);
    negHessian[i * size + i] = -(plus - 2 * centre + minus) / (STEP * STEP);
    for (let j = 0; j < i; j++) {
      const value =
        -(
          at([
            [i, STEP],
            [j, STEP],
          ]) -
          at([
            [i, STEP],
            [j, -STEP],
          ]) -
          at([
            [i, -STEP],
            [j, STEP],
          ]) +
          at([
            [i, -STEP],
            [j, -STEP],
          ])
        ) /
        (4 * STEP * STEP);
      negHessian[i * size + j] = value;
      negHessian[j * size + i] = value;
    }
  }
  return { gradient, negHessian };
}

/**
 * Fits the grade boundaries to the anchors (see the module comment). Throws GradeModelError when
 * the grades are not integers in 0..G−1 or fewer than two distinct grades have anchors.
 */
export function fitGradeBoundaries(
  anchors: readonly AnchorObservation[],
  options: GradeModelOptions,
): GradeModel {
  const G = options.grades;
  if (!Number.isInteger(G) || G < 2) throw new GradeModelError(`grades must be >= 2, got ${G}`);
  const anchorsPerGrade = new Array<number>(G).fill(0);
  for (const anchor of anchors) {
    if (!Number.isInteger(anchor.grade) || anchor.grade < 0 || anchor.grade >= G) {
      throw new GradeModelError(`anchor grade ${anchor.grade} is outside 0..${G - 1}`);
    }
    if (!Number.isFinite(anchor.score) || !(anchor.se >= 0)) {
      throw new GradeModelError('anchor scores must be finite with SE >= 0');
    }
    anchorsPerGrade[anchor.grade] = (anchorsPerGrade[anchor.grade] as number) + 1;
  }
  if (anchorsPerGrade.filter((count) => count > 0).length < 2) {
    throw new GradeModelError('anchors must cover at least two distinct grades');
  }
  const spread = Math.max(0.25, Number.isFinite(options.spread) ? options.spread : 1);
  const layout: Layout = { grades: G, gapCount: G - 2, size: G + 1 };
  const width = (4 * spread) / G;
  const priors = {
    lowest: -((G - 2) / 2) * width,
    lowestSd: 10 * spread,
    gamma: Math.log(width),
    logNoise: Math.log(0.1 * spread),
  };
  // Start: equal bands centred on the anchors' mean score.
  let anchorMean = 0;
  for (const anchor of anchors) anchorMean += anchor.score;
  anchorMean /= anchors.length;
  const params = new Float64Array(layout.size);
  params[0] = anchorMean + priors.lowest;
  for (let k = 1; k <= layout.gapCount; k++) params[k] = priors.gamma;
  params[layout.size - 2] = priors.gamma;
  params[layout.size - 1] = priors.logNoise;
  const f = (p: Float64Array) => logPosterior(p, layout, anchors, priors);

  let converged = false;
  let value = f(params);
  let negHessian: Float64Array = new Float64Array(layout.size * layout.size);
  for (let iteration = 0; iteration < 100 && !converged; iteration++) {
    const d = derivatives(f, params, layout.size);
    negHessian = d.negHessian;
    // Newton direction, regularised towards gradient ascent if the curvature is not negative.
    let direction: Float64Array | null = null;
    for (
      let ridge = 0;
      direction === null && ridge < 1e8;
      ridge = ridge === 0 ? 1e-6 : ridge * 10
    ) {
      const m = Float64Array.from(negHessian);
      for (let i = 0; i < layout.size; i++)
        m[i * layout.size + i] = (m[i * layout.size + i] as number) + ridge;
      direction = choleskySolve(m, d.gradient, layout.size);
    }
    if (direction === null) break;
    let step = 1;
    let improved = false;
    for (let halving = 0; halving < 40; halving++) {
      const trial = Float64Array.from(params);
      for (let i = 0; i < layout.size; i++) {
        trial[i] = (trial[i] as number) + step * (direction[i] as number);
      }
      const trialValue = f(trial);
      if (Number.isFinite(trialValue) && trialValue >= value - 1e-12) {
        let largest = 0;
        for (let i = 0; i < layout.size; i++) {
          largest = Math.max(largest, Math.abs(step * (direction[i] as number)));
        }
        params.set(trial);
        converged = largest < 1e-7 || trialValue - value < 1e-12;
        value = trialValue;
        improved = true;
        break;
      }
      step *= 0.5;
    }
    if (!improved) {
      converged = true;
      break;
    }
  }
  negHessian = derivatives(f, params, layout.size).negHessian;

  // Laplace covariance of the parameters, then the delta method for each boundary.
  const c = boundariesOf(params, layout);
  const boundaries: GradeBoundary[] = [];
  for (let k = 0; k < G - 1; k++) {
    const jacobian = new Float64Array(layout.size);
    jacobian[0] = 1;
    for (let j = 1; j <= k; j++) jacobian[j] = Math.exp(params[j] as number);
    const solved = choleskySolve(negHessian, jacobian, layout.size);
    let variance = 0;
    if (solved !== null)
      for (let i = 0; i < layout.size; i++)
        variance += (jacobian[i] as number) * (solved[i] as number);
    boundaries.push({ estimate: c[k] as number, se: Math.sqrt(Math.max(0, variance)) });
  }
  return {
    grades: G,
    boundaries,
    gradingNoise: Math.exp(params[layout.size - 1] as number),
    anchorsPerGrade,
    converged,
  };
}

/**
 * Probability of each grade for an essay with this score and SE under the fitted boundaries
 * (length G, sums to 1).
 */
export function gradeProbabilities(score: number, se: number, model: GradeModel): Float64Array {
  const G = model.grades;
  const cumulative = new Float64Array(G);
  let previous = 0;
  for (let k = 0; k < G - 1; k++) {
    const boundary = model.boundaries[k] as GradeBoundary;
    const sd = Math.sqrt(se * se + boundary.se * boundary.se);
    const value =
      sd > 0 ? normalCdf((boundary.estimate - score) / sd) : score < boundary.estimate ? 1 : 0;
    // Boundaries with different SEs could make the cumulative dip; keep it monotone.
    previous = Math.max(previous, value);
    cumulative[k] = previous;
  }
  cumulative[G - 1] = 1;
  const probabilities = new Float64Array(G);
  let below = 0;
  for (let k = 0; k < G; k++) {
    probabilities[k] = (cumulative[k] as number) - below;
    below = cumulative[k] as number;
  }
  return probabilities;
}

/** The most probable grade (ties: the lower grade). */
export function mostLikelyGrade(probabilities: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < probabilities.length; k++) {
    if ((probabilities[k] as number) > (probabilities[best] as number)) best = k;
  }
  return best;
}

/** Φ⁻¹(p) for 0 < p < 1 (Acklam's rational approximation refined by one Halley step). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1, got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}
