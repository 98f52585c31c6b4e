/**
 * Recording callbacks exactly once, on DynamoDB: ONE TransactWriteItems moves every comparison of
 * a group (the callbacks of one batch in one invocation) PENDING → COMPLETED/FAILED and raises the
 * matching META counters by the group's counts; the cancellation reasons tell a duplicate, a late
 * callback and an unknown comparison apart, and the rest of the group is tried again without them
 * (docs/data-model.md, "recordCallback outcomes").
 */
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { comparisonUsageOf } from '#domain/judge-usage.ts';
import { parseComparisonId } from '#messages/common.ts';
import type { Callback } from '#messages/queue.ts';
import type { CallbackStore } from '#shared/workflow/ports.ts';
import type { BatchMeta, RecordOutcome } from '#shared/workflow/store-records.ts';
import { comparisonSk, itemKey, metaKey } from '#store/keys.ts';
import { type CancellationReason, cancellationReasons } from '#store/retry.ts';
import { type Item, plainAttribute, type Table } from '#store/table.ts';

/** The comparison's PENDING → terminal update (shared by the transaction and the late path). */
function terminalComparisonUpdate(table: Table, callback: Callback, now: Date, late: boolean) {
  const values: Item = { ':pending': 'PENDING', ':now': now.toISOString() };
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
    TableName: table.name,
    Key: itemKey(callback.batch_id, comparisonSk(callback.comparison_id)),
    UpdateExpression: `SET ${sets.join(', ')}`,
    ConditionExpression: '#status = :pending',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: values,
  };
}

/** Batch no longer RUNNING: record the callback on the comparison as late, no counter. */
function markLate(table: Table, callback: Callback, now: Date): Promise<'late' | 'duplicate'> {
  return table.conditional<'late' | 'duplicate'>(
    async () => {
      const update = terminalComparisonUpdate(table, callback, now, true);
      await table.call(() => table.client.send(new UpdateCommand(update)));
      return 'late';
    },
    () => 'duplicate',
  );
}

/** DynamoDB allows 100 items per transaction: the comparisons of a chunk plus META. */
export const COMPARISONS_PER_TRANSACTION = 99;

interface Pending {
  /** Position in the caller's list. */
  at: number;
  callback: Callback;
  iteration: number;
}

/** The META update of a group: counters by its counts, guarded by RUNNING and its newest wave. */
function metaUpdate(table: Table, batchId: string, group: readonly Pending[], now: Date) {
  const completed = group.filter((entry) => entry.callback.outcome === 'verdict').length;
  const failed = group.length - completed;
  const adds = ['version :one'];
  const values: Item = {
    ':now': now.toISOString(),
    ':one': 1,
    ':running': 'RUNNING',
    ':iteration': Math.max(...group.map((entry) => entry.iteration)),
  };
  if (completed > 0) {
    adds.push('completed_comparisons :completed');
    values[':completed'] = completed;
  }
  if (failed > 0) {
    adds.push('failed_comparisons :failed');
    values[':failed'] = failed;
  }
  return {
    TableName: table.name,
    Key: metaKey(batchId),
    UpdateExpression: `SET updated_at = :now ADD ${adds.join(', ')}`,
    ConditionExpression: '#status = :running AND current_iteration >= :iteration',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: values,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

/** A transaction cancelled by DynamoDB: its reasons (in TransactItems order) and the error. */
interface Cancelled {
  reasons: CancellationReason[];
  error: unknown;
}

/** The group in one transaction: null when it committed, else why it was cancelled. */
async function transact(
  table: Table,
  batchId: string,
  group: readonly Pending[],
  now: Date,
): Promise<Cancelled | null> {
  try {
    await table.call(() =>
      table.client.send(
        new TransactWriteCommand({
          TransactItems: [
            ...group.map((entry) => ({
              Update: {
                ...terminalComparisonUpdate(table, entry.callback, now, false),
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
              },
            })),
            { Update: metaUpdate(table, batchId, group, now) },
          ],
        }),
      ),
    );
    return null;
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons.length === 0) throw error;
    return { reasons, error };
  }
}

/**
 * Records one chunk (≤ COMPARISONS_PER_TRANSACTION distinct comparisons of one batch). Each failed
 * transaction settles at least one callback or learns META's state, so the loop ends: comparisons
 * whose condition failed are duplicates or unknown; a META that failed its condition is final
 * (everything left is late), not RUNNING or missing (unknown), or RUNNING behind some callbacks'
 * wave (those are unknown, the rest go again).
 */
async function recordChunk(
  table: Table,
  batchId: string,
  chunk: readonly Pending[],
  now: Date,
  outcomes: RecordOutcome[],
): Promise<void> {
  let group = chunk;
  while (group.length > 0) {
    const cancelled = await transact(table, batchId, group, now);
    if (cancelled === null) {
      for (const entry of group) outcomes[entry.at] = 'recorded';
      return;
    }
    const { reasons } = cancelled;
    const answered = (index: number) => reasons[index]?.Code === 'ConditionalCheckFailed';
    if (group.some((_, index) => answered(index))) {
      group.forEach((entry, index) => {
        if (answered(index)) {
          outcomes[entry.at] = reasons[index]?.Item ? 'duplicate' : 'unknown_comparison';
        }
      });
      group = group.filter((_, index) => !answered(index));
      continue;
    }
    const metaReason = reasons[group.length];
    if (metaReason?.Code !== 'ConditionalCheckFailed') throw cancelled.error;
    const status = plainAttribute(metaReason.Item, 'status');
    if (!metaReason.Item || status === 'PENDING_ESSAYS') {
      for (const entry of group) outcomes[entry.at] = 'unknown_comparison';
      return;
    }
    if (status !== 'RUNNING') {
      for (const entry of group) outcomes[entry.at] = await markLate(table, entry.callback, now);
      return;
    }
    // RUNNING: the callbacks of a wave it has not committed are unknown; the rest go again.
    const committed = Number(plainAttribute(metaReason.Item, 'current_iteration') ?? -1);
    const ahead = group.filter((entry) => entry.iteration > committed);
    // META as read passes the condition: it changed under us; the caller's retry decides.
    if (ahead.length === 0) throw cancelled.error;
    for (const entry of ahead) outcomes[entry.at] = 'unknown_comparison';
    group = group.filter((entry) => entry.iteration <= committed);
  }
}

export function dynamoCallbacks(table: Table): CallbackStore {
  const recordCallbacks = async (
    callbacks: readonly Callback[],
    now: Date,
  ): Promise<RecordOutcome[]> => {
    const outcomes: RecordOutcome[] = callbacks.map(() => 'unknown_comparison');
    const byBatch = new Map<string, Pending[]>();
    // A second copy of a comparison in the same call cannot share its transaction (one
    // operation per item): it is settled from the first copy's outcome.
    const copies: Array<{ at: number; first: number }> = [];
    const firstOf = new Map<string, number>();
    callbacks.forEach((callback, at) => {
      const parsed = parseComparisonId(callback.comparison_id);
      if (!parsed) return;
      const key = `${callback.batch_id}\u0000${callback.comparison_id}`;
      const first = firstOf.get(key);
      if (first !== undefined) {
        copies.push({ at, first });
        return;
      }
      firstOf.set(key, at);
      const group = byBatch.get(callback.batch_id) ?? [];
      group.push({ at, callback, iteration: parsed.iteration });
      byBatch.set(callback.batch_id, group);
    });
    for (const [batchId, group] of byBatch) {
      for (let start = 0; start < group.length; start += COMPARISONS_PER_TRANSACTION) {
        const chunk = group.slice(start, start + COMPARISONS_PER_TRANSACTION);
        await recordChunk(table, batchId, chunk, now, outcomes);
      }
    }
    for (const { at, first } of copies) {
      outcomes[at] = outcomes[first] === 'unknown_comparison' ? 'unknown_comparison' : 'duplicate';
    }
    return outcomes;
  };

  return {
    /**
     * Callbacks (of any batches; grouped per batch here) recorded in one transaction per batch:
     * every comparison PENDING → COMPLETED/FAILED (condition `#status = :pending`) plus META's
     * counters raised by the group's counts (condition: batch RUNNING and the group's newest wave
     * committed). A duplicate (comparison already terminal), a late callback (batch no longer
     * RUNNING: the comparison alone is marked late) and an unknown comparison change no counter.
     * Outcomes come back in the callbacks' order. The caller reads META once afterwards per
     * batch and re-checks the gate on it.
     */
    recordCallbacks,

    async recordCallback(callback, now): Promise<RecordOutcome> {
      const [outcome] = await recordCallbacks([callback], now);
      return outcome ?? 'unknown_comparison';
    },

    getBatch(batchId, consistent = true): Promise<BatchMeta | null> {
      return table.getMeta(batchId, consistent);
    },
  };
}
