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
 * SQS handler with partial batch responses. A failed record is reported in `batchItemFailures`
 * (redelivered, then dead-lettered); the others are acknowledged. For FIFO queues processing stops
 * at the first failure and every later record is reported too, so order within a group holds.
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

export function sqsHandler(recordHandler: RecordHandler, options: SqsHandlerOptions) {
  const processor = options.fifo
    ? new SqsFifoPartialProcessorAsync()
    : new BatchProcessor(EventType.SQS);
  // A failed record is redelivered and finally dead-lettered without a trace unless it is logged
  // here (an AccessDenied, a throttled write, a bug): the reason, never the body.
  const loggedRecordHandler: RecordHandler = async (record) => {
    try {
      await recordHandler(record);
    } catch (error) {
      logger.error('record_failed', {
        message_id: record.messageId,
        receive_count: Number(record.attributes.ApproximateReceiveCount) || 1,
        error: error as Error,
      });
      throw error;
    }
  };
  return middy(
    async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
      processPartialResponse(event, loggedRecordHandler, processor, {
        context,
        // A batch where every record failed is still answered with the list, not an exception,
        // so the function does not report an error for what is a per-message outcome.
        throwOnFullBatchFailure: false,
        ...(options.fifo ? {} : { processInParallel: options.parallel ?? true }),
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
