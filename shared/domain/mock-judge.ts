/**
 * The mock judge (docs/engine-rules.md, "Mock judge"): a pure, seeded stand-in for an LLM that decides from a latent quality
 * per essay, so ranking accuracy can be measured end to end.
 *
 * P(first-shown essay wins) = σ(quality_A − quality_B + position_bias): Bradley–Terry with a
 * position bias in logits that favours "Essay A". Failures (timeout, rate_limited,
 * malformed_answer) happen at `failure_rate`, split by the profile's failure mix. Every draw comes
 * from `hashSeed(seed, comparisonKey, attempt)`, so a redelivered request gets the same answer and
 * a retry (next attempt) gets a fresh one. Latency is returned, never awaited: the judge Lambda
 * may wait it. `duplicate_callbacks` and `drop_rate` are applied by the judge Lambda; they are
 * validated and resolved here so every setting lives in one schema.
 */
import * as z from 'zod';
import { hashSeed, normal, seededRandom } from '#domain/random.ts';
import type { FailureKind, Winner } from '#domain/types.ts';

/** The failure kinds a mock judge can produce. */
export type MockFailureKind = Extract<FailureKind, 'timeout' | 'rate_limited' | 'malformed_answer'>;

export interface MockProfile {
  readonly description: string;
  /** Probability that a call fails. */
  readonly failureRate: number;
  /** Relative weights of the failure kinds (need not sum to 1). */
  readonly failureMix: Readonly<Record<MockFailureKind, number>>;
  /** Logit bonus for the first-shown essay ("Essay A"). */
  readonly positionBias: number;
  /** Median latency of a call, ms; actual latency is log-normal around it. */
  readonly latencyMs: number;
  /** Extra copies of each callback the judge Lambda sends (exercises exactly-once counting). */
  readonly duplicateCallbacks: number;
  /** Probability that the judge Lambda sends no callback at all (the sweeper must time it out). */
  readonly dropRate: number;
  /** SD of latent quality derived from essay ids (when an essay has no `metadata.quality`). */
  readonly qualitySd: number;
}

const EVEN_FAILURE_MIX = { timeout: 1, rate_limited: 1, malformed_answer: 1 } as const;

/** Log-normal spread of latency around the median (sigma of ln latency). */
const LATENCY_LOG_SD = 0.5;

export const MOCK_PROFILES = {
  default: {
    description:
      'Plain Bradley–Terry judge: no position bias, no failures. The reference judge for efficiency figures.',
    failureRate: 0,
    failureMix: EVEN_FAILURE_MIX,
    positionBias: 0,
    latencyMs: 50,
    duplicateCallbacks: 0,
    dropRate: 0,
    qualitySd: 2,
  },
  realistic: {
    description:
      'An LLM-like judge: first-shown essay favoured by 0.5 logits (≈ 62 % at equal quality), 3 % failures (mostly rate limits), ~1.5 s calls.',
    failureRate: 0.03,
    failureMix: { timeout: 1, rate_limited: 3, malformed_answer: 1 },
    positionBias: 0.5,
    latencyMs: 1500,
    duplicateCallbacks: 0,
    dropRate: 0,
    qualitySd: 2,
  },
  eng5_lower5_gpt51_low: {
    description:
      "The story's 5-essay small-net judge (GPT-5.1, low reasoning): slight position bias, no failures.",
    failureRate: 0,
    failureMix: EVEN_FAILURE_MIX,
    positionBias: 0.2,
    latencyMs: 800,
    duplicateCallbacks: 0,
    dropRate: 0,
    qualitySd: 1.5,
  },
  flaky_half: {
    description: 'Half of all calls fail (timeouts, rate limits, malformed answers).',
    failureRate: 0.5,
    failureMix: EVEN_FAILURE_MIX,
    positionBias: 0.2,
    latencyMs: 300,
    duplicateCallbacks: 0,
    dropRate: 0,
    qualitySd: 2,
  },
  always_fail: {
    description: 'Every call fails: a batch must end FAILED no_successful_comparisons.',
    failureRate: 1,
    failureMix: EVEN_FAILURE_MIX,
    positionBias: 0,
    latencyMs: 100,
    duplicateCallbacks: 0,
    dropRate: 0,
    qualitySd: 2,
  },
} as const satisfies Record<string, MockProfile>;

export type MockProfileName = keyof typeof MOCK_PROFILES;

/** Profile names, for `/admin/mock-mode` and CLI validation. */
export const MOCK_PROFILE_NAMES = Object.keys(MOCK_PROFILES) as MockProfileName[];

/** `/admin/mock-mode` payload: every profile with its settings. */
export function listMockProfiles(): Array<{ name: MockProfileName } & MockProfile> {
  return MOCK_PROFILE_NAMES.map((name) => ({ name, ...MOCK_PROFILES[name] }));
}

/** Per-batch mock judge settings (the `judge` field of a batch, provider `mock`). */
export const mockJudgeSettingsSchema = z
  .object({
    provider: z.literal('mock'),
    profile: z.enum(MOCK_PROFILE_NAMES as [MockProfileName, ...MockProfileName[]]),
    failure_rate: z.number().min(0).max(1).optional(),
    position_bias: z.number().min(-10).max(10).optional(),
    latency_ms: z.number().int().min(0).max(900_000).optional(),
    duplicate_callbacks: z.number().int().min(0).max(10).optional(),
    drop_rate: z.number().min(0).max(1).optional(),
    seed: z.number().int().min(0).max(0xffffffff).optional(),
  })
  .strict();

export type MockJudgeSettings = z.infer<typeof mockJudgeSettingsSchema>;

/** A profile with the batch's overrides applied: everything the pure judge needs. */
export interface ResolvedMockJudge extends MockProfile {
  readonly profile: MockProfileName;
  readonly seed: number;
}

export function resolveMockJudge(settings: MockJudgeSettings): ResolvedMockJudge {
  const base: MockProfile = MOCK_PROFILES[settings.profile];
  return {
    ...base,
    profile: settings.profile,
    failureRate: settings.failure_rate ?? base.failureRate,
    positionBias: settings.position_bias ?? base.positionBias,
    latencyMs: settings.latency_ms ?? base.latencyMs,
    duplicateCallbacks: settings.duplicate_callbacks ?? base.duplicateCallbacks,
    dropRate: settings.drop_rate ?? base.dropRate,
    seed: settings.seed ?? 0,
  };
}

/** Latent quality of an essay: its `metadata.quality` when given, else derived from id and seed. */
export function latentQuality(
  judge: Pick<ResolvedMockJudge, 'seed' | 'qualitySd'>,
  essay: MockEssay,
): number {
  if (essay.quality !== undefined && Number.isFinite(essay.quality)) return essay.quality;
  return judge.qualitySd * normal(seededRandom(hashSeed('quality', essay.id, judge.seed)));
}

export interface MockEssay {
  /** The client's essay id (never shown to a model; used only to derive a quality). */
  id: string;
  /** `metadata.quality` of the essay, if the client set one. */
  quality?: number;
}

export interface MockJudgeRequest {
  /** Stable id of the comparison (same on redelivery). */
  comparisonKey: string;
  /** 1-based attempt at this pair; a retry draws afresh. */
  attempt: number;
  /** First-shown essay ("Essay A"). */
  a: MockEssay;
  /** Second-shown essay ("Essay B"). */
  b: MockEssay;
}

export type MockJudgeOutcome =
  | { ok: true; winner: Winner; latencyMs: number; probabilityA: number }
  | { ok: false; failureKind: MockFailureKind; latencyMs: number };

function pickFailureKind(
  mix: Readonly<Record<MockFailureKind, number>>,
  u: number,
): MockFailureKind {
  const kinds = Object.keys(mix) as MockFailureKind[];
  const total = kinds.reduce((sum, k) => sum + Math.max(0, mix[k]), 0);
  let threshold = u * total;
  for (const kind of kinds) {
    threshold -= Math.max(0, mix[kind]);
    if (threshold < 0) return kind;
  }
  return 'timeout';
}

/** σ(x) without overflow for large |x|. */
function logistic(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** One judgement. Pure: the same judge and request always give the same outcome. */
export function mockJudge(judge: ResolvedMockJudge, request: MockJudgeRequest): MockJudgeOutcome {
  const rng = seededRandom(hashSeed('judge', judge.seed, request.comparisonKey, request.attempt));
  const uFailure = rng();
  const uKind = rng();
  const uVerdict = rng();
  const latencyMs = Math.round(judge.latencyMs * Math.exp(LATENCY_LOG_SD * normal(rng)));
  if (uFailure < judge.failureRate) {
    return { ok: false, failureKind: pickFailureKind(judge.failureMix, uKind), latencyMs };
  }
  const probabilityA = logistic(
    latentQuality(judge, request.a) - latentQuality(judge, request.b) + judge.positionBias,
  );
  return { ok: true, winner: uVerdict < probabilityA ? 'A' : 'B', latencyMs, probabilityA };
}
