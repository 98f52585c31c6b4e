/**
 * Planning a wave exactly once, on DynamoDB. The comparison items carry deterministic ids and the
 * attributes of the sparse pending-by-deadline index (removed when the comparison ends), and the
 * wave counts only once ONE conditional META update commits it.
 */
import { comparisonId } from '#messages/common.ts';
import type { WaveStore } from '#shared/workflow/ports.ts';
import type {
  BatchMeta,
  PendingComparison,
  PlanWaveInput,
  PlanWaveResult,
  StoredComparison,
} from '#shared/workflow/store-records.ts';
import {
  comparisonSk,
  itemKey,
  iterationPrefix,
  pendingShard,
  pendingSortKey,
} from '#store/keys.ts';
import type { Table, WriteRequest } from '#store/table.ts';
import { PENDING_PK, PENDING_SK, PK, SK, TTL_ATTRIBUTE } from '#store/table-schema.ts';

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
          [PENDING_PK]: pendingShard(batchId, id, table.pendingShards),
          [PENDING_SK]: pendingSortKey(input.deadline.getTime(), batchId, id),
          [TTL_ATTRIBUTE]: table.expiry(input.deadline),
        },
      },
    };
  });
  return { puts, pending };
}

export function dynamoWaves(table: Table): WaveStore {
  /** Comparisons of one wave still PENDING (to re-send after a crash mid-send). */
  const listPendingInIteration = async (
    batchId: string,
    iteration: number,
  ): Promise<PendingComparison[]> => {
    const items = await table.queryBatch(batchId, {
      sortKeyPrefix: iterationPrefix(iteration),
      filter: '#status = :pending',
      projection: 'comparison_id, iteration, a, b, attempt, deadline',
      names: { '#status': 'status' },
      values: { ':pending': 'PENDING' },
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

  const alreadyPlanned = async (batchId: string, iteration: number): Promise<PlanWaveResult> => ({
    outcome: 'already_planned',
    iteration,
    pending: await listPendingInIteration(batchId, iteration),
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
     * Plans wave `expectedIteration + 1`. Order: (1) read META; if the wave was already committed
     * return its PENDING comparisons, if the batch moved on return `stale`; (2) delete items a
     * crashed earlier attempt left beyond this plan; (3) write the comparison items; (4) ONE
     * conditional META update raises current_iteration, submitted_comparisons and
     * total_comparisons together. A crash before (4) leaves only uncommitted items that
     * loadSnapshot ignores; a crash after it is answered by (1).
     */
    async planWave(batchId, input): Promise<PlanWaveResult> {
      if (input.pairs.length === 0) throw new Error('planWave needs at least one pair');
      const iteration = input.expectedIteration + 1;
      const size = input.pairs.length;
      const meta: BatchMeta | null = await table.getMeta(batchId);
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

      return table.updateMeta<PlanWaveResult>(
        batchId,
        {
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
        },
        () => ({ outcome: 'planned', iteration, pending }),
        (latest) =>
          latest?.current_iteration === iteration
            ? alreadyPlanned(batchId, iteration)
            : { outcome: 'stale', batch: latest },
      );
    },

    listPendingInIteration,
  };
}
