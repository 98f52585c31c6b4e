/**
 * The records the workflow exchanges with its store (the `WorkflowStore` port in ports.ts): what
 * each operation accepts and the outcomes it answers with. Owned by the workflow; the DynamoDB
 * adapter (`#store/`) implements them. Stored attribute names are snake_case like the wire format;
 * docs/data-model.md has keys, indexes and the cost of each operation.
 */
import type { ConfigName } from '#domain/config.ts';
import type { CapRefusal, InFlightCaps } from '#domain/in-flight.ts';
import type { ComparisonUsage } from '#domain/judge-usage.ts';
import type {
  BatchStatus,
  ComparisonStatus,
  FailureKind,
  FailureReason,
  SuccessStatus,
  WaveKind,
  Winner,
} from '#domain/types.ts';
import type { EssayInput, JudgeChoice } from '#messages/api.ts';
import type { BatchState, ResultRow } from '#messages/state.ts';
import type { ProviderBatchService } from '#shared/judges/batch/port.ts';

/**
 * The batch's counters and state as the API shows them (shared/messages/state.ts), as stored (the
 * grade scale is a setting: it lives in SETTINGS).
 */
type StoredStateFields = Omit<
  BatchState,
  | 'v'
  | 'pending_callbacks'
  | 'processing_metadata'
  | 'grade_scale'
  | 'failure_reason'
  | 'finalized_at'
>;

/**
 * The batch META item, minus keys and index attributes: counters and state only, the fields of
 * the API's state (`essays_stored` counts the essays stored so far, and a batch starts only when it
 * equals `essay_count`; `total_comparisons` always equals `submitted_comparisons` and is raised by
 * the same update, docs/engine-rules.md; `completion_denominator` is computed once at creation,
 * from inputs that never change afterwards). Every callback rewrites it (inside its transaction),
 * and a write costs by item size, so what a request brings (config overrides, the judge choice with
 * its rubric and assignment) lives in the SETTINGS item and the processing metadata in the REPORT
 * item (docs/data-model.md, "Items").
 */
export interface BatchMeta extends StoredStateFields {
  failure_reason?: BatchState['failure_reason'];
  finalized_at?: BatchState['finalized_at'];
  /** Continuation steps of this batch that failed (threw); see MAX_CONTINUATION_FAILURES. */
  continuation_failures?: number;
  /** false once finalized until the completion/failure event was published. */
  event_published?: boolean;
  /** Raised by every META write (optimistic-concurrency witness, useful in logs). */
  version: number;
  /** The principal that created it (docs/security.md): the owner index's partition. */
  owner?: string;
  /**
   * The caller the batch is counted against while in flight (set when it starts running, with
   * in_flight_essays); the transaction that makes the batch final releases both (docs/deploy.md).
   */
  in_flight_principal?: string;
  in_flight_essays?: number;
  /**
   * The deadline (ISO) of the current wave's comparisons, set by the update that commits the wave:
   * the sweeper reads the wave only once it has passed (absent on META written before it existed:
   * then the sweeper reads the wave whenever callbacks are pending).
   */
  wave_deadline?: string;
}

/** What a request chose for its batch, fixed at creation (the SETTINGS item; never rewritten). */
export interface BatchSettings {
  /** Per-batch config overrides exactly as validated at creation (resolve with `resolveConfig`). */
  config: Partial<Record<ConfigName, unknown>>;
  judge: JudgeChoice;
  /** Ordered grade labels, lowest first, when the batch projects grades from anchors. */
  grade_scale?: string[];
}

/**
 * A batch as the API shows it: META, the processing metadata once it was finalized, and the grade
 * scale.
 */
export interface BatchView {
  batch: BatchMeta;
  /** The processing metadata of docs/engine-rules.md (the REPORT item; {} before finalization). */
  processingMetadata: Record<string, unknown>;
  /** The grade scale of the batch's settings (null: none). */
  gradeScale: string[] | null;
}

/** What the judge reads before calling the provider for one comparison request. */
export interface JudgeContext {
  /** null: no such batch. */
  batch: BatchMeta | null;
  /** null: no such comparison (never planned, or expired). */
  comparisonStatus: ComparisonStatus | null;
  /** The requested essays by index; missing ones are absent. */
  essays: Map<number, StoredEssay>;
  /** null: the batch has no settings item. */
  settings: BatchSettings | null;
}

/** The judge's lease (JudgeStore.claimComparison); `held`: another delivery's, until claimedUntil. */
export type ComparisonClaim =
  | { outcome: 'claimed'; token: string }
  | { outcome: 'held'; claimedUntil: Date };

/** One essay as stored (text only leaves the table towards the judge). */
export interface StoredEssay {
  index: number;
  id: string;
  text: string;
  metadata?: Record<string, unknown>;
}

/** A comparison item, minus keys and index attributes. */
export interface StoredComparison {
  batch_id: string;
  comparison_id: string;
  iteration: number;
  index: number;
  a: number;
  b: number;
  kind: WaveKind;
  attempt: number;
  resample_pass?: number;
  status: ComparisonStatus;
  winner?: Winner;
  failure_kind?: FailureKind;
  /** ISO instant after which the sweeper fails it with `timeout`. */
  deadline: string;
  /** Set when the callback arrived after the batch was finalized or cancelled (counted nowhere). */
  late?: boolean;
  recorded_at?: string;
  /** The verdict's accounting usage (tokens, estimated cost, order flip), when reported. */
  judge_usage?: ComparisonUsage;
}

/** What the wave history reads of a comparison (no essay index, no verdict, no usage). */
export type ComparisonHistoryRow = Pick<
  StoredComparison,
  'iteration' | 'kind' | 'status' | 'failure_kind' | 'deadline' | 'recorded_at' | 'late'
>;

export interface CreateBatchInput {
  batchId: string;
  /** Inline essays (the batch starts RUNNING at once); omit for a paged batch (PENDING_ESSAYS). */
  essays?: readonly EssayInput[];
  /** The grade scale, lowest first, when the batch has anchors. */
  gradeScale?: string[];
  essayCount: number;
  totalBudget: number;
  config: Partial<Record<ConfigName, unknown>>;
  judge: JudgeChoice;
  now: Date;
  /** The calling principal, who owns the batch (docs/security.md). */
  owner: string;
  /**
   * Who the batch is counted against and the caps: a batch created with its essays starts at once,
   * so it is counted in the create's transaction (a paged batch is counted when it starts).
   */
  inFlight?: InFlightReservation;
  /**
   * The caller's Idempotency-Key, hashed with the caller (`idempotencyScope`): written with the
   * batch under the condition that it is new, so one key of one caller makes one batch.
   */
  idempotencyScope?: string;
}

/** The caller a starting batch is counted against, and the deployment's caps. */
export interface InFlightReservation {
  principal: string;
  caps: InFlightCaps;
}

export type CreateBatchOutcome =
  | { outcome: 'created'; batch: BatchMeta }
  /** The batch id is taken (a random id collided). */
  | { outcome: 'exists' }
  /** The caller's Idempotency-Key names an earlier batch (a concurrent create won). */
  | { outcome: 'key_taken' }
  /** A cap has no room: nothing was stored and nothing counted. */
  | { outcome: 'over_cap'; refusal: CapRefusal };

/** Which batches one list call reads (`GET /batches`): at most `limit`, newest first. */
export interface ListBatchesInput {
  /** Whose batches; undefined: every batch (an admin's list). */
  owner?: string;
  limit: number;
  /** Only batches in this status, after this index position (a previous page's `next`). */
  status?: BatchStatus;
  after?: string;
}

/** One page of an owner's batches, newest first; `next` is set while more may follow. */
export interface BatchListPage {
  batches: BatchMeta[];
  next?: string;
}

export type EssayPageOutcome =
  | { outcome: 'stored'; essays_stored: number }
  /** The page was stored before (a client retry): nothing changed. */
  | { outcome: 'already_stored'; essays_stored: number }
  /** The page does not start where the stored essays end. */
  | { outcome: 'out_of_order'; essays_stored: number }
  /** The page would go past essay_count. */
  | { outcome: 'too_many'; essays_stored: number }
  /** An id of this page was stored by an earlier page; `position` is its index in this page. */
  | { outcome: 'duplicate_id'; id: string; position: number }
  | { outcome: 'not_accepting'; status: BatchStatus }
  | { outcome: 'not_found' };

export type StartBatchOutcome =
  | { outcome: 'started'; batch: BatchMeta }
  | { outcome: 'already_started'; batch: BatchMeta }
  | { outcome: 'essays_missing'; batch: BatchMeta }
  | { outcome: 'not_startable'; batch: BatchMeta }
  /** A cap has no room: the batch stays PENDING_ESSAYS and nothing was counted. */
  | { outcome: 'over_cap'; batch: BatchMeta; refusal: CapRefusal }
  | { outcome: 'not_found' };

export type CancelOutcome =
  | { outcome: 'cancelled'; batch: BatchMeta }
  | { outcome: 'already_final'; batch: BatchMeta }
  | { outcome: 'not_found' };

/**
 * - `recorded`: the comparison went PENDING → terminal and exactly one counter rose;
 * - `duplicate`: the comparison was already terminal; nothing changed;
 * - `late`: the batch is no longer RUNNING; the comparison is marked late, counters untouched;
 * - `unknown_comparison`: no such comparison (or batch) in a committed wave.
 * The caller re-checks the gate on a fresh META read in every case, once per batch after all the
 * callbacks it records in one invocation (docs/data-model.md, "recordCallback outcomes").
 */
export type RecordOutcome = 'recorded' | 'duplicate' | 'late' | 'unknown_comparison';

export interface FinalizeInput {
  expectedIteration: number;
  status: SuccessStatus | 'FAILED';
  failureReason?: FailureReason | null;
  processingMetadata: Record<string, unknown>;
  resamplingPassCount: number;
  /** Rows in any order (e.g. from `buildResultRows`); stored in chunks of RESULTS_PER_ITEM. */
  results: readonly ResultRow[];
  now: Date;
}

/**
 * - `finalized`: this call moved the batch to its final status (publish the event next);
 * - `already_final`: it was final before (publish only if `event_published` is false);
 * - `stale`: RUNNING but at another iteration; do nothing.
 */
export type FinalizeResult =
  | { outcome: 'finalized'; batch: BatchMeta }
  | { outcome: 'already_final' | 'stale'; batch: BatchMeta }
  | { outcome: 'not_found' };

/** An expired pending comparison found by the sweeper. */
export interface ExpiredComparison {
  batch_id: string;
  comparison_id: string;
  deadline: string;
}

// --- provider batch parts (judge.mode provider_batch) ------------------------------------------
//
// A wave's comparisons have dense indices 0..n-1; a part is the range [from_index, to_index) sent
// as one provider batch. Part 0 is planned by the continuation when the wave commits; each recorded
// part plans the next one when the wave did not fit (the provider's request or byte limit).
//
//   PLANNED ──claim──▶ SUBMITTING ──record──▶ SUBMITTED ──ended──▶ COLLECTING ──▶ COLLECTED
//                 ▲        │  lease over: find what the lost create made, adopt it or claim again
//                 └────────┘  (ambiguous, refused, or the batch stopped running: FAILED/ABANDONED)
//
// Every transition is conditional (state, and the claim's token), so two runs of the scheduled
// function can never both submit or both collect one part.

export type ProviderBatchPartState =
  | 'PLANNED'
  | 'SUBMITTING'
  | 'SUBMITTED'
  | 'COLLECTING'
  | 'COLLECTED'
  | 'FAILED'
  | 'ABANDONED';

/** Identifies one part: the wave (batch, iteration) and its position in the wave. */
export interface PartKey {
  batchId: string;
  iteration: number;
  part: number;
}

/** One part as stored (snake_case like every stored item). */
export interface ProviderBatchPart {
  batch_id: string;
  iteration: number;
  part: number;
  provider: ProviderBatchService;
  state: ProviderBatchPartState;
  /** First comparison index of the part. */
  from_index: number;
  /** One past its last index; known once the part was cut (recorded). */
  to_index?: number;
  /** The comparisons' deadline (ISO): the provider's window plus a margin. */
  deadline: string;
  planned_at: string;
  /** `<batch>:<iteration>:<part>`, the provider-side name of this submission. */
  submission_key: string;
  /** The limits the part was cut with (stored so a recovery cuts it the same way). */
  max_requests?: number;
  max_bytes?: number;
  /** The current claim (submission or collection) and when it lapses. */
  claim_token?: string;
  claimed_at?: string;
  lease_until?: string;
  provider_batch_id?: string;
  provider_status?: string;
  submitted_at?: string;
  requests?: number;
  cancel_requested_at?: string;
  /** Result lines whose callbacks were sent (the collector resumes after them). */
  cursor?: number;
  collected_at?: string;
  /** Why a part ended FAILED or ABANDONED (a short code). */
  reason?: string;
  /** What the collection found: verdicts, failures, missing, foreign and unreadable lines. */
  outcome_counts?: Record<string, number>;
}

/** An open part as the in-flight index lists it (oldest first). */
export interface OpenPart extends PartKey {
  plannedAt: string;
}

/** A comparison of a wave, as a request line needs it. */
export interface WaveComparison {
  index: number;
  a: number;
  b: number;
}

export interface PlanPartInput extends PartKey {
  provider: ProviderBatchService;
  fromIndex: number;
  deadline: string;
  now: Date;
}

export interface ClaimInput {
  token: string;
  now: Date;
  leaseUntil: Date;
}

export interface RecordSubmissionInput {
  /** The claim the submission was made under. */
  token: string;
  providerBatchId: string;
  providerStatus: string;
  toIndex: number;
  requests: number;
  /** Plan the next part from `toIndex` (the wave did not fit in this one). */
  planNext: boolean;
  now: Date;
}

export type RecordSubmissionOutcome =
  | 'recorded'
  /** The claim lapsed and another run took the part over. */
  | 'claim_lost'
  /** Another part already recorded this provider batch id (never two parts for one batch). */
  | 'batch_claimed_elsewhere';

export interface FinalizePartInput {
  state: 'COLLECTED' | 'FAILED' | 'ABANDONED';
  /** The claim the caller holds; omitted to finish a part nobody claimed (PLANNED). */
  token?: string;
  reason?: string;
  outcomeCounts?: Record<string, number>;
  /** Also plan the next part from here (a failed part must not strand the rest of its wave). */
  planNextFrom?: number;
  now: Date;
}

export function submissionKey(key: PartKey): string {
  return `${key.batchId}:${key.iteration}:${key.part}`;
}

export function partKeyOf(
  part: Pick<ProviderBatchPart, 'batch_id' | 'iteration' | 'part'>,
): PartKey {
  return { batchId: part.batch_id, iteration: part.iteration, part: part.part };
}
