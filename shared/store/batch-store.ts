/**
 * All DynamoDB access of the engine (the only place with transactions). The document client is
 * passed in — the store holds no module-level client — so handlers share one singleton and tests
 * inject aws-sdk-client-mock. Every call goes through bounded full-jitter retries (retry.ts).
 *
 * The guarantees (docs/data-model.md, "Crash safety") and the cost of each operation are documented
 * in docs/data-model.md.
 * Two operations (planWave, finalizeBatch) read META before writing other items; they rely on the
 * continuation running single-flight per batch (FIFO group = batch id), and their final META write
 * is conditional, so even a violated assumption can never count or finalize twice.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DEFAULT_CONFIG, resolveConfig } from '#domain/config.ts';
import { comparisonUsageOf } from '#domain/judge-usage.ts';
import type { ComparisonRecord } from '#domain/types.ts';
import { isTerminal } from '#domain/types.ts';
import { comparisonId, parseComparisonId } from '#messages/common.ts';
import type { Callback } from '#messages/queue.ts';
import type { ResultRow } from '#messages/state.ts';
import {
  ACTIVE_PARTITION,
  batchIdFromPk,
  batchPk,
  comparisonSk,
  essayIdsSk,
  essaySk,
  expiresAt,
  iterationPrefix,
  META_SK,
  pendingShard,
  pendingShardKey,
  pendingSortKey,
  pendingSortKeyBefore,
  resultsSk,
  scoresSk,
} from '#store/keys.ts';
import {
  backoffDelay,
  cancellationReasons,
  defaultRetryPolicy,
  errorName,
  type RetryPolicy,
  withRetry,
} from '#store/retry.ts';
import {
  ACTIVE_INDEX,
  ACTIVE_PK,
  ACTIVE_SK,
  KEY_ATTRIBUTES,
  PENDING_INDEX,
  PENDING_PK,
  PENDING_SK,
  TTL_ATTRIBUTE,
} from '#store/table-schema.ts';
import type {
  BatchMeta,
  CancelOutcome,
  CreateBatchInput,
  CreateBatchOutcome,
  EssayPageOutcome,
  ExpiredComparison,
  FinalizeInput,
  FinalizeResult,
  PendingComparison,
  PlanWaveInput,
  PlanWaveResult,
  RecordCallbackResult,
  StartBatchOutcome,
  StoredComparison,
  StoredEssay,
  StoreSnapshot,
} from '#store/types.ts';

/** DynamoDB API limits (not tunable defaults). */
const BATCH_WRITE_LIMIT = 25;
const BATCH_GET_LIMIT = 100;

export interface BatchStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  retry?: Partial<RetryPolicy>;
  ttlDays?: number;
  pendingShards?: number;
  resultsPerItem?: number;
}

type Item = Record<string, unknown>;
type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Item } };

/** Reads an attribute from a plain item or from a marshalled one (cancellation reasons). */
function plainAttribute(item: Item | undefined, name: string): unknown {
  const value = item?.[name];
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const typed = value as Record<string, unknown>;
    if (typeof typed.S === 'string') return typed.S;
    if (typeof typed.N === 'string') return Number(typed.N);
    if (typeof typed.BOOL === 'boolean') return typed.BOOL;
  }
  return value;
}

function stripKeys<T>(item: Item): T {
  const copy: Item = { ...item };
  for (const name of KEY_ATTRIBUTES) delete copy[name];
  return copy as T;
}

function isConditionFailure(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    chunks.push(items.slice(start, start + size));
  }
  return chunks;
}

export class BatchStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly retry: RetryPolicy;
  private readonly ttlDays: number;
  private readonly shards: number;
  private readonly resultsPerItem: number;

  constructor(options: BatchStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.retry = { ...defaultRetryPolicy, ...options.retry };
    this.ttlDays = options.ttlDays ?? DEFAULT_CONFIG.BATCH_TTL_DAYS;
    this.shards = options.pendingShards ?? DEFAULT_CONFIG.PENDING_INDEX_SHARDS;
    this.resultsPerItem = options.resultsPerItem ?? DEFAULT_CONFIG.RESULTS_PER_ITEM;
  }

  // --- batches and essays -----------------------------------------------------------------

  /**
   * Inline essays: essay and id-chunk items first, then META (RUNNING) with a condition that the
   * batch does not exist. Without essays: META only, PENDING_ESSAYS.
   */
  async createBatch(input: CreateBatchInput): Promise<CreateBatchOutcome> {
    const essays = input.essays ?? [];
    const running = essays.length > 0;
    if (running) {
      const pages = chunk(essays, DEFAULT_CONFIG.MAX_ESSAYS_PER_PAGE);
      await this.writeAll(
        pages.flatMap((page, pageIndex) =>
          this.essayPageWrites(
            input.batchId,
            pageIndex * DEFAULT_CONFIG.MAX_ESSAYS_PER_PAGE,
            page,
            input.now,
          ),
        ),
      );
    }
    const now = input.now.toISOString();
    const meta: BatchMeta = {
      batch_id: input.batchId,
      status: running ? 'RUNNING' : 'PENDING_ESSAYS',
      failure_reason: null,
      essay_count: input.essayCount,
      essays_stored: essays.length,
      submitted_comparisons: 0,
      completed_comparisons: 0,
      failed_comparisons: 0,
      total_comparisons: 0,
      total_budget: input.totalBudget,
      current_iteration: 0,
      resampling_pass_count: 0,
      config: input.config,
      judge: input.judge,
      processing_metadata: {},
      event_published: false,
      version: 1,
      created_at: now,
      updated_at: now,
      finalized_at: null,
    };
    try {
      await this.call(() =>
        this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              pk: batchPk(input.batchId),
              sk: META_SK,
              ...meta,
              ...(running ? this.activeIndexAttributes(input.batchId) : {}),
              [TTL_ATTRIBUTE]: this.expiry(input.now),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    } catch (error) {
      if (isConditionFailure(error)) return { outcome: 'exists' };
      throw error;
    }
    return { outcome: 'created', batch: meta };
  }

  /**
   * Stores one page of a PENDING_ESSAYS batch. Pages arrive in order; the page's items are written
   * first (deterministic keys, so a retry rewrites the same items), then META's essays_stored moves
   * from `offset` to `offset + page size` under a condition, so a page is counted once.
   */
  async putEssayPage(
    batchId: string,
    offset: number,
    essays: ReadonlyArray<{ id: string; text: string; metadata?: Record<string, unknown> }>,
    now: Date,
  ): Promise<EssayPageOutcome> {
    const meta = await this.getBatch(batchId);
    if (!meta) return { outcome: 'not_found' };
    const end = offset + essays.length;
    if (end <= meta.essays_stored)
      return { outcome: 'already_stored', essays_stored: meta.essays_stored };
    if (meta.status !== 'PENDING_ESSAYS') return { outcome: 'not_accepting', status: meta.status };
    if (offset !== meta.essays_stored)
      return { outcome: 'out_of_order', essays_stored: meta.essays_stored };
    if (end > meta.essay_count) return { outcome: 'too_many', essays_stored: meta.essays_stored };

    const storedIds = new Set(await this.getEssayIds(batchId));
    const duplicate = essays.findIndex((essay) => storedIds.has(essay.id));
    if (duplicate >= 0) {
      return { outcome: 'duplicate_id', id: essays[duplicate]?.id ?? '', position: duplicate };
    }

    await this.writeAll(this.essayPageWrites(batchId, offset, essays, now));
    try {
      await this.call(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: batchPk(batchId), sk: META_SK },
            UpdateExpression: 'SET essays_stored = :end, updated_at = :now ADD version :one',
            ConditionExpression: '#status = :pending_essays AND essays_stored = :offset',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':end': end,
              ':now': now.toISOString(),
              ':one': 1,
              ':pending_essays': 'PENDING_ESSAYS',
              ':offset': offset,
            },
          }),
        ),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const latest = await this.getBatch(batchId);
      if (!latest) return { outcome: 'not_found' };
      if (end <= latest.essays_stored) {
        return { outcome: 'already_stored', essays_stored: latest.essays_stored };
      }
      if (latest.status !== 'PENDING_ESSAYS')
        return { outcome: 'not_accepting', status: latest.status };
      return { outcome: 'out_of_order', essays_stored: latest.essays_stored };
    }
    return { outcome: 'stored', essays_stored: end };
  }

  /** PENDING_ESSAYS → RUNNING, only when every essay is stored (one conditional update). */
  async startBatch(batchId: string, now: Date): Promise<StartBatchOutcome> {
    try {
      const output = await this.call(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: batchPk(batchId), sk: META_SK },
            UpdateExpression:
              'SET #status = :running, updated_at = :now, #active_pk = :active_pk, #active_sk = :active_sk ADD version :one',
            ConditionExpression: '#status = :pending_essays AND essays_stored = essay_count',
            ExpressionAttributeNames: {
              '#status': 'status',
              '#active_pk': ACTIVE_PK,
              '#active_sk': ACTIVE_SK,
            },
            ExpressionAttributeValues: {
              ':running': 'RUNNING',
              ':pending_essays': 'PENDING_ESSAYS',
              ':now': now.toISOString(),
              ':one': 1,
              ':active_pk': ACTIVE_PARTITION,
              ':active_sk': batchId,
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return { outcome: 'started', batch: stripKeys<BatchMeta>(output.Attributes ?? {}) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const batch = await this.getBatch(batchId);
      if (!batch) return { outcome: 'not_found' };
      if (batch.status === 'PENDING_ESSAYS') return { outcome: 'essays_missing', batch };
      if (batch.status === 'RUNNING') return { outcome: 'already_started', batch };
      return { outcome: 'not_startable', batch };
    }
  }

  /** The META item (strongly consistent by default: every gate decision needs fresh counters). */
  async getBatch(batchId: string, consistent = true): Promise<BatchMeta | null> {
    const output = await this.call(() =>
      this.client.send(
        new GetCommand({
          TableName: this.table,
          Key: { pk: batchPk(batchId), sk: META_SK },
          ConsistentRead: consistent,
        }),
      ),
    );
    return output.Item ? stripKeys<BatchMeta>(output.Item) : null;
  }

  /** Essays by index (BatchGet, 100 keys per call, unprocessed keys retried); missing ones absent. */
  async getEssays(batchId: string, indices: readonly number[]): Promise<Map<number, StoredEssay>> {
    const essays = new Map<number, StoredEssay>();
    const unique = [...new Set(indices)];
    for (const keys of chunk(unique, BATCH_GET_LIMIT)) {
      let pending: Item[] = keys.map((index) => ({ pk: batchPk(batchId), sk: essaySk(index) }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        const request = pending;
        const output = await this.call(() =>
          this.client.send(
            new BatchGetCommand({ RequestItems: { [this.table]: { Keys: request } } }),
          ),
        );
        for (const item of output.Responses?.[this.table] ?? []) {
          const essay = stripKeys<StoredEssay>(item);
          essays.set(essay.index, essay);
        }
        pending = (output.UnprocessedKeys?.[this.table]?.Keys as Item[] | undefined) ?? [];
        if (pending.length > 0) await this.backoffOrFail(attempt, 'BatchGet left keys unprocessed');
      }
    }
    return essays;
  }

  /** Essay ids by index, from the compact id chunks (one per stored page). */
  async getEssayIds(batchId: string): Promise<string[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': batchPk(batchId), ':prefix': 'IDS#' },
      ConsistentRead: true,
    });
    const ids: string[] = [];
    for (const item of items) {
      const offset = Number(item.offset);
      (item.ids as string[]).forEach((id, position) => {
        ids[offset + position] = id;
      });
    }
    return ids;
  }

  /** Any active status → CANCELLED (one conditional update). */
  async cancelBatch(batchId: string, now: Date): Promise<CancelOutcome> {
    try {
      const output = await this.call(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: batchPk(batchId), sk: META_SK },
            UpdateExpression:
              'SET #status = :cancelled, finalized_at = :now, updated_at = :now, event_published = :false REMOVE #active_pk, #active_sk ADD version :one',
            ConditionExpression: '#status IN (:pending_essays, :running)',
            ExpressionAttributeNames: {
              '#status': 'status',
              '#active_pk': ACTIVE_PK,
              '#active_sk': ACTIVE_SK,
            },
            ExpressionAttributeValues: {
              ':cancelled': 'CANCELLED',
              ':pending_essays': 'PENDING_ESSAYS',
              ':running': 'RUNNING',
              ':now': now.toISOString(),
              ':false': false,
              ':one': 1,
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return { outcome: 'cancelled', batch: stripKeys<BatchMeta>(output.Attributes ?? {}) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const batch = await this.getBatch(batchId);
      return batch ? { outcome: 'already_final', batch } : { outcome: 'not_found' };
    }
  }

  // --- the engine loop --------------------------------------------------------------------

  /**
   * What `decide` needs: META, every comparison of a committed wave (items of an iteration above
   * current_iteration were written by an interrupted planWave and are ignored), and the scores
   * saved at the latest evaluation before the current iteration. All reads strongly consistent.
   */
  async loadSnapshot(batchId: string): Promise<StoreSnapshot | null> {
    const batch = await this.getBatch(batchId);
    if (!batch) return null;
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': batchPk(batchId), ':prefix': 'CMP#' },
      ProjectionExpression:
        'iteration, a, b, #status, winner, failure_kind, kind, attempt, resample_pass, judge_usage',
      ExpressionAttributeNames: { '#status': 'status' },
      ConsistentRead: true,
    });
    const comparisons: ComparisonRecord[] = [];
    for (const item of items) {
      const stored = item as unknown as StoredComparison;
      if (stored.iteration > batch.current_iteration) continue;
      comparisons.push({
        a: stored.a,
        b: stored.b,
        status: stored.status,
        kind: stored.kind,
        iteration: stored.iteration,
        attempt: stored.attempt,
        ...(stored.winner !== undefined ? { winner: stored.winner } : {}),
        ...(stored.failure_kind !== undefined ? { failureKind: stored.failure_kind } : {}),
        ...(stored.resample_pass !== undefined ? { resamplePass: stored.resample_pass } : {}),
        ...(stored.judge_usage !== undefined ? { usage: stored.judge_usage } : {}),
      });
    }
    return {
      batch,
      essayCount: batch.essay_count,
      counters: {
        submitted_comparisons: batch.submitted_comparisons,
        completed_comparisons: batch.completed_comparisons,
        failed_comparisons: batch.failed_comparisons,
      },
      totalBudget: batch.total_budget,
      currentIteration: batch.current_iteration,
      resamplingPassCount: batch.resampling_pass_count,
      status: batch.status,
      comparisons,
      previousScores: await this.loadPreviousScores(batchId, batch.current_iteration),
      config: resolveConfig(batch.config),
    };
  }

  /**
   * Saves the scores evaluated while the batch was at `iteration`, as Float32 binary (40 KB at
   * n = 10,000, beside META so META stays small and every callback cheap). Keyed by iteration so a
   * redelivered continuation still compares against the scores of an earlier evaluation.
   */
  async saveScores(
    batchId: string,
    iteration: number,
    scores: ArrayLike<number>,
    now: Date,
  ): Promise<void> {
    const packed = Float32Array.from(scores);
    await this.call(() =>
      this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: batchPk(batchId),
            sk: scoresSk(iteration),
            iteration,
            count: packed.length,
            scores: new Uint8Array(packed.buffer),
            [TTL_ATTRIBUTE]: this.expiry(now),
          },
        }),
      ),
    );
  }

  /**
   * Plans wave `expectedIteration + 1`. Order: (1) read META; if the wave was already committed
   * return its PENDING comparisons, if the batch moved on return `stale`; (2) delete items a crashed
   * earlier attempt left at indices beyond this plan; (3) write the comparison items (deterministic
   * ids, BatchWrite — a repeat rewrites the same items); (4) ONE conditional META update raises
   * current_iteration, submitted_comparisons and total_comparisons together. A crash before (4)
   * leaves only uncommitted items that loadSnapshot ignores; a crash after it is answered by (1).
   */
  async planWave(batchId: string, input: PlanWaveInput): Promise<PlanWaveResult> {
    if (input.pairs.length === 0) throw new Error('planWave needs at least one pair');
    const iteration = input.expectedIteration + 1;
    const size = input.pairs.length;
    const meta = await this.getBatch(batchId);
    if (!meta) return { outcome: 'stale', batch: null };
    if (meta.current_iteration === iteration) {
      return {
        outcome: 'already_planned',
        iteration,
        pending: await this.listPendingInIteration(batchId, iteration),
      };
    }
    if (meta.status !== 'RUNNING' || meta.current_iteration !== input.expectedIteration) {
      return { outcome: 'stale', batch: meta };
    }
    if (meta.submitted_comparisons + size > meta.total_budget) {
      return { outcome: 'over_budget', batch: meta };
    }

    const leftovers = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': batchPk(batchId), ':prefix': iterationPrefix(iteration) },
      ProjectionExpression: 'pk, sk, #index',
      ExpressionAttributeNames: { '#index': 'index' },
      ConsistentRead: true,
    });
    const deletes: WriteRequest[] = leftovers
      .filter((item) => Number(item.index) >= size)
      .map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } }));

    const deadline = input.deadline.toISOString();
    const pending: PendingComparison[] = [];
    const puts: WriteRequest[] = input.pairs.map((pair, index) => {
      const id = comparisonId(iteration, index);
      pending.push({
        comparison_id: id,
        iteration,
        a: pair.a,
        b: pair.b,
        attempt: pair.attempt,
        deadline,
      });
      const item: StoredComparison = {
        batch_id: batchId,
        comparison_id: id,
        iteration,
        index,
        a: pair.a,
        b: pair.b,
        kind: pair.kind,
        attempt: pair.attempt,
        ...(pair.resamplePass !== undefined ? { resample_pass: pair.resamplePass } : {}),
        status: 'PENDING',
        deadline,
      };
      return {
        PutRequest: {
          Item: {
            pk: batchPk(batchId),
            sk: comparisonSk(id),
            ...item,
            [PENDING_PK]: pendingShard(batchId, id, this.shards),
            [PENDING_SK]: pendingSortKey(input.deadline.getTime(), batchId, id),
            [TTL_ATTRIBUTE]: this.expiry(input.deadline),
          },
        },
      };
    });
    await this.writeAll([...deletes, ...puts]);

    try {
      await this.call(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: batchPk(batchId), sk: META_SK },
            UpdateExpression:
              'SET current_iteration = :next, resampling_pass_count = :passes, updated_at = :now ADD submitted_comparisons :size, total_comparisons :size, version :one',
            ConditionExpression:
              '#status = :running AND current_iteration = :expected AND submitted_comparisons <= :max_submitted',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':next': iteration,
              ':passes': input.resamplingPassCount,
              ':now': input.now.toISOString(),
              ':size': size,
              ':one': 1,
              ':running': 'RUNNING',
              ':expected': input.expectedIteration,
              ':max_submitted': meta.total_budget - size,
            },
          }),
        ),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const latest = await this.getBatch(batchId);
      if (latest?.current_iteration === iteration) {
        return {
          outcome: 'already_planned',
          iteration,
          pending: await this.listPendingInIteration(batchId, iteration),
        };
      }
      return { outcome: 'stale', batch: latest };
    }
    return { outcome: 'planned', iteration, pending };
  }

  /** Comparisons of one wave still PENDING (to re-send after a crash mid-send). */
  async listPendingInIteration(batchId: string, iteration: number): Promise<PendingComparison[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      FilterExpression: '#status = :pending',
      ExpressionAttributeValues: {
        ':pk': batchPk(batchId),
        ':prefix': iterationPrefix(iteration),
        ':pending': 'PENDING',
      },
      ProjectionExpression: 'comparison_id, iteration, a, b, attempt, deadline',
      ExpressionAttributeNames: { '#status': 'status' },
      ConsistentRead: true,
    });
    return items.map((item) => ({
      comparison_id: String(item.comparison_id),
      iteration: Number(item.iteration),
      a: Number(item.a),
      b: Number(item.b),
      attempt: Number(item.attempt),
      deadline: String(item.deadline),
    }));
  }

  /**
   * Records one callback in ONE TransactWriteItems: the comparison PENDING → COMPLETED/FAILED
   * (condition `#status = :pending`) plus the matching META counter +1 (condition: batch RUNNING
   * and the comparison's wave committed). The cancellation reasons tell a duplicate (comparison
   * already terminal), a late callback (batch no longer RUNNING: the comparison alone is marked
   * late) and an unknown comparison apart. Always ends with a fresh consistent META read.
   */
  async recordCallback(callback: Callback, now: Date): Promise<RecordCallbackResult> {
    const parsed = parseComparisonId(callback.comparison_id);
    if (!parsed)
      return { outcome: 'unknown_comparison', batch: await this.getBatch(callback.batch_id) };
    const counter = callback.outcome === 'verdict' ? 'completed_comparisons' : 'failed_comparisons';
    const comparisonUpdate = this.terminalComparisonUpdate(callback, now, false);
    let outcome: RecordCallbackResult['outcome'] = 'recorded';
    try {
      await this.call(() =>
        this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Update: { ...comparisonUpdate, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
              {
                Update: {
                  TableName: this.table,
                  Key: { pk: batchPk(callback.batch_id), sk: META_SK },
                  UpdateExpression: `SET updated_at = :now ADD ${counter} :one, version :one`,
                  ConditionExpression: '#status = :running AND current_iteration >= :iteration',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: {
                    ':now': now.toISOString(),
                    ':one': 1,
                    ':running': 'RUNNING',
                    ':iteration': parsed.iteration,
                  },
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
            ],
          }),
        ),
      );
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons.length === 0) throw error;
      const [comparisonReason, metaReason] = reasons;
      if (comparisonReason?.Code === 'ConditionalCheckFailed') {
        outcome = comparisonReason.Item ? 'duplicate' : 'unknown_comparison';
      } else if (metaReason?.Code === 'ConditionalCheckFailed') {
        const status = plainAttribute(metaReason.Item, 'status');
        if (!metaReason.Item || status === 'RUNNING' || status === 'PENDING_ESSAYS') {
          outcome = 'unknown_comparison';
        } else {
          outcome = await this.markLate(callback, now);
        }
      } else {
        throw error;
      }
    }
    return { outcome, batch: await this.getBatch(callback.batch_id) };
  }

  /**
   * Finalizes exactly once: (1) read META — already final or moved on: nothing is written;
   * (2) write the result chunks (deterministic keys); (3) ONE conditional META update from RUNNING
   * at the expected iteration to the final status, with event_published = false.
   */
  async finalizeBatch(batchId: string, input: FinalizeInput): Promise<FinalizeResult> {
    const meta = await this.getBatch(batchId);
    if (!meta) return { outcome: 'not_found' };
    if (isTerminal(meta.status)) return { outcome: 'already_final', batch: meta };
    if (meta.status !== 'RUNNING' || meta.current_iteration !== input.expectedIteration) {
      return { outcome: 'stale', batch: meta };
    }
    const chunks = chunk(input.results, this.resultsPerItem);
    await this.writeAll(
      chunks.map((rows, index) => ({
        PutRequest: {
          Item: {
            pk: batchPk(batchId),
            sk: resultsSk(index),
            rows,
            [TTL_ATTRIBUTE]: this.expiry(input.now),
          },
        },
      })),
    );
    const now = input.now.toISOString();
    try {
      const output = await this.call(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: batchPk(batchId), sk: META_SK },
            UpdateExpression:
              'SET #status = :final, failure_reason = :reason, processing_metadata = :metadata, resampling_pass_count = :passes, result_chunks = :chunks, finalized_at = :now, updated_at = :now, event_published = :false REMOVE #active_pk, #active_sk ADD version :one',
            ConditionExpression: '#status = :running AND current_iteration = :expected',
            ExpressionAttributeNames: {
              '#status': 'status',
              '#active_pk': ACTIVE_PK,
              '#active_sk': ACTIVE_SK,
            },
            ExpressionAttributeValues: {
              ':final': input.status,
              ':reason': input.failureReason ?? null,
              ':metadata': input.processingMetadata,
              ':passes': input.resamplingPassCount,
              ':chunks': chunks.length,
              ':now': now,
              ':false': false,
              ':one': 1,
              ':running': 'RUNNING',
              ':expected': input.expectedIteration,
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return { outcome: 'finalized', batch: stripKeys<BatchMeta>(output.Attributes ?? {}) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const latest = await this.getBatch(batchId);
      if (!latest) return { outcome: 'not_found' };
      return { outcome: isTerminal(latest.status) ? 'already_final' : 'stale', batch: latest };
    }
  }

  /**
   * Marks the completion/failure event as published, once. Call after publishing; a crash between
   * publish and this call re-publishes on redelivery (consumers dedupe by batch_id), and once this
   * succeeded the batch never publishes again.
   */
  async markEventPublished(batchId: string, now: Date): Promise<'marked' | 'already_published'> {
    try {
      await this.call(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: batchPk(batchId), sk: META_SK },
            UpdateExpression:
              'SET event_published = :true, event_published_at = :now ADD version :one',
            ConditionExpression: 'attribute_exists(finalized_at) AND event_published = :false',
            ExpressionAttributeValues: {
              ':true': true,
              ':false': false,
              ':now': now.toISOString(),
              ':one': 1,
            },
          }),
        ),
      );
      return 'marked';
    } catch (error) {
      if (isConditionFailure(error)) return 'already_published';
      throw error;
    }
  }

  /** Stored result rows (all chunks), in essay-index order. */
  async getResults(batchId: string): Promise<ResultRow[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': batchPk(batchId), ':prefix': 'RESULT#' },
      ConsistentRead: true,
    });
    return items.flatMap((item) => item.rows as ResultRow[]);
  }

  // --- sweeper ----------------------------------------------------------------------------

  /** Up to `limit` PENDING comparisons whose deadline is before `now`, over every index shard. */
  async listExpiredPending(now: Date, limit: number): Promise<ExpiredComparison[]> {
    const expired: ExpiredComparison[] = [];
    for (let shard = 0; shard < this.shards && expired.length < limit; shard++) {
      const items = await this.queryAll(
        {
          IndexName: PENDING_INDEX,
          KeyConditionExpression: '#gpk = :shard AND #gsk < :before',
          ExpressionAttributeNames: { '#gpk': PENDING_PK, '#gsk': PENDING_SK },
          ExpressionAttributeValues: {
            ':shard': pendingShardKey(shard),
            ':before': pendingSortKeyBefore(now.getTime()),
          },
        },
        limit - expired.length,
      );
      for (const item of items) {
        const sortKey = String(item[PENDING_SK]);
        expired.push({
          batch_id: batchIdFromPk(String(item.pk)),
          comparison_id: String(item.sk).slice('CMP#'.length),
          deadline: new Date(Number(sortKey.slice(0, sortKey.indexOf('#')))).toISOString(),
        });
      }
    }
    return expired;
  }

  /** Ids of RUNNING batches (sparse index; eventually consistent). */
  async listActiveBatches(): Promise<string[]> {
    const items = await this.queryAll({
      IndexName: ACTIVE_INDEX,
      KeyConditionExpression: '#apk = :active',
      ExpressionAttributeNames: { '#apk': ACTIVE_PK },
      ExpressionAttributeValues: { ':active': ACTIVE_PARTITION },
    });
    return items.map((item) => batchIdFromPk(String(item.pk)));
  }

  // --- helpers ----------------------------------------------------------------------------

  private call<T>(operation: () => Promise<T>): Promise<T> {
    return withRetry(operation, this.retry);
  }

  private expiry(from: Date): number {
    return expiresAt(from, this.ttlDays);
  }

  private activeIndexAttributes(batchId: string): Item {
    return { [ACTIVE_PK]: ACTIVE_PARTITION, [ACTIVE_SK]: batchId };
  }

  private essayPageWrites(
    batchId: string,
    offset: number,
    essays: ReadonlyArray<{ id: string; text: string; metadata?: Record<string, unknown> }>,
    now: Date,
  ): WriteRequest[] {
    const expires = this.expiry(now);
    const writes: WriteRequest[] = essays.map((essay, position) => ({
      PutRequest: {
        Item: {
          pk: batchPk(batchId),
          sk: essaySk(offset + position),
          index: offset + position,
          id: essay.id,
          text: essay.text,
          ...(essay.metadata !== undefined ? { metadata: essay.metadata } : {}),
          [TTL_ATTRIBUTE]: expires,
        },
      },
    }));
    writes.push({
      PutRequest: {
        Item: {
          pk: batchPk(batchId),
          sk: essayIdsSk(offset),
          offset,
          ids: essays.map((essay) => essay.id),
          [TTL_ATTRIBUTE]: expires,
        },
      },
    });
    return writes;
  }

  /** The comparison's PENDING → terminal update (shared by the transaction and the late path). */
  private terminalComparisonUpdate(callback: Callback, now: Date, late: boolean) {
    const values: Item = {
      ':pending': 'PENDING',
      ':now': now.toISOString(),
    };
    const sets = ['#status = :terminal', 'recorded_at = :now'];
    if (callback.outcome === 'verdict') {
      values[':terminal'] = 'COMPLETED';
      values[':winner'] = callback.winner;
      sets.push('winner = :winner');
      const usage = comparisonUsageOf(callback.usage);
      if (usage) {
        values[':usage'] = usage;
        sets.push('judge_usage = :usage');
      }
    } else {
      values[':terminal'] = 'FAILED';
      values[':kind'] = callback.failure_kind;
      sets.push('failure_kind = :kind');
      if (callback.reason !== undefined) {
        values[':reason'] = callback.reason;
        sets.push('failure_detail = :reason');
      }
    }
    if (late) {
      values[':late'] = true;
      sets.push('late = :late');
    }
    return {
      TableName: this.table,
      Key: { pk: batchPk(callback.batch_id), sk: comparisonSk(callback.comparison_id) },
      UpdateExpression: `SET ${sets.join(', ')} REMOVE #pending_pk, #pending_sk`,
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#pending_pk': PENDING_PK,
        '#pending_sk': PENDING_SK,
      },
      ExpressionAttributeValues: values,
    };
  }

  /** Batch no longer RUNNING: record the callback on the comparison as late, no counter. */
  private async markLate(callback: Callback, now: Date): Promise<'late' | 'duplicate'> {
    try {
      await this.call(() =>
        this.client.send(new UpdateCommand(this.terminalComparisonUpdate(callback, now, true))),
      );
      return 'late';
    } catch (error) {
      if (isConditionFailure(error)) return 'duplicate';
      throw error;
    }
  }

  private async loadPreviousScores(
    batchId: string,
    currentIteration: number,
  ): Promise<Float64Array | null> {
    if (currentIteration === 0) return null;
    const output = await this.call(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last',
          ExpressionAttributeValues: {
            ':pk': batchPk(batchId),
            ':first': scoresSk(0),
            ':last': scoresSk(currentIteration - 1),
          },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      ),
    );
    const item = output.Items?.[0];
    if (!item) return null;
    const bytes = item.scores as Uint8Array;
    // Copy first: the binary may sit at an offset that is not 4-byte aligned.
    const packed = new Float32Array(new Uint8Array(bytes).buffer, 0, Number(item.count));
    return Float64Array.from(packed);
  }

  private async queryAll(
    input: Omit<QueryCommandInput, 'TableName'>,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const remaining = limit - items.length;
      const output = await this.call(() =>
        this.client.send(
          new QueryCommand({
            ...input,
            TableName: this.table,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            ...(Number.isFinite(remaining) ? { Limit: remaining } : {}),
          }),
        ),
      );
      items.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (startKey && items.length < limit);
    return items;
  }

  /** BatchWrite in chunks of 25, re-sending unprocessed items with backoff (bounded). */
  private async writeAll(requests: readonly WriteRequest[]): Promise<void> {
    for (const group of chunk(requests, BATCH_WRITE_LIMIT)) {
      let pending: WriteRequest[] = group;
      for (let attempt = 1; pending.length > 0; attempt++) {
        const request = pending;
        const output = await this.call(() =>
          this.client.send(new BatchWriteCommand({ RequestItems: { [this.table]: request } })),
        );
        pending = (output.UnprocessedItems?.[this.table] as WriteRequest[] | undefined) ?? [];
        if (pending.length > 0)
          await this.backoffOrFail(attempt, 'BatchWrite left items unprocessed');
      }
    }
  }

  private async backoffOrFail(attempt: number, message: string): Promise<void> {
    if (attempt >= this.retry.maxAttempts) {
      const error = new Error(`${message} after ${attempt} attempts`);
      error.name = 'ProvisionedThroughputExceededException';
      throw error;
    }
    await this.retry.sleep(backoffDelay(attempt - 1, this.retry));
  }
}
