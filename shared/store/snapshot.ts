/**
 * What the continuation reads before `decide`, on DynamoDB: META, the comparisons of every
 * committed wave, and the scores saved at the previous evaluation (Float32 binary beside META, so
 * META stays small and every callback cheap). All reads strongly consistent.
 */
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { resolveConfig } from '#domain/config.ts';
import type { ComparisonRecord } from '#domain/types.ts';
import type { SnapshotStore } from '#shared/workflow/ports.ts';
import type { StoredComparison, StoreSnapshot } from '#shared/workflow/store-records.ts';
import { batchPk, COMPARISON_PREFIX, itemKey, SETTINGS_SK, scoresSk } from '#store/keys.ts';
import type { Table } from '#store/table.ts';
import { PK, SK, TTL_ATTRIBUTE } from '#store/table-schema.ts';

/** The attributes of a comparison `decide` reads (its keys and the rest stay in the table). */
const SNAPSHOT_PROJECTION =
  'iteration, a, b, #status, winner, failure_kind, kind, attempt, resample_pass, judge_usage';

function toRecord(stored: StoredComparison): ComparisonRecord {
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
     * META, every comparison of a committed wave (items of an iteration above current_iteration
     * were written by an interrupted planWave and are ignored), and the previous scores.
     */
    async loadSnapshot(batchId): Promise<StoreSnapshot | null> {
      const batch = await table.getMeta(batchId);
      if (!batch) return null;
      const settings =
        table.cachedSettings(batchId) ??
        table.rememberSettings(batchId, await table.getItem(batchId, SETTINGS_SK));
      if (!settings) throw new Error(`batch ${batchId} has no settings item`);
      const items = await table.queryBatch(batchId, {
        sortKeyPrefix: COMPARISON_PREFIX,
        projection: SNAPSHOT_PROJECTION,
        names: { '#status': 'status' },
      });
      const comparisons: ComparisonRecord[] = [];
      for (const item of items) {
        const stored = item as unknown as StoredComparison;
        if (stored.iteration <= batch.current_iteration) comparisons.push(toRecord(stored));
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
        previousScores: await loadPreviousScores(table, batchId, batch.current_iteration),
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
