/**
 * What the workflow needs from the outside world, as narrow interfaces: the store (its DynamoDB
 * adapter is `#store/dynamo-store.ts`), the messaging side (SQS queues and the event bus),
 * telemetry, time and randomness. Each function's composition root wires the adapters it uses;
 * tests inject fakes or SDK mocks.
 */

import type { EngineConfig } from '#domain/config.ts';
import type { Decision, DecisionSnapshot } from '#domain/decide.ts';
import type { InFlightCaps, InFlightCounts } from '#domain/in-flight.ts';
import type { RateLimiterState } from '#domain/rate-limit.ts';
import type { EssayInput, JudgeChoice, JudgeMode } from '#messages/api.ts';
import type { BatchFinishedEvent } from '#messages/events.ts';
import type { Callback, ComparisonRequest, ContinuationTrigger } from '#messages/queue.ts';
import type { ResultRow } from '#messages/state.ts';
import type { ProviderBatchLimits, ProviderBatchService } from '#shared/judges/batch/port.ts';
import type { EndpointPolicy } from '#shared/judges/endpoints.ts';
import type { JudgeProvider } from '#shared/judges/port.ts';
import type {
  BatchListPage,
  BatchMeta,
  BatchSettings,
  BatchView,
  CancelOutcome,
  ClaimInput,
  ComparisonClaim,
  ComparisonHistoryRow,
  CreateBatchInput,
  CreateBatchOutcome,
  EssayPageOutcome,
  ExpiredComparison,
  FinalizeInput,
  FinalizePartInput,
  FinalizeResult,
  JudgeContext,
  ListBatchesInput,
  OpenPart,
  PartKey,
  PlanPartInput,
  ProviderBatchPart,
  RecordOutcome,
  RecordSubmissionInput,
  RecordSubmissionOutcome,
  StartBatchOutcome,
  StoredEssay,
  WaveComparison,
} from './store-records.ts';
import type { Telemetry } from './telemetry.ts';
import type {
  CloseWaveInput,
  PendingComparison,
  PlanWaveInput,
  PlanWaveResult,
  StoreSnapshot,
} from './wave-records.ts';

/*
 * The store, by role. Every write that decides an outcome is conditional, so each operation is safe
 * to repeat (docs/data-model.md, "Crash safety"). A function depends on the roles it uses; the
 * whole port is `WorkflowStore`.
 */

/** A batch's life outside the engine loop: create, fill with essays, start, cancel, read. */
export interface BatchStore {
  createBatch(input: CreateBatchInput): Promise<CreateBatchOutcome>;
  /** One page of a PENDING_ESSAYS batch; pages arrive in order and a repeated page is a no-op. */
  putEssayPage(
    batchId: string,
    offset: number,
    essays: readonly EssayInput[],
    now: Date,
  ): Promise<EssayPageOutcome>;
  /**
   * PENDING_ESSAYS → RUNNING, only once every essay is stored; with `caps`, counted in flight
   * against the batch's owner in the same transaction (`over_cap` when a cap has no room).
   */
  startBatch(batchId: string, now: Date, caps?: InFlightCaps): Promise<StartBatchOutcome>;
  /** What is in flight now for `principal` and the deployment (strongly consistent). */
  getInFlight(principal: string): Promise<InFlightCounts>;
  /** Any active status → CANCELLED. */
  cancelBatch(batchId: string, now: Date): Promise<CancelOutcome>;
  /** The batch an Idempotency-Key scope names (see CreateBatchInput), or null. */
  findIdempotentBatch(scope: string): Promise<string | null>;
  /** The META item; strongly consistent unless `consistent` is false. */
  getBatch(batchId: string, consistent?: boolean): Promise<BatchMeta | null>;
  /**
   * One page of an owner's batches, newest first (the owner index, then their META items; with a
   * status, pages may hold fewer than `limit` while `next` is set).
   */
  listBatches(input: ListBatchesInput): Promise<BatchListPage>;
  /** META and the processing metadata, as the API shows them (eventually consistent). */
  getBatchView(batchId: string): Promise<BatchView | null>;
  /** The config overrides and judge choice fixed at creation (may be served from a cache). */
  getSettings(batchId: string): Promise<BatchSettings | null>;
  /** Essays by index; missing ones are absent from the map. */
  getEssays(batchId: string, indices: readonly number[]): Promise<Map<number, StoredEssay>>;
  /** Essay ids by index. */
  getEssayIds(batchId: string): Promise<string[]>;
  /**
   * Essay ids and anchor grades by index (null: not an anchor). The anchor grades live only in
   * the id chunks: the essay items the judge reads never carry them.
   */
  getEssayDirectory(batchId: string): Promise<{ ids: string[]; anchorGrades: (string | null)[] }>;
}

/** What the judge reads for one comparison request. */
export interface JudgeStore {
  /**
   * META, the comparison's status, the essays at `indices` and the batch's settings, read
   * together and strongly consistent (settings may come from a cache: they never change).
   */
  loadJudgeContext(
    batchId: string,
    comparisonId: string,
    indices: readonly number[],
  ): Promise<JudgeContext>;
  /**
   * One conditional write before the provider call: claims the comparison until `until` (a lease
   * as long as a judge invocation) unless a lease that has not expired by `now` holds it.
   * `held`: another delivery took it and may still be judging (it sends the callback); the lease
   * ends at `claimedUntil`. A lease is never renewed: a holder that crashed, timed out or went back
   * to the queue without releasing leaves it to expire, and the next copy takes it over then.
   * Called after `loadJudgeContext` found the comparison PENDING.
   */
  claimComparison(
    batchId: string,
    comparisonId: string,
    lease: { until: Date; now: Date },
  ): Promise<ComparisonClaim>;
  /**
   * Gives the claim up at once (the request goes back to the queue without a callback: a retry
   * later, a deferral, an error), so the next delivery can claim it; a claim taken over since is
   * left alone.
   */
  releaseClaim(batchId: string, comparisonId: string, token: string, now: Date): Promise<void>;
}

/** What `decide` reads: the snapshot, and the scores saved at each evaluation. */
export interface SnapshotStore {
  /**
   * META (unless the caller passes the META it just read), the settings, the closed waves'
   * verdicts and the latest wave's comparisons, and the previous scores.
   */
  loadSnapshot(batchId: string, batch?: BatchMeta): Promise<StoreSnapshot | null>;
  saveScores(
    batchId: string,
    iteration: number,
    scores: ArrayLike<number>,
    now: Date,
  ): Promise<void>;
}

/** Planning a wave exactly once, and sending its requests once. */
export interface WaveStore {
  planWave(batchId: string, input: PlanWaveInput): Promise<PlanWaveResult>;
  /** PENDING comparisons of a wave (from index `fromIndex` on). */
  listPendingInIteration(
    batchId: string,
    iteration: number,
    fromIndex?: number,
  ): Promise<PendingComparison[]>;
  /** PENDING comparisons of a committed wave whose requests were never sent. */
  listUnsent(batchId: string, iteration: number): Promise<PendingComparison[]>;
  /** The requests of every comparison before index `upTo` of the wave were sent. */
  markSent(batchId: string, iteration: number, upTo: number, now: Date): Promise<void>;
}

/** The per-wave ledger beyond planning: closing a wave. */
export interface LedgerStore {
  /** Records how the wave ended and what was decided next (and packs its verdicts). */
  closeWave(batchId: string, input: CloseWaveInput): Promise<void>;
}

/** Finalizing exactly once, its one event, and the results it stored. */
export interface FinalizationStore {
  finalizeBatch(batchId: string, input: FinalizeInput): Promise<FinalizeResult>;
  markEventPublished(batchId: string, now: Date): Promise<'marked' | 'already_published'>;
  /** Stored result rows, in essay-index order. */
  getResults(batchId: string): Promise<ResultRow[]>;
  /**
   * Counts one failed continuation step of a RUNNING batch (and refreshes META's TTL); the batch
   * with its new count, or null when it is not RUNNING (or unknown).
   */
  recordContinuationFailure(batchId: string, now: Date): Promise<BatchMeta | null>;
}

/** Recording callbacks and raising their counters in one atomic step per batch. */
export interface CallbackStore {
  recordCallback(callback: Callback, now: Date): Promise<RecordOutcome>;
  /**
   * Several callbacks at once: one atomic step per batch among them (the callback function's
   * invocation). Outcomes in the callbacks' order, each as `recordCallback` would answer it.
   */
  recordCallbacks(callbacks: readonly Callback[], now: Date): Promise<RecordOutcome[]>;
  /** The META item, strongly consistent: the gate is re-checked on it after recording. */
  getBatch(batchId: string, consistent?: boolean): Promise<BatchMeta | null>;
}

/** What the sweeper scans. */
export interface SweepStore {
  /**
   * Up to `limit` PENDING comparisons of one wave of a batch whose own deadline is before `now`
   * (strongly consistent, so comparisons timed out a moment ago are not listed again).
   */
  listExpiredInWave(
    batchId: string,
    iteration: number,
    now: Date,
    limit: number,
  ): Promise<ExpiredComparison[]>;
  /** META of each of these batches that exists (strongly consistent; a hundred a request). */
  getBatches(batchIds: readonly string[]): Promise<Map<string, BatchMeta>>;
  /** Ids of RUNNING batches (eventually consistent). */
  listActiveBatches(): Promise<string[]>;
}

/** Provider batch parts of waves judged through a provider batch API (judge.mode provider_batch). */
export interface ProviderBatchStore {
  /** Plans a part (idempotent: an existing part is left as it is). */
  planProviderBatchPart(input: PlanPartInput): Promise<void>;
  /** Open parts (PLANNED to COLLECTING), oldest planned first. */
  listOpenProviderBatchParts(limit: number): Promise<OpenPart[]>;
  getProviderBatchPart(key: PartKey): Promise<ProviderBatchPart | null>;
  /**
   * PLANNED → SUBMITTING, or SUBMITTING whose lease lapsed → SUBMITTING under a new claim; stores
   * the limits the part is cut with. Null when the part is not claimable.
   */
  claimSubmission(
    key: PartKey,
    input: ClaimInput & { limits: ProviderBatchLimits },
  ): Promise<ProviderBatchPart | null>;
  /** SUBMITTING(token) → SUBMITTED, with the provider batch id's claim and maybe the next part. */
  recordSubmission(key: PartKey, input: RecordSubmissionInput): Promise<RecordSubmissionOutcome>;
  /** Which of these provider batch ids some part has recorded. */
  recordedProviderBatchIds(
    provider: ProviderBatchService,
    ids: readonly string[],
  ): Promise<Set<string>>;
  /** SUBMITTED or COLLECTING whose lease lapsed → COLLECTING under a new claim (cursor kept). */
  claimCollection(key: PartKey, input: ClaimInput): Promise<ProviderBatchPart | null>;
  /**
   * Saves how many result lines have had their callbacks sent (and, with `release`, ends the
   * claim so the next run resumes at once); false when the claim was lost.
   */
  saveCursor(
    key: PartKey,
    input: { token: string; cursor: number; release: boolean; now: Date },
  ): Promise<boolean>;
  /** Ends a part; removes it from the in-flight index. */
  finishProviderBatchPart(key: PartKey, input: FinalizePartInput): Promise<void>;
  markCancelRequested(key: PartKey, now: Date): Promise<void>;
  /** Comparisons of a wave from `fromIndex` on, ascending, at most `limit`. */
  listWaveComparisons(
    batchId: string,
    iteration: number,
    fromIndex: number,
    limit: number,
  ): Promise<WaveComparison[]>;
}

/**
 * The shared provider rate limiter's state, one small record per provider or endpoint
 * (docs/judges.md, "Rate limits"). `change` runs on the current state and its new state is stored
 * only if nobody stored another in between (otherwise it runs again on the fresher one); a change
 * that returns the very state it was given writes nothing.
 */
export interface RateLimitStore {
  updateRateLimit<R>(
    key: string,
    change: (state: RateLimiterState) => { state: RateLimiterState; result: R },
  ): Promise<R>;
}

/** What a batch's wave history is drawn from (reads only, eventually consistent). */
export interface HistoryStore {
  /** Every comparison of the batch, in planning order (iteration, then index). */
  listComparisonHistory(batchId: string): Promise<ComparisonHistoryRow[]>;
}

export interface WorkflowStore
  extends BatchStore,
    JudgeStore,
    SnapshotStore,
    WaveStore,
    LedgerStore,
    FinalizationStore,
    CallbackStore,
    SweepStore,
    ProviderBatchStore,
    HistoryStore,
    RateLimitStore {}

/** The queues the workflow sends to (each function is given only the ones it uses). */
export interface Queues {
  /** Sends every request (SendMessageBatch, ≤ 10 per call, failed entries retried). */
  sendComparisonRequests(requests: readonly ComparisonRequest[]): Promise<void>;
  /**
   * Sends one request again, delivered after `delaySeconds` (0..900, SQS's DelaySeconds): the
   * judge defers a request the shared rate limiter cannot serve soon.
   */
  deferComparisonRequest(request: ComparisonRequest, delaySeconds: number): Promise<void>;
  sendCallback(callback: Callback): Promise<void>;
  /**
   * Up to 10 callbacks in one SendMessageBatch, failed entries retried; answers the indices (into
   * `callbacks`) of those still not sent. Throws when the request failed as a whole.
   */
  sendCallbackBatch(callbacks: readonly Callback[]): Promise<number[]>;
  /** Many callbacks at once (SendMessageBatch, ≤ 10 per call, failed entries retried). */
  sendCallbacks(callbacks: readonly Callback[]): Promise<void>;
  /** FIFO: group = batch id, dedup id = `${batch_id}:${iteration}` (cancel gets its own suffix). */
  sendContinuationTrigger(trigger: ContinuationTrigger): Promise<void>;
}

/** Where a batch's one completion/failure event goes. */
export interface EventPublisher {
  publishBatchEvent(event: BatchFinishedEvent): Promise<void>;
}

export type Messaging = Queues & EventPublisher;

/** What a finalization stores: the processing metadata (docs/engine-rules.md) and one result row per essay. */
export interface Finalization {
  processingMetadata: Record<string, unknown>;
  results: ResultRow[];
}

/** The pure engine, injected so tests can force a decision; production passes the real one. */
export interface Engine {
  decide(snapshot: DecisionSnapshot): Decision;
  finalization(
    snapshot: DecisionSnapshot,
    decision: Decision,
    essayIds: readonly string[],
    judgeMode?: JudgeMode,
    /** The batch's grade scale and each essay's anchor grade label (null: no grades). */
    grading?: { scale: readonly string[]; anchorGrades: readonly (string | null)[] } | null,
  ): Finalization;
}

export type Sleep = (ms: number) => Promise<void>;

/**
 * Everything the workflow may be given. Each operation declares the part it uses (e.g.
 * `CallbackDeps`), so a function's composition root builds only that and its bundle carries only
 * those adapters; tests may pass the whole set.
 */
export interface WorkflowDeps {
  store: WorkflowStore;
  messaging: Messaging;
  telemetry: Telemetry;
  /** Deployment-wide settings (pipeline entries of the config module). */
  config: EngineConfig;
  engine: Engine;
  now: () => Date;
  sleep: Sleep;
  /** Uniform in [0, 1), for backoff jitter. */
  random: () => number;
  /** Judge providers this deployment accepts (ALLOWED_PROVIDERS). */
  allowedProviders: readonly string[];
  /** Named OpenAI-compatible endpoints, loopback base URLs (local cloud); none and no if absent. */
  endpointPolicy?: EndpointPolicy;
  newBatchId: () => string;
  providerFor: (choice: JudgeChoice) => JudgeProvider;
}
