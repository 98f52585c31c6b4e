/**
 * Planning a wave exactly once, on DynamoDB, and sending its requests once. The comparison items
 * carry deterministic ids and the wave's deadline; the wave's ledger record (`WAVE#<iteration>`)
 * says what planned it and how far its requests were sent; the wave counts only once ONE
 * conditional META update commits it, and that update also sets META's `wave_deadline`, which is
 * all the sweeper needs to know when to look at the wave (no index entry per comparison).
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { comparisonId } from '#messages/common.ts';
import type { WaveStore } from '#shared/workflow/ports.ts';
import type { BatchMeta, StoredComparison } from '#shared/workflow/store-records.ts';
import type {
  PendingComparison,
  PlanWaveInput,
  PlanWaveResult,
  WaveRecord,
} from '#shared/workflow/wave-records.ts';
import { comparisonSk, itemKey, iterationPrefix, waveSk } from '#store/keys.ts';
import type { Table, WriteRequest } from '#store/table.ts';
import { PK, SK, TTL_ATTRIBUTE } from '#store/table-schema.ts';

/** The ledger record of a wave as planned (sending and closing add to it). */
function plannedWaveRecord(iteration: number, input: PlanWaveInput): WaveRecord {
  const kinds = { coverage: 0, retry: 0, resample: 0 };
  for (const pair of input.pairs) kinds[pair.kind] += 1;
  return {
    iteration,
    decision:
      input.decision?.type ?? (kinds.resample > 0 ? 'RESAMPLE' : 'REQUEST_MORE_COMPARISONS'),
    reason: input.decision?.reason ?? '',
    size: input.pairs.length,
    kinds,
    planned_at: input.now.toISOString(),
    deadline: input.deadline.toISOString(),
    sent_up_to: 0,
  };
}

/** The comparison items of a wave (a repeat rewrites the same items) and what to send. */
function waveItems(
  table: Table,
  batchId: string,
  iteration: number,
  input: PlanWaveInput,
): { puts: WriteRequest[]; pending: PendingComparison[] } {
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
          ...itemKey(batchId, comparisonSk(id)),
          ...item,
          [TTL_ATTRIBUTE]: table.expiry(input.deadline),
        },
      },
    };
  });
  return { puts, pending };
}

export function dynamoWaves(table: Table): WaveStore {
  /**
   * PENDING comparisons of one wave, from index `fromIndex` on (a query of the wave's items from
   * that sort key on, so a resumed wave reads only what it may still have to send).
   */
  const listPendingInIteration = async (
    batchId: string,
    iteration: number,
    fromIndex = 0,
  ): Promise<PendingComparison[]> => {
    const projection = 'comparison_id, iteration, a, b, attempt, deadline';
    const names = { '#status': 'status' };
    const values = { ':pending': 'PENDING' };
    const items =
      fromIndex === 0
        ? await table.queryBatch(batchId, {
            sortKeyPrefix: iterationPrefix(iteration),
            filter: '#status = :pending',
            projection,
            names,
            values,
          })
        : await table.queryRange(batchId, {
            from: comparisonSk(comparisonId(iteration, fromIndex)),
            to: `${iterationPrefix(iteration)}~`,
            filter: '#status = :pending',
            projection,
            names,
            values,
          });
    return items.map((item) => ({
      comparison_id: String(item.comparison_id),
      iteration: Number(item.iteration),
      a: Number(item.a),
      b: Number(item.b),
      attempt: Number(item.attempt),
      deadline: String(item.deadline),
    }));
  };

  /** How far the requests of a wave were sent (0 for a wave without a ledger record). */
  const sentUpTo = async (batchId: string, iteration: number): Promise<number> => {
    const wave = await table.getItem(batchId, waveSk(iteration));
    return Number(wave?.sent_up_to ?? 0);
  };

  /** The comparisons of a committed wave still PENDING whose requests were never sent. */
  const listUnsent = async (batchId: string, iteration: number): Promise<PendingComparison[]> =>
    listPendingInIteration(batchId, iteration, await sentUpTo(batchId, iteration));

  const alreadyPlanned = async (batchId: string, iteration: number): Promise<PlanWaveResult> => ({
    outcome: 'already_planned',
    iteration,
    pending: await listUnsent(batchId, iteration),
  });

  /** Deletes of the items a crashed earlier attempt left at indices beyond this plan's size. */
  const leftoverDeletes = async (
    batchId: string,
    iteration: number,
    size: number,
  ): Promise<WriteRequest[]> => {
    const leftovers = await table.queryBatch(batchId, {
      sortKeyPrefix: iterationPrefix(iteration),
      projection: '#pk, #sk, #index',
      names: { '#index': 'index' },
    });
    return leftovers
      .filter((item) => Number(item.index) >= size)
      .map((item) => ({ DeleteRequest: { Key: { [PK]: item[PK], [SK]: item[SK] } } }));
  };

  return {
    /**
     * Plans wave `expectedIteration + 1`. Order: (1) read META (unless the caller passes the META it
     * read in this step); if the wave was already committed return its unsent PENDING comparisons,
     * if the batch moved on return `stale`; (2) delete items a crashed earlier attempt left beyond
     * this plan; (3) write the comparison items, then the wave's ledger record; (4) ONE conditional
     * META update raises current_iteration, submitted_comparisons and total_comparisons together.
     * A crash before (4) leaves only uncommitted items that loadSnapshot ignores; a crash after it
     * is answered by (1).
     */
    async planWave(batchId, input): Promise<PlanWaveResult> {
      if (input.pairs.length === 0) throw new Error('planWave needs at least one pair');
      const iteration = input.expectedIteration + 1;
      const size = input.pairs.length;
      const meta: BatchMeta | null = input.batch ?? (await table.getMeta(batchId));
      if (!meta) return { outcome: 'stale', batch: null };
      if (meta.current_iteration === iteration) return alreadyPlanned(batchId, iteration);
      if (meta.status !== 'RUNNING' || meta.current_iteration !== input.expectedIteration) {
        return { outcome: 'stale', batch: meta };
      }
      if (meta.submitted_comparisons + size > meta.total_budget) {
        return { outcome: 'over_budget', batch: meta };
      }

      const deletes = await leftoverDeletes(batchId, iteration, size);
      const { puts, pending } = waveItems(table, batchId, iteration, input);
      await table.writeAll([...deletes, ...puts]);
      await table.call(() =>
        table.client.send(
          new PutCommand({
            TableName: table.name,
            Item: {
              ...itemKey(batchId, waveSk(iteration)),
              ...plannedWaveRecord(iteration, input),
              [TTL_ATTRIBUTE]: table.expiry(input.now),
            },
          }),
        ),
      );

      return table.updateMeta<PlanWaveResult>(
        batchId,
        {
          UpdateExpression:
            'SET current_iteration = :next, resampling_pass_count = :passes, wave_deadline = :deadline, updated_at = :now, #ttl = :ttl ADD submitted_comparisons :size, total_comparisons :size, version :one',
          ConditionExpression:
            '#status = :running AND current_iteration = :expected AND submitted_comparisons <= :max_submitted',
          ExpressionAttributeNames: { '#status': 'status', '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':next': iteration,
            ':passes': input.resamplingPassCount,
            ':deadline': input.deadline.toISOString(),
            ':now': input.now.toISOString(),
            ':ttl': table.expiry(input.now),
            ':size': size,
            ':one': 1,
            ':running': 'RUNNING',
            ':expected': input.expectedIteration,
            ':max_submitted': meta.total_budget - size,
          },
        },
        () => ({ outcome: 'planned', iteration, pending }),
        (latest) =>
          latest?.current_iteration === iteration
            ? alreadyPlanned(batchId, iteration)
            : { outcome: 'stale', batch: latest },
      );
    },

    listPendingInIteration,
    listUnsent,

    /**
     * Records that the requests of every comparison before `upTo` were sent (it only rises), so a
     * stale or repeated trigger never sends them again.
     */
    async markSent(batchId, iteration, upTo, now): Promise<void> {
      await table.conditional(
        () =>
          table.call(() =>
            table.client.send(
              new UpdateCommand({
                TableName: table.name,
                Key: itemKey(batchId, waveSk(iteration)),
                UpdateExpression: 'SET sent_up_to = :up_to, sent_at = :now',
                ConditionExpression: 'attribute_exists(#pk) AND sent_up_to < :up_to',
                ExpressionAttributeNames: { '#pk': PK },
                ExpressionAttributeValues: { ':up_to': upTo, ':now': now.toISOString() },
              }),
            ),
          ),
        () => undefined,
      );
    },
  };
}
