/**
 * Independent, deliberately simple Bradley–Terry reference for tests: dense Newton on the same MAP
 * objective (comparisons taken one by one, no aggregation, Gaussian elimination), plus a numeric
 * Hessian from function values only. Slow (O(n³) per step) and only for small cases.
 */
import type { BtData } from '#domain/bradley-terry.ts';
import { normal, type Rng, seededRandom } from '#domain/random.ts';

function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log(1 + Math.exp(-x)) : x - Math.log(1 + Math.exp(x));
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Log-posterior Σ log σ(θ_w − θ_l) − (α/2)Σθ², as a plain function of a number array. */
export function referenceLogPosterior(data: BtData, alpha: number, theta: number[]): number {
  let value = 0;
  for (let k = 0; k < data.winners.length; k++) {
    value += logSigmoid(
      (theta[data.winners[k] as number] as number) - (theta[data.losers[k] as number] as number),
    );
  }
  for (const t of theta) value -= 0.5 * alpha * t * t;
  return value;
}

/** Solves A x = b by Gaussian elimination with partial pivoting (A is copied). */
export function solveDense(matrix: number[][], rhs: number[]): number[] {
  const n = rhs.length;
  const a = matrix.map((row, i) => [...row, rhs[i] as number]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) {
      if (Math.abs(a[r]![c]!) > Math.abs(a[pivot]![c]!)) pivot = r;
    }
    [a[c], a[pivot]] = [a[pivot]!, a[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= a[r]![k]! * x[k]!;
    x[r] = s / a[r]![r]!;
  }
  return x;
}

/** Inverse by solving against each unit vector. */
export function invertDense(matrix: number[][]): number[][] {
  const n = matrix.length;
  const columns = Array.from({ length: n }, (_, j) =>
    solveDense(
      matrix,
      Array.from({ length: n }, (_, i) => (i === j ? 1 : 0)),
    ),
  );
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => columns[j]![i]!));
}

/** MAP scores by dense Newton with step halving, iterated to machine precision, then centred. */
export function referenceFit(data: BtData, alpha: number): number[] {
  const n = data.n;
  let theta = new Array<number>(n).fill(0);
  for (let iter = 0; iter < 500; iter++) {
    const grad = theta.map((t) => -alpha * t);
    const hess = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => (i === j ? alpha : 0)),
    );
    for (let k = 0; k < data.winners.length; k++) {
      const w = data.winners[k] as number;
      const l = data.losers[k] as number;
      const p = sigmoid(theta[w]! - theta[l]!);
      grad[w]! += 1 - p;
      grad[l]! -= 1 - p;
      const h = p * (1 - p);
      hess[w]![w]! += h;
      hess[l]![l]! += h;
      hess[w]![l]! -= h;
      hess[l]![w]! -= h;
    }
    const step = solveDense(hess, grad);
    const before = referenceLogPosterior(data, alpha, theta);
    let t = 1;
    let next = theta.map((v, i) => v + t * step[i]!);
    while (referenceLogPosterior(data, alpha, next) < before && t > 1e-12) {
      t /= 2;
      next = theta.map((v, i) => v + t * step[i]!);
    }
    theta = next;
    if (Math.max(...step.map((s) => Math.abs(s * t))) < 1e-13) break;
  }
  const mean = theta.reduce((s, v) => s + v, 0) / n;
  return theta.map((v) => v - mean);
}

/**
 * SEs of the centred scores from a finite-difference Hessian of the negative log-posterior
 * (second differences of function values, step h): sqrt(diag(P H⁻¹ P)).
 */
export function numericHessianSe(data: BtData, alpha: number, theta: number[], h = 1e-3): number[] {
  const n = data.n;
  const f = (t: number[]) => -referenceLogPosterior(data, alpha, t);
  const shifted = (i: number, di: number, j: number, dj: number) => {
    const t = [...theta];
    t[i]! += di;
    t[j]! += dj;
    return f(t);
  };
  const hess = Array.from({ length: n }, (_, i) =>
    Array.from(
      { length: n },
      (_, j) =>
        (shifted(i, h, j, h) -
          shifted(i, h, j, -h) -
          shifted(i, -h, j, h) +
          shifted(i, -h, j, -h)) /
        (4 * h * h),
    ),
  );
  const cov = invertDense(hess);
  // P C P with P = I − 11ᵀ/n.
  const rowMean = cov.map((row) => row.reduce((s, v) => s + v, 0) / n);
  const grand = rowMean.reduce((s, v) => s + v, 0) / n;
  return cov.map((row, i) => Math.sqrt(row[i]! - 2 * rowMean[i]! + grand));
}

/** Factory: random comparisons from a known truth (scores ~ N(0, sd²), uniform distinct pairs). */
export function randomBtData(
  n: number,
  m: number,
  seedOrRng: number | Rng,
  sd = 1.5,
): { data: BtData; truth: Float64Array } {
  const rng = typeof seedOrRng === 'number' ? seededRandom(seedOrRng) : seedOrRng;
  const truth = Float64Array.from({ length: n }, () => sd * normal(rng));
  const winners = new Int32Array(m);
  const losers = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    const i = Math.floor(rng() * n);
    let j = Math.floor(rng() * (n - 1));
    if (j >= i) j++;
    const p = sigmoid((truth[i] as number) - (truth[j] as number));
    if (rng() < p) {
      winners[k] = i;
      losers[k] = j;
    } else {
      winners[k] = j;
      losers[k] = i;
    }
  }
  return { data: { n, winners, losers }, truth };
}

/** Factory: BtData from [winner, loser] pairs. */
export function btDataFromPairs(
  n: number,
  pairs: ReadonlyArray<readonly [number, number]>,
): BtData {
  return {
    n,
    winners: Int32Array.from(pairs, ([w]) => w),
    losers: Int32Array.from(pairs, ([, l]) => l),
  };
}

/**
 * Reference posterior by MCMC (random-walk Metropolis, one score at a time) under independent
 * N(0, priorVariance) priors: posterior means and SDs of the mean-centred scores. Slow and only
 * for small cases; the Monte Carlo error shrinks with `sweeps`.
 */
export function referencePosteriorMcmc(
  data: BtData,
  priorVariance: number,
  sweeps: number,
  seed: number,
): { mean: number[]; sd: number[] } {
  const { n } = data;
  const opponents: { other: number; sign: number }[][] = Array.from({ length: n }, () => []);
  for (let k = 0; k < data.winners.length; k++) {
    const w = data.winners[k] as number;
    const l = data.losers[k] as number;
    opponents[w]?.push({ other: l, sign: 1 });
    opponents[l]?.push({ other: w, sign: -1 });
  }
  const rng = seededRandom(seed);
  const theta = new Array<number>(n).fill(0);
  const logDensity = (i: number, x: number) => {
    let value = (-x * x) / (2 * priorVariance);
    for (const { other, sign } of opponents[i] ?? []) {
      value += logSigmoid(sign * (x - (theta[other] as number)));
    }
    return value;
  };
  const sum = new Array<number>(n).fill(0);
  const sumSquares = new Array<number>(n).fill(0);
  let kept = 0;
  for (let sweep = 0; sweep < sweeps; sweep++) {
    for (let i = 0; i < n; i++) {
      const current = theta[i] as number;
      const proposal = current + 1.2 * normal(rng);
      if (Math.log(rng()) < logDensity(i, proposal) - logDensity(i, current)) theta[i] = proposal;
    }
    if (sweep >= sweeps / 10) {
      const centre = theta.reduce((s, v) => s + v, 0) / n;
      for (let i = 0; i < n; i++) {
        const c = (theta[i] as number) - centre;
        sum[i] = (sum[i] as number) + c;
        sumSquares[i] = (sumSquares[i] as number) + c * c;
      }
      kept++;
    }
  }
  const mean = sum.map((s) => s / kept);
  return { mean, sd: sumSquares.map((s, i) => Math.sqrt(s / kept - (mean[i] as number) ** 2)) };
}
