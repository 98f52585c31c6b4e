/**
 * Sweeper fairness on the local cloud (issue 17; docs/data-model.md, "Sweeper fairness"): 1,000
 * overdue pending-index entries no callback can record (their batches are gone) do not keep the
 * sweeper from timing out a live batch's lost callbacks. Entries like these are what a batch
 * deleted mid-wave, or a planWave that crashed before its commit, leaves behind. Each run takes an
 * equal quota per shard, and an unrecordable entry costs one conditional update (its batch's META
 * is read with a hundred others), so a run of 500 stays far inside the sweeper's 55 s timeout even
 * on serialized moto: before, each cost a cancelled transaction, a META read and the update, and
 * a run overran it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { comparisonId } from '#messages/common.ts';
import { batchPk, comparisonSk, pendingShard, pendingSortKey } from '#store/keys.ts';
import { PENDING_PK, PENDING_SK, PK, SK } from '#store/table-schema.ts';
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

describe('sweeper fairness', () => {
  // The crowded index is the deployment's, and the sweeper log is read whole: on a cloud of its
  // own, so the files running beside it neither wait behind the crowd nor add sweeper runs.
  const isolated = isolatedTargetForSuite();

  it('times out a live batch whose callbacks are lost while 1,000 unrecordable entries crowd the index', async () => {
    // Prepare: 1,000 hour-overdue PENDING entries of 100 batches that do not exist
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
        status: 'PENDING',
        iteration: 1,
        [PENDING_PK]: pendingShard(batchId, id, DEFAULT_CONFIG.PENDING_INDEX_SHARDS),
        [PENDING_SK]: pendingSortKey(deadline, batchId, id),
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
      // answers must), every stale entry left the index, and no sweeper run overran its timeout
      expect(run.final).toMatchObject({
        status: 'FAILED',
        failure_reason: 'no_successful_comparisons',
        completed_comparisons: 0,
      });
      expect(run.final.failed_comparisons).toBe(run.final.submitted_comparisons);
      expect(run.final.failed_comparisons).toBeGreaterThan(0);
      // The live entries sort after the stale ones of their shards; the other shards' stale
      // entries leave within the next runs.
      let left = await stillIndexed(ddb, tableName, stale);
      for (const until = Date.now() + 60_000; left.length > 0 && Date.now() < until; ) {
        await sleep(2_000);
        left = await stillIndexed(ddb, tableName, stale);
      }
      expect(left).toEqual([]);
      expect(timeoutsIn(sweeperLog(target.logDir))).toBe(timeoutsBefore);
    } finally {
      ddb.destroy();
    }
  }, 300_000);
});

/** Those of `items` that still have their pending-index entry (consistent reads). */
async function stillIndexed(
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
    left.push(...(Responses?.[tableName] ?? []).filter((item) => PENDING_SK in item));
  }
  return left;
}
