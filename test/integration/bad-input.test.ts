/** Bad input never corrupts other data: 400s that name the field, and poison messages to the DLQ. */

import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { ApiError, type CreateBatchRequest } from '#cli/api.ts';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { isSuccess } from '#domain/types.ts';
import { localSetting } from '#localstack/local-cloud/settings.ts';
import { followBatch } from '#test/helpers/batch-runner.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import {
  deadLetterQueueUrl,
  type IntegrationTarget,
  integrationTarget,
  isolatedTargetForSuite,
  output,
  sqsClient,
} from '#test/helpers/integration-target.ts';

const MOCK = { provider: 'mock', profile: 'default', latency_ms: 10 } as const;
const TEST_VISIBILITY_S = 10;
/**
 * Longest SQS long poll, and a second: Lambda's event source mapping (LocalStack's too) waits 20 s,
 * the local cloud's pollers `pollWaitSeconds`.
 */
const longPollS = (target: IntegrationTarget) =>
  (target.kind === 'local' ? localSetting('pollWaitSeconds') : 20) + 1;
/** Five failed receives at TEST_VISIBILITY_S each, the receive that moves it, and a margin. */
const DLQ_WAIT_S = 6 * TEST_VISIBILITY_S + 60;

describe('bad POST /batches bodies', () => {
  const two = makeEssays(2);
  const cases: Array<[string, string, CreateBatchRequest]> = [
    ['a single essay', 'essays', { essays: makeEssays(1), judge: MOCK }],
    [
      'duplicate essay ids',
      'essays[1].id',
      { essays: [two[0]!, { ...two[1]!, id: two[0]!.id }], judge: MOCK },
    ],
    [
      'empty essay text',
      'essays[0].text',
      { essays: [{ ...two[0]!, text: '   ' }, two[1]!], judge: MOCK },
    ],
    [
      'an oversized essay',
      'essays[1].text',
      {
        essays: [two[0]!, { ...two[1]!, text: 'x'.repeat(DEFAULT_CONFIG.MAX_ESSAY_CHARS + 1) }],
        judge: MOCK,
      },
    ],
    [
      'an unknown config name',
      'config.NOT_A_SETTING',
      { essays: two, judge: MOCK, config: { NOT_A_SETTING: 1 } },
    ],
    ['budget 0', 'budget', { essays: two, judge: MOCK, budget: 0 }],
    [
      'a per-batch setting beyond its range',
      'config.SPLIT_HALF_SPLITS',
      { essays: two, judge: MOCK, config: { SPLIT_HALF_SPLITS: 1_000_000_000 } },
    ],
    [
      'a deadline beyond any valid date',
      'config.COMPARISON_DEADLINE_SECONDS',
      { essays: two, judge: MOCK, config: { COMPARISON_DEADLINE_SECONDS: 10_000_000_000_000 } },
    ],
    [
      'a judge setting of the deployment',
      'config.JUDGE_CALL_TIMEOUT_MS',
      { essays: two, judge: MOCK, config: { JUDGE_CALL_TIMEOUT_MS: 1000 } },
    ],
  ];

  it.each(cases)('%s gets a 400 naming %s', async (_name, field, body) => {
    // Prepare
    const { api } = await integrationTarget();

    // Act
    const error = await api.createBatch(body).then(
      () => undefined,
      (caught: unknown) => caught,
    );

    // Assess
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(400);
    expect(apiError.body).toMatchObject({
      error: expect.any(String),
      field,
      message: expect.any(String),
    });
  });
});

describe('a malformed queue message', () => {
  // The callback queue's visibility is cut for the test: on a cloud of its own, so the files
  // running beside it keep theirs.
  const isolated = isolatedTargetForSuite();

  it('lands in the callback DLQ while a running batch completes unaffected', async () => {
    // Prepare: redelivery normally waits the queue's visibility timeout (6 × the function timeout)
    // five times (~15 min); a short visibility for the duration of the test brings that under a
    // minute, yet stays well above the time a real callback is in flight (1 s would dead-letter
    // real callbacks on a loaded machine).
    const target = isolated();
    const sqs = sqsClient(target);
    const callbackQueue = output(target, 'CallbackQueueUrl');
    const dlq = await deadLetterQueueUrl(sqs, callbackQueue);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: callbackQueue,
        AttributeNames: ['VisibilityTimeout'],
      }),
    );
    const originalVisibility = Attributes?.VisibilityTimeout ?? '30';
    const marker = `malformed-${Date.now()}`;

    try {
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: callbackQueue,
          Attributes: { VisibilityTimeout: String(TEST_VISIBILITY_S) },
        }),
      );
      // A long poll already waiting keeps the visibility it started with.
      await sleep(longPollS(target) * 1000);
      const created = await target.api.createBatch({
        essays: makeEssays(8, { seed: 8 }),
        judge: { ...MOCK, latency_ms: 200, seed: 8 },
        config: { RESAMPLING_ENABLED: false },
      });

      // Act
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: callbackQueue,
          MessageBody: JSON.stringify({
            marker,
            batch_id: created.batch_id,
            verdict: 'not a callback',
          }),
        }),
      );
      const run = await followBatch(target.api, created.batch_id);
      let dead: string | undefined;
      const giveUpAt = Date.now() + DLQ_WAIT_S * 1000;
      while (dead === undefined && Date.now() < giveUpAt) {
        const { Messages } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        for (const message of Messages ?? []) {
          if (message.Body?.includes(marker)) {
            dead = message.Body;
            await sqs.send(
              new DeleteMessageCommand({ QueueUrl: dlq, ReceiptHandle: message.ReceiptHandle }),
            );
          }
        }
        if (dead === undefined) await sleep(500);
      }

      // Assess
      expect(dead, 'the malformed message in the callback DLQ').toBeDefined();
      expect(isSuccess(run.final.status)).toBe(true);
      expect(run.final.completed_comparisons).toBe(run.final.submitted_comparisons);
      expect(run.final.failed_comparisons).toBe(0);
    } finally {
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: callbackQueue,
          Attributes: { VisibilityTimeout: originalVisibility },
        }),
      );
    }
  });
});
