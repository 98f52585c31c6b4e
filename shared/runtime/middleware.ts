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
  fifo: boolean;
  /**
   * Standard queues only: process the records of one invocation concurrently (default). Off for
   * records that all write the same item (callbacks raise one batch's counters): one at a time
   * they do not conflict with each other's transactions.
   */
  parallel?: boolean;
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
            processInParallel: options.parallel ?? true,
          }),
  )
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}

export function scheduledHandler(fn: (event: ScheduledEvent, context: Context) => Promise<void>) {
  return middy(async (event: ScheduledEvent, context: Context): Promise<void> => fn(event, context))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}
