/**
 * One batch cannot delay another (issue 17, "FIFO isolation"; shared/runtime/middleware.ts): the
 * continuation queue is FIFO with one message group per batch, and a failed record skips the rest
 * of ITS group only (`skipGroupOnError`). Batch X's continuation is poisoned (its SETTINGS item,
 * which every step reads, is deleted before it starts, as in continuation-failures.test.ts), so
 * every delivery of its trigger throws until X ends FAILED internal_error. Batch Y, started with
 * X, must finish no later than the same batch alone plus less than one visibility timeout: were
 * Y's records failed with X's, each would come back only after the visibility timeout.
 *
 * The queue's DelaySeconds is raised for the test so that X's and Y's first triggers become
 * visible close together, which makes it likely, not certain, that they reach the function in one
 * batch (the case the isolation is for; the local cloud runs two pollers per queue, so they may
 * still be taken apart); its visibility timeout is cut so that X's redeliveries, and a
 * regression, show within a minute. The skipping itself is unit-tested on the middleware.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '#cli/api.ts';
import { itemKey, SETTINGS_SK } from '#store/keys.ts';
import { followBatch } from '#test/helpers/batch-runner.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import {
  functionLogLines,
  isolatedTargetForSuite,
  output,
  sqsClient,
} from '#test/helpers/integration-target.ts';

/** The continuation queue's visibility timeout during the test: the delay a shared failure costs. */
const TEST_VISIBILITY_S = 10;
/** Queue-level delay of every trigger during the test, so X's and Y's first ones arrive together. */
const TEST_DELAY_S = 2;

/** A paged batch of 4 essays with the mock judge, created but not started. */
async function pagedBatch(api: ApiClient, seed: number): Promise<string> {
  const essays = makeEssays(4, { seed });
  const created = await api.createBatch({
    essay_count: essays.length,
    judge: { provider: 'mock', profile: 'default', latency_ms: 10, seed },
  });
  await api.addEssays(created.batch_id, essays, 0);
  return created.batch_id;
}

describe('FIFO isolation of the continuation', () => {
  // The queue's settings change for the test: on a cloud of its own, so the files running beside
  // it keep theirs (and their batches do not share its continuation queue).
  const isolated = isolatedTargetForSuite();

  it('finishes batch Y on time while batch X, started with it, fails every continuation step', async () => {
    // Prepare: the queue settings of the test, a baseline run of Y alone, then X poisoned
    const target = isolated();
    const sqs = sqsClient(target);
    const ddb = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: target.endpoint,
        region: target.region,
        credentials: target.credentials,
      }),
    );
    const queueUrl = output(target, 'ContinuationQueueUrl');
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['VisibilityTimeout', 'DelaySeconds'],
      }),
    );
    const original = {
      VisibilityTimeout: Attributes?.VisibilityTimeout ?? '30',
      DelaySeconds: Attributes?.DelaySeconds ?? '0',
    };
    try {
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: queueUrl,
          Attributes: {
            VisibilityTimeout: String(TEST_VISIBILITY_S),
            DelaySeconds: String(TEST_DELAY_S),
          },
        }),
      );
      const alone = await pagedBatch(target.api, 31);
      const aloneStarted = Date.now();
      await target.api.startBatch(alone);
      const aloneRun = await followBatch(target.api, alone, { pollMs: 200, timeoutMs: 120_000 });
      const aloneMs = Date.now() - aloneStarted;

      const poisoned = await pagedBatch(target.api, 32);
      const healthy = await pagedBatch(target.api, 31);
      await ddb.send(
        new DeleteCommand({
          TableName: output(target, 'TableName'),
          Key: itemKey(poisoned, SETTINGS_SK),
        }),
      );

      // Act: both start at once; Y is followed to its end, then X
      const started = Date.now();
      await Promise.all([target.api.startBatch(poisoned), target.api.startBatch(healthy)]);
      const healthyRun = await followBatch(target.api, healthy, {
        pollMs: 200,
        timeoutMs: 120_000,
      });
      const healthyMs = Date.now() - started;
      const poisonedRun = await followBatch(target.api, poisoned, {
        pollMs: 500,
        timeoutMs: 180_000,
      });

      // Assess: X really failed every step; Y ended as it did alone, with less than one
      // visibility timeout of extra delay, and none of its records failed
      expect(poisonedRun.final).toMatchObject({
        status: 'FAILED',
        failure_reason: 'internal_error',
      });
      expect(healthyRun.final.status).toBe(aloneRun.final.status);
      expect(healthyRun.final.completed_comparisons).toBe(aloneRun.final.completed_comparisons);
      expect(healthyMs - aloneMs).toBeLessThan(TEST_VISIBILITY_S * 1000);
      const failedGroups = new Set(
        functionLogLines(target, 'continuation', 'record_failed').map(
          (line) => line.message_group_id,
        ),
      );
      expect(failedGroups.has(poisoned)).toBe(true);
      expect(failedGroups.has(healthy)).toBe(false);
    } finally {
      await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: original }));
      ddb.destroy();
      sqs.destroy();
    }
  }, 360_000);
});
