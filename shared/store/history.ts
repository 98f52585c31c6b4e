/**
 * The wave history's reads on DynamoDB: every comparison item of a batch, projected to what the
 * history needs (iteration, kind, status, deadline, when its callback was recorded). Eventually
 * consistent (half the read units of a strong read): a report or a dashboard may lag a second.
 */
import type { HistoryStore } from '#shared/workflow/ports.ts';
import type { ComparisonHistoryRow } from '#shared/workflow/store-records.ts';
import { batchPk, COMPARISON_PREFIX } from '#store/keys.ts';
import type { Table } from '#store/table.ts';
import { PK, SK } from '#store/table-schema.ts';

const HISTORY_PROJECTION = 'iteration, kind, #status, failure_kind, deadline, recorded_at, late';

export function dynamoHistory(table: Table): HistoryStore {
  return {
    async listComparisonHistory(batchId): Promise<ComparisonHistoryRow[]> {
      const items = await table.queryAll({
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ProjectionExpression: HISTORY_PROJECTION,
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#status': 'status' },
        ExpressionAttributeValues: { ':pk': batchPk(batchId), ':prefix': COMPARISON_PREFIX },
        ConsistentRead: false,
      });
      return items as unknown as ComparisonHistoryRow[];
    },
  };
}
