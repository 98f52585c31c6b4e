/**
 * Recording a callback exactly once, on DynamoDB: ONE TransactWriteItems moves the comparison
 * PENDING → COMPLETED/FAILED and raises the matching META counter; the cancellation reasons tell a
 * duplicate, a late callback and an unknown comparison apart.
 */
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { comparisonUsageOf } from '#domain/judge-usage.ts';
import { parseComparisonId } from '#messages/common.ts';
import type { Callback } from '#messages/queue.ts';
import type { CallbackStore } from '#shared/workflow/ports.ts';
import type { BatchMeta, RecordOutcome } from '#shared/workflow/store-records.ts';
import { comparisonSk, itemKey, metaKey } from '#store/keys.ts';
import { cancellationReasons } from '#store/retry.ts';
import { type Item, plainAttribute, type Table } from '#store/table.ts';
import { PENDING_PK, PENDING_SK } from '#store/table-schema.ts';

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

export function dynamoCallbacks(table: Table): CallbackStore {
  return {
    /**
     * The comparison PENDING → COMPLETED/FAILED (condition `#status = :pending`) plus the matching
     * META counter +1 (condition: batch RUNNING and the comparison's wave committed), in one
     * transaction. A duplicate (comparison already terminal), a late callback (batch no longer
     * RUNNING: the comparison alone is marked late) and an unknown comparison change no counter.
     * One request in the common case: the caller reads META once afterwards for all the callbacks
     * of a batch it records together, and re-checks the gate on it.
     */
    async recordCallback(callback, now): Promise<RecordOutcome> {
      const parsed = parseComparisonId(callback.comparison_id);
      if (!parsed) return 'unknown_comparison';
      const counter =
        callback.outcome === 'verdict' ? 'completed_comparisons' : 'failed_comparisons';
      const comparisonUpdate = terminalComparisonUpdate(table, callback, now, false);
      let outcome: RecordOutcome = 'recorded';
      try {
        await table.call(() =>
          table.client.send(
            new TransactWriteCommand({
              TransactItems: [
                { Update: { ...comparisonUpdate, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
                {
                  Update: {
                    TableName: table.name,
                    Key: metaKey(callback.batch_id),
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
          const active = status === 'RUNNING' || status === 'PENDING_ESSAYS';
          outcome =
            !metaReason.Item || active
              ? 'unknown_comparison'
              : await markLate(table, callback, now);
        } else {
          throw error;
        }
      }
      return outcome;
    },

    getBatch(batchId, consistent = true): Promise<BatchMeta | null> {
      return table.getMeta(batchId, consistent);
    },
  };
}
