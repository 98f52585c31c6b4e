/**
 * The records of a wave's life the workflow exchanges with its store: planning it (what to send),
 * its per-wave ledger record (docs/data-model.md, "Per-wave ledger"), closing it, and the snapshot
 * the continuation decides from. Owned by the workflow like store-records.ts, beside it.
 */
import type { DecisionSnapshot, DecisionType, WavePair } from '#domain/decide.ts';
import type { ComparisonRecord } from '#domain/types.ts';
import type { BatchMeta } from './store-records.ts';

/** A comparison the caller must (re-)send to the judge queue. */
export interface PendingComparison {
  comparison_id: string;
  iteration: number;
  a: number;
  b: number;
  attempt: number;
  deadline: string;
}

export interface PlanWaveInput {
  /** The batch's current_iteration the caller decided on; the wave gets iteration expected + 1. */
  expectedIteration: number;
  pairs: readonly WavePair[];
  /** Stored as the batch's resampling_pass_count (Decision.resamplingPassCount). */
  resamplingPassCount: number;
  deadline: Date;
  now: Date;
  /** The decision that planned the wave and its reason, for the wave's ledger record. */
  decision?: { type: WaveDecision; reason: string };
  /**
   * META as the caller read it in this continuation step (strongly consistent), so planning does
   * not read it again; the commit's condition still guards every change.
   */
  batch?: BatchMeta;
}

/** The decisions that plan a wave. */
export type WaveDecision = Extract<DecisionType, 'REQUEST_MORE_COMPARISONS' | 'RESAMPLE'>;

/**
 * The per-wave ledger record (`WAVE#<iteration>`, docs/data-model.md "Per-wave ledger"): what
 * planned the wave, how far its requests were sent, and how it closed. The continuation reads it
 * to send and resume a wave; the API's wave view reads the comparison history instead, and the
 * provider-batch mode keeps its batch ids on submission items of their own.
 */
export interface WaveRecord {
  iteration: number;
  decision: WaveDecision;
  reason: string;
  /** Comparisons planned in the wave. */
  size: number;
  /** How many of them are coverage, retry and resample comparisons. */
  kinds: Record<'coverage' | 'retry' | 'resample', number>;
  planned_at: string;
  /** Deadline of every comparison of the wave. */
  deadline: string;
  /** The requests of comparisons with index < sent_up_to were sent (never re-sent). */
  sent_up_to: number;
  /** When sent_up_to last rose. */
  sent_at?: string;
  /** Set by the continuation step that read the wave's results (every callback in). */
  closed_at?: string;
  /** The latest callback (or timeout) recorded for the wave; null if none was recorded. */
  last_callback_at?: string | null;
  completed?: number;
  failed?: number;
  /** Failed comparisons that the sweeper timed out. */
  timed_out?: number;
  /** What the engine decided when the wave closed, and why. */
  next_decision?: DecisionType;
  next_reason?: string;
}

/** What closing a wave records (the wave's results were read: every comparison is terminal). */
export interface CloseWaveInput {
  iteration: number;
  /** The batch's created_at (ties cached verdicts to this batch). */
  createdAt: string;
  /** The wave's comparisons, in index order (they go to the VERDICTS items unless it is the last). */
  records: readonly ComparisonRecord[];
  lastCallbackAt: string | null;
  timedOut: number;
  nextDecision: DecisionType;
  nextReason: string;
  /** False when the batch finalizes: no later step reads these verdicts. */
  keepVerdicts: boolean;
  now: Date;
}

/**
 * - `planned`: the wave is committed now (counters raised once);
 * - `already_planned`: a previous delivery committed it (nothing changed; send what it lists);
 * - `stale`: the batch moved on or is not RUNNING; do nothing;
 * - `over_budget`: the wave does not fit in the budget (a bug in the caller's decision).
 * For `planned`, `pending` lists every comparison of the wave; for `already_planned`, the ones still
 * PENDING whose requests were never sent (the wave's ledger record says how far sending got).
 */
export type PlanWaveResult =
  | { outcome: 'planned' | 'already_planned'; iteration: number; pending: PendingComparison[] }
  | { outcome: 'stale' | 'over_budget'; batch: BatchMeta | null };

/** What `decide` needs, minus the seed (derive it from the batch id). */
export type StoreSnapshot = Omit<DecisionSnapshot, 'seed'> & {
  batch: BatchMeta;
  /**
   * The batch's latest wave as the snapshot read it from its comparison items (null before the
   * first wave), with what closing it records.
   */
  lastWave: LastWave | null;
};

export interface LastWave {
  iteration: number;
  records: ComparisonRecord[];
  /** Whether every comparison of the wave is terminal (so it may be closed). */
  complete: boolean;
  lastCallbackAt: string | null;
  timedOut: number;
}
