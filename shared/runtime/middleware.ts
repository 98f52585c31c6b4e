/**
 * Middy compositions for the three kinds of function: HTTP API, SQS (partial batch responses,
 * standard or FIFO) and scheduled. Every one injects the Lambda context into the logger and
 * flushes metrics; handlers stay a few lines of parse → call → map.
 */
import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  Context,
  ScheduledEvent,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { errorResponse, type HttpResult } from './http.ts';
import { logger, metrics } from './observability.ts';

export type HttpFunction = (event: APIGatewayProxyEventV2, context: Context) => Promise<HttpResult>;

export function httpHandler(fn: HttpFunction) {
  return middy(async (event: APIGatewayProxyEventV2, context: Context): Promise<HttpResult> => {
    try {
      return await fn(event, context);
    } catch (error) {
      const response = errorResponse(error);
      if (response.statusCode === 500) {
        logger.error('http_internal_error', { error: error as Error, route: event.routeKey });
      }
      return response;
    }
  })
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}

export type RecordHandler = (record: SQSRecord) => Promise<void>;

/**
 * SQS handler with partial batch responses. A failed record is logged (`record_failed`: message id,
 * group, error class and message; never the body) and reported in `batchItemFailures`
 * (redelivered, then dead-lettered); the others are acknowledged. For FIFO queues a failure skips
 * the rest of ITS message group only (`skipGroupOnError`), so order within a group holds and one
 * batch's failing continuation never delays another batch's. When every record of an invocation
 * failed the function reports an error (Lambda's own retry and error metrics see it), as an
 * invocation that did nothing should.
 */
export interface SqsHandlerOptions {
  /** FIFO: records in order within their group; standard: an invocation's records concurrently. */
  fifo: boolean;
}

/** The record handler, with one error line per failed record. */
function loggingFailures(recordHandler: RecordHandler): RecordHandler {
  return async (record) => {
    try {
      await recordHandler(record);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      logger.error('record_failed', {
        message_id: record.messageId,
        message_group_id: record.attributes.MessageGroupId ?? null,
        receive_count: Number(record.attributes.ApproximateReceiveCount),
        error: failure.name,
        error_message: failure.message.slice(0, 300),
      });
      throw error;
    }
  };
}

export function sqsHandler(recordHandler: RecordHandler, options: SqsHandlerOptions) {
  const processor = options.fifo
    ? new SqsFifoPartialProcessorAsync()
    : new BatchProcessor(EventType.SQS);
  const handleRecord = loggingFailures(recordHandler);
  return middy(
    async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
      options.fifo
        ? processPartialResponse(event, handleRecord, processor as SqsFifoPartialProcessorAsync, {
            context,
            skipGroupOnError: true,
            throwOnFullBatchFailure: true,
          })
        : processPartialResponse(event, handleRecord, processor as BatchProcessor, {
            context,
            throwOnFullBatchFailure: true,
            processInParallel: true,
          }),
  )
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}

/**
 * An SQS handler (standard queue) whose records share one scope per invocation: `scope(event)`
 * is called once per invocation and gives the record handler (the judge: one callback batch for
 * the invocation's records). Records always run concurrently, because a record may wait for the
 * others in its scope. Failures are reported as `sqsHandler` reports them.
 */
export function sqsInvocationHandler(scope: (event: SQSEvent) => RecordHandler) {
  const processor = new BatchProcessor(EventType.SQS);
  return middy(
    async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
      processPartialResponse(event, loggingFailures(scope(event)), processor, {
        context,
        throwOnFullBatchFailure: true,
        processInParallel: true,
      }),
  )
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}

/**
 * An SQS handler (standard queue) whose records share one scope per invocation, as in
 * `sqsInvocationHandler` (the callback function: its callbacks are recorded together), each record
 * yields a key (its batch id), and the invocation ends with ONE follow-up per distinct key among
 * the records that succeeded (one gate re-check per batch instead of one per record). Records run
 * concurrently. A follow-up that fails is logged (`follow_up_failed`) and fails every record of its
 * key, so they are redelivered and the follow-up runs again; when nothing succeeded the function
 * reports an error, as `sqsHandler` does.
 */
export function sqsHandlerWithFollowUp<K>(
  scope: (event: SQSEvent) => (record: SQSRecord) => Promise<K>,
  followUp: (key: K) => Promise<void>,
) {
  const processor = new BatchProcessor(EventType.SQS);
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const keys = new Map<string, K>();
    const recordHandler = scope(event);
    const handleRecord = loggingFailures(async (record) => {
      keys.set(record.messageId, await recordHandler(record));
    });
    const response = await processPartialResponse(event, handleRecord, processor, {
      context,
      throwOnFullBatchFailure: true,
      processInParallel: true,
    });
    const failed = new Set(response.batchItemFailures.map((item) => item.itemIdentifier));
    const recordsByKey = new Map<K, string[]>();
    for (const record of event.Records) {
      const key = keys.get(record.messageId);
      if (failed.has(record.messageId) || key === undefined) continue;
      recordsByKey.set(key, [...(recordsByKey.get(key) ?? []), record.messageId]);
    }
    for (const [key, messageIds] of recordsByKey) {
      try {
        await followUp(key);
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        logger.error('follow_up_failed', {
          records: messageIds.length,
          error: failure.name,
          error_message: failure.message.slice(0, 300),
        });
        for (const messageId of messageIds) failed.add(messageId);
      }
    }
    if (event.Records.length > 0 && failed.size === event.Records.length) {
      throw new Error(`all ${failed.size} records of the invocation failed`);
    }
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
  })
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}

export function scheduledHandler(fn: (event: ScheduledEvent, context: Context) => Promise<void>) {
  return middy(async (event: ScheduledEvent, context: Context): Promise<void> => fn(event, context))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}
