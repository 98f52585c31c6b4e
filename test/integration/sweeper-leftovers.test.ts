/**
 * The sweeper on the local cloud (docs/data-model.md, "The sweeper"): 1,000 overdue PENDING
 * comparisons no callback can record (their batches are gone, as a batch deleted mid-wave or a
 * planWave that crashed before its commit leaves them) cost the sweeper nothing — it walks the
 * running batches and reads only the current wave of an overdue one — while it times out a live
 * batch's lost callbacks. Before, such items sat in a per-comparison pending index, each run spent
 * its quota taking them out, and a run on serialized moto could overrun its timeout.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { comparisonId } from '#messages/common.ts';
import { batchPk, comparisonSk } from '#store/keys.ts';
import { PK, SK } from '#store/table-schema.ts';
import { runBatch } from '#test/helpers/batch-runner.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { isolatedTargetForSuite, output } from '#test/helpers/integration-target.ts';

const STALE_BATCHES = 100;
const STALE_PER_BATCH = 10;
const TEST_DEADLINE_SECONDS = 5;

/** The sweeper's log, or nothing before its first run. */
function sweeperLog(logDir: string | undefined): string {
  try {
    return readFileSync(join(logDir ?? '', 'sweeper.log'), 'utf8');
  } catch {
    return '';
  }
}

const timeoutsIn = (log: string) => log.split('Task timed out').length - 1;

describe('sweeper and leftover comparisons', () => {
  // The leftovers are in the deployment's table, and the sweeper log is read whole: on a cloud of
  // its own, so the files running beside it add no sweeper runs.
  const isolated = isolatedTargetForSuite();

  it('times out a live batch whose callbacks are lost and leaves 1,000 unrecordable leftovers untouched', async () => {
    // Prepare: 1,000 hour-overdue PENDING comparisons of 100 batches that do not exist
    const target = isolated();
    const tableName = output(target, 'TableName');
    const ddb = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: target.endpoint,
        region: target.region,
        credentials: target.credentials,
      }),
    );
    const runId = `gone-${Date.now().toString(36)}`;
    const deadline = Date.now() - 3_600_000;
    const stale = Array.from({ length: STALE_BATCHES * STALE_PER_BATCH }, (_, n) => {
      const batchId = `${runId}-${Math.floor(n / STALE_PER_BATCH)}`;
      const id = comparisonId(1, n % STALE_PER_BATCH);
      return {
        [PK]: batchPk(batchId),
        [SK]: comparisonSk(id),
        batch_id: batchId,
        comparison_id: id,
        status: 'PENDING',
        iteration: 1,
        deadline: new Date(deadline).toISOString(),
      };
    });
    for (let start = 0; start < stale.length; start += 25) {
      await ddb.send(
        new BatchWriteCommand({
          RequestItems: {
            [tableName]: stale.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } })),
          },
        }),
      );
    }
    const timeoutsBefore = timeoutsIn(sweeperLog(target.logDir));

    try {
      // Act: a live batch whose every callback is lost; only the sweeper can end it
      const run = await runBatch(
        target.api,
        {
          essays: makeEssays(4, { seed: 4242 }),
          judge: { provider: 'mock', profile: 'default', latency_ms: 10, seed: 4242, drop_rate: 1 },
          config: { COMPARISON_DEADLINE_SECONDS: TEST_DEADLINE_SECONDS },
        },
        { pollMs: 500, timeoutMs: 240_000 },
      );

      // Assess: the live batch's comparisons were timed out (it ends failed, as a judge that never
      // answers must), no leftover was written to, and no sweeper run overran its timeout
      expect(run.final).toMatchObject({
        status: 'FAILED',
        failure_reason: 'no_successful_comparisons',
        completed_comparisons: 0,
      });
      expect(run.final.failed_comparisons).toBe(run.final.submitted_comparisons);
      expect(run.final.failed_comparisons).toBeGreaterThan(0);
      expect(await stillPending(ddb, tableName, stale)).toHaveLength(stale.length);
      expect(timeoutsIn(sweeperLog(target.logDir))).toBe(timeoutsBefore);
    } finally {
      ddb.destroy();
    }
  }, 300_000);
});

/** Those of `items` still PENDING, as written (consistent reads). */
async function stillPending(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  items: ReadonlyArray<Record<string, unknown>>,
): Promise<Array<Record<string, unknown>>> {
  const left: Array<Record<string, unknown>> = [];
  for (let start = 0; start < items.length; start += 100) {
    const { Responses } = await ddb.send(
      new BatchGetCommand({
        RequestItems: {
          [tableName]: {
            Keys: items.slice(start, start + 100).map((item) => ({
              [PK]: item[PK],
              [SK]: item[SK],
            })),
            ConsistentRead: true,
          },
        },
      }),
    );
    left.push(...(Responses?.[tableName] ?? []).filter((item) => item.status === 'PENDING'));
  }
  return left;
}
