/**
 * A batch's life outside the engine loop, on DynamoDB: create it (with its essays inline, or
 * empty for a paged upload), store pages of essays, start, cancel, and read it back. Every state
 * change is one conditional META update whose failure is classified from a fresh META read.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { completionDenominator } from '#domain/batch-state.ts';
import { DEFAULT_CONFIG, resolveConfig } from '#domain/config.ts';
import type { EssayInput } from '#messages/api.ts';
import type { BatchStore } from '#shared/workflow/ports.ts';
import type {
  BatchMeta,
  BatchSettings,
  BatchView,
  CancelOutcome,
  CreateBatchInput,
  CreateBatchOutcome,
  EssayPageOutcome,
  StoredEssay,
} from '#shared/workflow/store-records.ts';
import { listOwnerBatches } from '#store/batch-list.ts';
import { startBatchIn } from '#store/batch-start.ts';
import { findIdempotentBatch } from '#store/idempotency.ts';
import {
  FINISH_ATTEMPTS,
  finishReleasing,
  RESERVE_ATTEMPTS,
  readInFlight,
  refusalNow,
  refusalOfCounter,
  reservationFields,
  reservationWrites,
  toDelete,
  transact,
} from '#store/in-flight.ts';
import {
  ACTIVE_PARTITION,
  ALL_BATCHES_PARTITION,
  batchPk,
  ESSAY_IDS_PREFIX,
  essayIdsSk,
  essaySk,
  idempotencyItemKey,
  itemKey,
  META_SK,
  metaKey,
  ownerSortKey,
  REPORT_SK,
  SETTINGS_SK,
} from '#store/keys.ts';
import { chunk, type Item, stripKeys, type Table, type WriteRequest } from '#store/table.ts';
import {
  ACTIVE_PK,
  ACTIVE_SK,
  CREATED_PK,
  OWNER_SK,
  PK,
  SK,
  TTL_ATTRIBUTE,
} from '#store/table-schema.ts';

/** Attribute names of the active-batches index, for update expressions. */
const ACTIVE_NAMES = { '#active_pk': ACTIVE_PK, '#active_sk': ACTIVE_SK };

/** The essay items of one page and its id chunk (deterministic keys: a retry rewrites them). */
function essayPageWrites(
  table: Table,
  batchId: string,
  offset: number,
  essays: readonly EssayInput[],
  now: Date,
): WriteRequest[] {
  const expires = table.expiry(now);
  const writes: WriteRequest[] = essays.map((essay, position) => ({
    PutRequest: {
      Item: {
        ...itemKey(batchId, essaySk(offset + position)),
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
        ...itemKey(batchId, essayIdsSk(offset)),
        offset,
        ids: essays.map((essay) => essay.id),
        // Anchor grades live here only: the essay items the judge reads never carry them.
        ...(essays.some((essay) => essay.anchor_grade !== undefined)
          ? { anchor_grades: essays.map((essay) => essay.anchor_grade ?? null) }
          : {}),
        [TTL_ATTRIBUTE]: expires,
      },
    },
  });
  return writes;
}

function newMeta(input: CreateBatchInput, running: boolean): BatchMeta {
  const now = input.now.toISOString();
  const denominator = completionDenominator({
    essayCount: input.essayCount,
    totalBudget: input.totalBudget,
    config: resolveConfig(input.config),
  });
  return {
    batch_id: input.batchId,
    status: running ? 'RUNNING' : 'PENDING_ESSAYS',
    failure_reason: null,
    essay_count: input.essayCount,
    essays_stored: input.essays?.length ?? 0,
    submitted_comparisons: 0,
    completed_comparisons: 0,
    failed_comparisons: 0,
    total_comparisons: 0,
    total_budget: input.totalBudget,
    current_iteration: 0,
    resampling_pass_count: 0,
    completion_denominator: denominator,
    event_published: false,
    version: 1,
    created_at: now,
    updated_at: now,
    finalized_at: null,
    owner: input.owner,
  };
}

export function dynamoBatches(table: Table): BatchStore {
  /** Essay ids and anchor grades by index (null: not an anchor), from the id chunks. */
  const getEssayDirectory = async (
    batchId: string,
  ): Promise<{ ids: string[]; anchorGrades: (string | null)[] }> => {
    const items = await table.queryBatch(batchId, { sortKeyPrefix: ESSAY_IDS_PREFIX });
    const ids: string[] = [];
    const anchorGrades: (string | null)[] = [];
    for (const item of items) {
      const offset = Number(item.offset);
      const grades = item.anchor_grades as (string | null)[] | undefined;
      (item.ids as string[]).forEach((id, position) => {
        ids[offset + position] = id;
        anchorGrades[offset + position] = grades?.[position] ?? null;
      });
    }
    return { ids, anchorGrades };
  };
  const getEssayIds = async (batchId: string): Promise<string[]> =>
    (await getEssayDirectory(batchId)).ids;
  /** The batch's settings (consistent read on first use, then cached: they never change). */
  const getSettings = async (batchId: string): Promise<BatchSettings | null> => {
    const cached = table.cachedSettings(batchId);
    if (cached) return cached;
    return table.rememberSettings(batchId, await table.getItem(batchId, SETTINGS_SK));
  };

  return {
    /**
     * Inline essays: essay and id-chunk items first, then META (RUNNING) and SETTINGS in one
     * transaction, each with a condition that it does not exist (so a batch never exists without
     * its settings, and a taken id is never overwritten). Without essays: META (PENDING_ESSAYS)
     * and SETTINGS only.
     */
    async createBatch(input: CreateBatchInput): Promise<CreateBatchOutcome> {
      const essays = input.essays ?? [];
      const running = essays.length > 0;
      // A batch created with its essays runs at once: it is counted in this transaction.
      const reservation = running ? input.inFlight : undefined;
      if (reservation) {
        // Checked before any essay is written, so a create that cannot fit writes nothing.
        const refusal = await refusalNow(table, reservation, input.essayCount);
        if (refusal) return { outcome: 'over_cap', refusal };
      }
      const pageSize = DEFAULT_CONFIG.MAX_ESSAYS_PER_PAGE;
      const essayWrites = chunk(essays, pageSize).flatMap((page, index) =>
        essayPageWrites(table, input.batchId, index * pageSize, page, input.now),
      );
      await table.writeAll(essayWrites);
      const meta: BatchMeta = {
        ...newMeta(input, running),
        ...(reservation ? reservationFields(reservation, input.essayCount) : {}),
      };
      const settings: BatchSettings = {
        config: input.config,
        judge: input.judge,
        ...(input.gradeScale === undefined ? {} : { grade_scale: [...input.gradeScale] }),
      };
      const expires = table.expiry(input.now);
      const put = (item: Item) => ({
        Put: {
          TableName: table.name,
          Item: { ...item, [TTL_ATTRIBUTE]: expires },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        },
      });
      const scope = input.idempotencyScope;
      const items = [
        put({
          ...metaKey(input.batchId),
          ...meta,
          [OWNER_SK]: ownerSortKey(meta.created_at, input.batchId),
          [CREATED_PK]: ALL_BATCHES_PARTITION,
          ...(running ? { [ACTIVE_PK]: ACTIVE_PARTITION, [ACTIVE_SK]: input.batchId } : {}),
        }),
        put({ ...itemKey(input.batchId, SETTINGS_SK), ...settings }),
        // The caller's Idempotency-Key item: at most one batch per caller and key.
        ...(scope === undefined
          ? []
          : [put({ ...idempotencyItemKey(scope), batch_id: input.batchId })]),
        ...(reservation ? reservationWrites(table, reservation, input.essayCount) : []),
      ];
      // Where the in-flight counters' writes start in the transaction.
      const countersAt = scope === undefined ? 2 : 3;
      for (let attempt = 1; ; attempt++) {
        const outcome = await transact(table, items);
        if (outcome.ok) return { outcome: 'created', batch: meta };
        if (scope !== undefined && outcome.failed.includes(2)) {
          // A concurrent create with the same key won; this one's essays (its own id) go.
          await table.writeAll(essayWrites.map(toDelete));
          return { outcome: 'key_taken' };
        }
        // META or SETTINGS exists: the id is taken, whatever the counters say.
        if (outcome.failed.some((index) => index < 2) || !reservation) return { outcome: 'exists' };
        const refusal = await refusalNow(table, reservation, input.essayCount);
        if (refusal || attempt >= RESERVE_ATTEMPTS) {
          // Ids are random: the essays written under this one are this request's own.
          await table.writeAll(essayWrites.map(toDelete));
          return {
            outcome: 'over_cap',
            refusal:
              refusal ??
              (await refusalOfCounter(
                table,
                outcome.failed,
                countersAt,
                reservation,
                input.essayCount,
              )),
          };
        }
      }
    },

    /**
     * Stores one page of a PENDING_ESSAYS batch. Pages arrive in order; the page's items are written
     * first (deterministic keys, so a retry rewrites the same items), then META's essays_stored
     * moves from `offset` to `offset + page size` under a condition, so a page is counted once.
     */
    async putEssayPage(batchId, offset, essays, now): Promise<EssayPageOutcome> {
      const meta = await table.getMeta(batchId);
      if (!meta) return { outcome: 'not_found' };
      const end = offset + essays.length;
      const stored = meta.essays_stored;
      if (end <= stored) return { outcome: 'already_stored', essays_stored: stored };
      if (meta.status !== 'PENDING_ESSAYS')
        return { outcome: 'not_accepting', status: meta.status };
      if (offset !== stored) return { outcome: 'out_of_order', essays_stored: stored };
      if (end > meta.essay_count) return { outcome: 'too_many', essays_stored: stored };

      const storedIds = new Set(await getEssayIds(batchId));
      const duplicate = essays.findIndex((essay) => storedIds.has(essay.id));
      if (duplicate >= 0) {
        return { outcome: 'duplicate_id', id: essays[duplicate]?.id ?? '', position: duplicate };
      }

      await table.writeAll(essayPageWrites(table, batchId, offset, essays, now));
      return table.updateMeta<EssayPageOutcome>(
        batchId,
        {
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
        },
        () => ({ outcome: 'stored', essays_stored: end }),
        (latest) => {
          if (!latest) return { outcome: 'not_found' };
          if (end <= latest.essays_stored) {
            return { outcome: 'already_stored', essays_stored: latest.essays_stored };
          }
          if (latest.status !== 'PENDING_ESSAYS') {
            return { outcome: 'not_accepting', status: latest.status };
          }
          return { outcome: 'out_of_order', essays_stored: latest.essays_stored };
        },
      );
    },

    startBatch: (batchId, now, inFlight) => startBatchIn(table, batchId, now, inFlight),

    getInFlight: (principal) => readInFlight(table, principal),

    /**
     * Any active status → CANCELLED, and what the batch counted in flight released, in one write
     * (a transaction when it was counted). A start between the read and the write is seen by the
     * write's condition, and the cancel is tried again with the new META.
     */
    async cancelBatch(batchId, now): Promise<CancelOutcome> {
      for (let attempt = 1; attempt <= FINISH_ATTEMPTS; attempt++) {
        const read = await table.getMeta(batchId);
        if (!read) return { outcome: 'not_found' };
        if (read.status !== 'PENDING_ESSAYS' && read.status !== 'RUNNING') {
          return { outcome: 'already_final', batch: read };
        }
        const cancelled = await finishReleasing(
          table,
          batchId,
          read,
          {
            UpdateExpression:
              'SET #status = :cancelled, finalized_at = :now, updated_at = :now, event_published = :false REMOVE #active_pk, #active_sk ADD version :one',
            ConditionExpression: '#status IN (:pending_essays, :running)',
            ExpressionAttributeNames: { '#status': 'status', ...ACTIVE_NAMES },
            ExpressionAttributeValues: {
              ':cancelled': 'CANCELLED',
              ':pending_essays': 'PENDING_ESSAYS',
              ':running': 'RUNNING',
              ':now': now.toISOString(),
              ':false': false,
              ':one': 1,
            },
          },
          {
            status: 'CANCELLED',
            finalized_at: now.toISOString(),
            updated_at: now.toISOString(),
            event_published: false,
          },
        );
        if (cancelled) return { outcome: 'cancelled', batch: cancelled };
      }
      throw new Error(`cancel of batch ${batchId} kept meeting a changing batch; retry`);
    },

    getBatch: (batchId, consistent) => table.getMeta(batchId, consistent),

    findIdempotentBatch: (scope) => findIdempotentBatch(table, scope),

    listBatches: (input) => listOwnerBatches(table, input),

    /** META and, once finalized, the processing metadata: one query (both keys start with META). */
    async getBatchView(batchId): Promise<BatchView | null> {
      const [output, settings] = await Promise.all([
        table.call(() =>
          table.client.send(
            new QueryCommand({
              TableName: table.name,
              KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :meta)',
              ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
              ExpressionAttributeValues: { ':pk': batchPk(batchId), ':meta': META_SK },
            }),
          ),
        ),
        getSettings(batchId),
      ]);
      const items = output.Items ?? [];
      const meta = items.find((item) => item[SK] === META_SK);
      if (!meta) return null;
      const report = items.find((item) => item[SK] === REPORT_SK);
      return {
        batch: stripKeys<BatchMeta>(meta),
        processingMetadata: (report?.processing_metadata as Record<string, unknown>) ?? {},
        gradeScale: settings?.grade_scale ?? null,
      };
    },

    getSettings,

    /** Essays by index (BatchGet); missing ones are absent. */
    async getEssays(batchId, indices): Promise<Map<number, StoredEssay>> {
      const sortKeys = [...new Set(indices)].map(essaySk);
      const essays = new Map<number, StoredEssay>();
      for (const item of await table.getAll(batchId, sortKeys)) {
        const essay = stripKeys<StoredEssay>(item);
        essays.set(essay.index, essay);
      }
      return essays;
    },

    /** Essay ids by index, from the compact id chunks (one per stored page). */
    getEssayIds,
    getEssayDirectory,
  };
}
