/**
 * Judge misfit under a fitted Bradley–Terry model: how far each judge's decisions depart from
 * what the scores predict (the infit/outfit mean squares CJ tools report, Pollitt 2012).
 *
 * For a decision where the judge preferred w over l, the model expected that outcome with
 * p = σ(θ_w − θ_l); the residual is 1 − p and its variance p(1 − p). Per judge:
 *  - outfit = mean over decisions of (1 − p)² / (p(1 − p)) = mean of (1 − p)/p (unweighted; one
 *    surprising decision weighs heavily);
 *  - infit = Σ (1 − p)² / Σ p(1 − p) (information-weighted; dominated by close pairs).
 * Both have expectation 1 when the judge behaves like the model; above 1 means more surprising
 * decisions than the scores explain, below 1 more predictable ones.
 *
 * Flag: a judge is flagged when its infit exceeds mean + k·SD of all judges' infit values (sample
 * SD, k = JUDGE_MISFIT_SD_MULTIPLIER), the convention of Pollitt (2012) and No More Marking. With
 * fewer than JUDGE_MISFIT_MIN_JUDGES judges the SD says nothing and no judge is flagged.
 */
import { winProbability } from './bradley-terry.ts';
import { DEFAULT_CONFIG } from './config.ts';

export interface JudgeFitInput {
  /** Fitted scores, indexed by item. */
  readonly scores: ArrayLike<number>;
  readonly winners: Int32Array;
  readonly losers: Int32Array;
  /** Judge index 0..judgeCount−1 of each decision. */
  readonly judges: Int32Array;
  readonly judgeCount: number;
}

export interface JudgeFit {
  readonly judge: number;
  readonly decisions: number;
  readonly infit: number;
  readonly outfit: number;
  readonly flagged: boolean;
}

export interface JudgeFitReport {
  readonly judges: JudgeFit[];
  /** infit above this is flagged (null when too few judges to flag). */
  readonly infitThreshold: number | null;
  readonly meanInfit: number;
  readonly sdInfit: number;
}

export interface JudgeFitOptions {
  /** k in the flag rule mean + k·SD. Default JUDGE_MISFIT_SD_MULTIPLIER. */
  sdMultiplier?: number;
  /** Fewest judges for which the flag rule applies. Default JUDGE_MISFIT_MIN_JUDGES. */
  minJudges?: number;
}

export function judgeFit(input: JudgeFitInput, options: JudgeFitOptions = {}): JudgeFitReport {
  const { scores, winners, losers, judges, judgeCount } = input;
  const m = winners.length;
  if (losers.length !== m || judges.length !== m) {
    throw new RangeError(
      `winners, losers and judges differ in length (${m}, ${losers.length}, ${judges.length})`,
    );
  }
  const decisions = new Float64Array(judgeCount);
  const outfitSum = new Float64Array(judgeCount);
  const squaredResidual = new Float64Array(judgeCount);
  const information = new Float64Array(judgeCount);
  for (let k = 0; k < m; k++) {
    const j = judges[k] as number;
    if (!Number.isInteger(j) || j < 0 || j >= judgeCount) {
      throw new RangeError(`decision ${k} has judge ${j} outside 0..${judgeCount - 1}`);
    }
    const p = winProbability(
      scores[winners[k] as number] as number,
      scores[losers[k] as number] as number,
    );
    const q = 1 - p;
    decisions[j] = (decisions[j] as number) + 1;
    outfitSum[j] = (outfitSum[j] as number) + q / p;
    squaredResidual[j] = (squaredResidual[j] as number) + q * q;
    information[j] = (information[j] as number) + p * q;
  }
  const fits = Array.from({ length: judgeCount }, (_, j) => {
    const count = decisions[j] as number;
    const info = information[j] as number;
    return {
      judge: j,
      decisions: count,
      infit: info > 0 ? (squaredResidual[j] as number) / info : 0,
      outfit: count > 0 ? (outfitSum[j] as number) / count : 0,
    };
  });
  const active = fits.filter((f) => f.decisions > 0);
  const mean = active.reduce((s, f) => s + f.infit, 0) / Math.max(1, active.length);
  const sd =
    active.length > 1
      ? Math.sqrt(active.reduce((s, f) => s + (f.infit - mean) ** 2, 0) / (active.length - 1))
      : 0;
  const k = options.sdMultiplier ?? DEFAULT_CONFIG.JUDGE_MISFIT_SD_MULTIPLIER;
  const minJudges = options.minJudges ?? DEFAULT_CONFIG.JUDGE_MISFIT_MIN_JUDGES;
  const threshold = active.length >= minJudges ? mean + k * sd : null;
  return {
    judges: fits.map((f) => ({
      ...f,
      flagged: threshold !== null && f.decisions > 0 && f.infit > threshold,
    })),
    infitThreshold: threshold,
    meanInfit: mean,
    sdInfit: sd,
  };
}
