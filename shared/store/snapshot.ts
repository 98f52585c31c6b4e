/**
 * What the continuation reads before `decide`, on DynamoDB — incrementally: META, the packed
 * verdicts of every closed wave (the per-wave ledger's VERDICTS items; a warm function keeps them
 * decoded, so it reads none), the comparison items of the latest wave only, and the scores saved
 * at the previous evaluation (Float32 binary beside META, so META stays small and every callback
 * cheap). The comparisons come out in the order of their ids, exactly as a query of every
 * comparison item would give them, so the decision is the same; a wave whose verdicts are missing
 * (never closed, or not yet visible to an eventually consistent read) is read from its items.
 * docs/data-model.md, "Per-wave ledger", says why and what it costs.
 */
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { resolveConfig } from '#domain/config.ts';
import type { ComparisonRecord } from '#domain/types.ts';
import type { SnapshotStore } from '#shared/workflow/ports.ts';
import type { BatchMeta, StoredComparison } from '#shared/workflow/store-records.ts';
import type { LastWave, StoreSnapshot } from '#shared/workflow/wave-records.ts';
import {
  batchPk,
  itemKey,
  iterationPrefix,
  SETTINGS_SK,
  scoresSk,
  verdictsIterationPrefix,
} from '#store/keys.ts';
import type { Item, Table } from '#store/table.ts';
import { PK, SK, TTL_ATTRIBUTE } from '#store/table-schema.ts';
import { decodeVerdicts } from '#store/verdicts.ts';

/** The attributes of a comparison `decide` reads (its keys and the rest stay in the table). */
const SNAPSHOT_PROJECTION =
  'iteration, a, b, #status, winner, failure_kind, kind, attempt, resample_pass, judge_usage, recorded_at';

export function toRecord(stored: StoredComparison): ComparisonRecord {
  return {
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
  };
}

/** Every comparison item of one wave, in index order (strongly consistent). */
async function waveItems(table: Table, batchId: string, iteration: number) {
  const items = await table.queryBatch(batchId, {
    sortKeyPrefix: iterationPrefix(iteration),
    projection: SNAPSHOT_PROJECTION,
    names: { '#status': 'status' },
  });
  return items as unknown as StoredComparison[];
}

/** The latest wave as its comparison items say, with what closing it records. */
async function readLastWave(table: Table, batchId: string, iteration: number): Promise<LastWave> {
  const stored = await waveItems(table, batchId, iteration);
  let lastCallbackAt: string | null = null;
  let timedOut = 0;
  for (const item of stored) {
    if (
      item.recorded_at !== undefined &&
      (lastCallbackAt === null || item.recorded_at > lastCallbackAt)
    ) {
      lastCallbackAt = item.recorded_at;
    }
    if (item.status === 'FAILED' && item.failure_kind === 'timeout') timedOut += 1;
  }
  return {
    iteration,
    records: stored.map(toRecord),
    complete: stored.every((item) => item.status !== 'PENDING'),
    lastCallbackAt,
    timedOut,
  };
}

/** Verdicts of waves `from`..`to` found in the VERDICTS items (complete waves only). */
function decodeChunks(items: readonly Item[]): Map<number, ComparisonRecord[]> {
  const byWave = new Map<number, Item[]>();
  for (const item of items) {
    const iteration = Number(item.iteration);
    byWave.set(iteration, [...(byWave.get(iteration) ?? []), item]);
  }
  const decoded = new Map<number, ComparisonRecord[]>();
  for (const [iteration, chunks] of byWave) {
    const expected = Number(chunks[0]?.chunks);
    if (chunks.length !== expected) continue;
    chunks.sort((x, y) => Number(x.chunk) - Number(y.chunk));
    const parts = chunks.map((chunk) => chunk.verdicts as Uint8Array);
    const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      bytes.set(part, offset);
      offset += part.length;
    }
    decoded.set(iteration, decodeVerdicts(bytes, iteration));
  }
  return decoded;
}

/** The comparisons of closed waves 1..`upTo`, in order: from the cache, the verdicts, or items. */
async function closedWaves(
  table: Table,
  batch: BatchMeta,
  upTo: number,
): Promise<ComparisonRecord[]> {
  const { batch_id: batchId, created_at: createdAt } = batch;
  const waves: ComparisonRecord[][] = [];
  const missing: number[] = [];
  for (let iteration = 1; iteration <= upTo; iteration++) {
    const cached = table.verdicts.get(batchId, createdAt, iteration);
    if (cached) waves[iteration] = cached;
    else missing.push(iteration);
  }
  const first = missing[0];
  const last = missing.at(-1);
  if (first !== undefined && last !== undefined) {
    // Written once with fixed content, so an eventually consistent read is right or incomplete.
    const chunks = await table.queryRange(
      batchId,
      { from: verdictsIterationPrefix(first), to: `${verdictsIterationPrefix(last)}~` },
      false,
    );
    const decoded = decodeChunks(chunks);
    for (const iteration of missing) {
      const records =
        decoded.get(iteration) ??
        (await waveItems(table, batchId, iteration)).map((item) => toRecord(item));
      waves[iteration] = records;
      table.verdicts.set(batchId, createdAt, iteration, records);
    }
  }
  return waves.flat();
}

/** The scores saved at the latest evaluation before `currentIteration` (none before wave 1). */
async function loadPreviousScores(
  table: Table,
  batchId: string,
  currentIteration: number,
): Promise<Float64Array | null> {
  if (currentIteration === 0) return null;
  const output = await table.call(() =>
    table.client.send(
      new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :first AND :last',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
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

export function dynamoSnapshots(table: Table): SnapshotStore {
  return {
    /**
     * META (unless given), the settings, every comparison of a committed wave (items of an
     * iteration above current_iteration were written by an interrupted planWave and are not
     * read), and the previous scores.
     */
    async loadSnapshot(batchId, given): Promise<StoreSnapshot | null> {
      const batch = given ?? (await table.getMeta(batchId));
      if (!batch) return null;
      const settings =
        table.cachedSettings(batchId) ??
        table.rememberSettings(batchId, await table.getItem(batchId, SETTINGS_SK));
      if (!settings) throw new Error(`batch ${batchId} has no settings item`);
      const latest = batch.current_iteration;
      const earlier = await closedWaves(table, batch, latest - 1);
      const lastWave = latest >= 1 ? await readLastWave(table, batchId, latest) : null;
      return {
        batch,
        essayCount: batch.essay_count,
        counters: {
          submitted_comparisons: batch.submitted_comparisons,
          completed_comparisons: batch.completed_comparisons,
          failed_comparisons: batch.failed_comparisons,
        },
        totalBudget: batch.total_budget,
        currentIteration: latest,
        resamplingPassCount: batch.resampling_pass_count,
        status: batch.status,
        comparisons: lastWave ? earlier.concat(lastWave.records) : earlier,
        lastWave,
        previousScores: await loadPreviousScores(table, batchId, latest),
        config: resolveConfig(settings.config),
      };
    },

    /**
     * Saves the scores evaluated while the batch was at `iteration` (40 KB at n = 10,000). Keyed by
     * iteration, so a redelivered continuation still compares against an earlier evaluation.
     */
    async saveScores(batchId, iteration, scores, now): Promise<void> {
      const packed = Float32Array.from(scores);
      await table.call(() =>
        table.client.send(
          new PutCommand({
            TableName: table.name,
            Item: {
              ...itemKey(batchId, scoresSk(iteration)),
              iteration,
              count: packed.length,
              scores: new Uint8Array(packed.buffer),
              [TTL_ATTRIBUTE]: table.expiry(now),
            },
          }),
        ),
      );
    },
  };
}
