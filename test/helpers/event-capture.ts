/** The outcome events of one batch, read off the local cloud's EventBridge capture queue. */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/**
 * Every event of `batchId` that reaches the capture queue within `windowMs` (each deleted once
 * read; other batches' events are left for their own tests), as the events' `detail` objects.
 * Another batch's event stays hidden from other readers only until the window ends: it is made
 * visible again then, not after the queue's visibility timeout.
 */
export async function batchEventsWithin<T extends Record<string, unknown>>(
  sqs: SQSClient,
  captureUrl: string,
  batchId: string,
  windowMs: number,
): Promise<T[]> {
  const events: T[] = [];
  const others: string[] = [];
  const until = Date.now() + windowMs;
  try {
    while (Date.now() < until) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: captureUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      for (const message of Messages) {
        const detail = (JSON.parse(message.Body ?? '{}') as { detail?: Record<string, unknown> })
          .detail;
        if (detail?.batch_id !== batchId) {
          if (message.ReceiptHandle) others.push(message.ReceiptHandle);
          continue;
        }
        events.push(detail as T);
        await sqs.send(
          new DeleteMessageCommand({
            QueueUrl: captureUrl,
            ReceiptHandle: message.ReceiptHandle ?? '',
          }),
        );
      }
      if (Messages.length === 0) await sleep(250);
    }
  } finally {
    for (const receiptHandle of others) {
      await sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: captureUrl,
            ReceiptHandle: receiptHandle,
            VisibilityTimeout: 0,
          }),
        )
        .catch(() => undefined); // a handle whose visibility ran out is simply visible again
    }
  }
  return events;
}
