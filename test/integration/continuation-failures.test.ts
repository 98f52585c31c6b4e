import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { itemKey, SETTINGS_SK } from '#store/keys.ts';
import { followBatch } from '#test/helpers/batch-runner.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { batchEventsWithin } from '#test/helpers/event-capture.ts';
import {
  eventCaptureQueue,
  functionLogLines,
  isolatedTargetForSuite,
  output,
  sqsClient,
} from '#test/helpers/integration-target.ts';

const TEST_VISIBILITY_S = 2;
/** How long outcome events are collected after the batch is final (a second one would come by then). */
const EVENT_WINDOW_MS = 15_000;

describe('a continuation that keeps failing', () => {
  // The continuation queue's visibility is cut for the test: on a cloud of its own, so the files
  // running beside it keep theirs.
  const isolated = isolatedTargetForSuite();

  it('ends its batch FAILED internal_error with one event', async () => {
    // Prepare: a paged batch whose settings item is gone before it starts
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
    const captureUrl = eventCaptureQueue(target);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['VisibilityTimeout'] }),
    );
    const originalVisibility = Attributes?.VisibilityTimeout ?? '30';
    const essays = makeEssays(4, { seed: 17 });
    const created = await target.api.createBatch({
      essay_count: essays.length,
      judge: { provider: 'mock', profile: 'default', latency_ms: 10, seed: 17 },
    });
    const batchId = created.batch_id;
    await target.api.addEssays(batchId, essays, 0);
    await ddb.send(
      new DeleteCommand({
        TableName: output(target, 'TableName'),
        Key: itemKey(batchId, SETTINGS_SK),
      }),
    );

    try {
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: queueUrl,
          Attributes: { VisibilityTimeout: String(TEST_VISIBILITY_S) },
        }),
      );

      // Act
      await target.api.startBatch(batchId);
      const run = await followBatch(target.api, batchId, { pollMs: 500, timeoutMs: 120_000 });
      const events = await batchEventsWithin<{ status?: string; failure_reason?: string | null }>(
        sqs,
        captureUrl,
        batchId,
        EVENT_WINDOW_MS,
      );

      // Assess
      expect(run.final).toMatchObject({
        status: 'FAILED',
        failure_reason: 'internal_error',
        submitted_comparisons: 0,
      });
      expect(run.final.processing_metadata).toMatchObject({
        failure_reason: 'internal_error',
        continuation_failures: DEFAULT_CONFIG.MAX_CONTINUATION_FAILURES,
        last_error: 'Error',
      });
      expect(events).toEqual([
        expect.objectContaining({ status: 'FAILED', failure_reason: 'internal_error' }),
      ]);
      const failures = functionLogLines(target, 'continuation', 'continuation_failed').filter(
        (line) => line.batch_id === batchId,
      );
      expect(failures).toHaveLength(DEFAULT_CONFIG.MAX_CONTINUATION_FAILURES);
    } finally {
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: queueUrl,
          Attributes: { VisibilityTimeout: originalVisibility },
        }),
      );
      ddb.destroy();
    }
  });
});
