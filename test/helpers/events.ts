/**
 * Event factories for handler tests: SQS records and events (standard and FIFO), API Gateway HTTP
 * API v2.0 events, EventBridge schedule events, and a Lambda context.
 */
import type {
  APIGatewayProxyEventV2,
  Context,
  ScheduledEvent,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';

let sequence = 0;
const nextId = (prefix: string): string => {
  sequence += 1;
  return `${prefix}-${sequence.toString().padStart(6, '0')}`;
};

export interface SqsRecordOptions {
  messageId?: string;
  receiveCount?: number;
  queueArn?: string;
  /** FIFO queues only. */
  messageGroupId?: string;
  deduplicationId?: string;
}

/** One SQS record; `body` objects are JSON-encoded, strings are used as they are (for bad input). */
export function sqsRecord(body: unknown, options: SqsRecordOptions = {}): SQSRecord {
  const fifo = options.messageGroupId !== undefined;
  return {
    messageId: options.messageId ?? nextId('msg'),
    receiptHandle: nextId('receipt'),
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: '1764230400000',
      SenderId: 'AIDATEST',
      ApproximateFirstReceiveTimestamp: '1764230400000',
      ...(fifo
        ? {
            MessageGroupId: options.messageGroupId,
            MessageDeduplicationId: options.deduplicationId ?? nextId('dedup'),
            SequenceNumber: String(sequence),
          }
        : {}),
    },
    messageAttributes: {},
    md5OfBody: 'not-checked',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn ?? 'arn:aws:sqs:eu-west-1:123456789012:test-queue',
    awsRegion: 'eu-west-1',
  };
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** The IAM user tests call the API as, unless they say otherwise. */
export const TEST_CALLER_ARN = 'arn:aws:iam::123456789012:user/cj-test';
/** The workflow's view of that caller. */
export const TEST_CALLER: { readonly id: string } = { id: TEST_CALLER_ARN };

export interface HttpEventOptions {
  /**
   * The IAM caller API Gateway puts in the request context (`authorizer.iam.userArn`);
   * TEST_CALLER_ARN by default, null for a request with no IAM context.
   */
  caller?: string | null;
  pathParameters?: Record<string, string>;
  body?: unknown;
  queryStringParameters?: Record<string, string>;
  /** Request headers (lowercase names, as API Gateway passes them), besides content-type. */
  headers?: Record<string, string>;
}

/** An HTTP API (payload v2.0) event for `routeKey`, e.g. `POST /batches/{id}/start`. */
export function httpEvent(
  routeKey: string,
  options: HttpEventOptions = {},
): APIGatewayProxyEventV2 {
  const [method = 'GET', routePath = '/'] = routeKey.split(' ');
  const caller = options.caller === undefined ? TEST_CALLER_ARN : options.caller;
  const rawPath = routePath.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(options.pathParameters?.[name] ?? name),
  );
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(options.queryStringParameters
      ? { queryStringParameters: options.queryStringParameters }
      : {}),
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.1',
        userAgent: 'test',
      },
      requestId: nextId('req'),
      routeKey,
      stage: '$default',
      time: '27/Nov/2026:08:00:00 +0000',
      timeEpoch: 1764230400000,
      ...(caller === null ? {} : { authorizer: iamAuthorizer(caller) }),
    },
  } as APIGatewayProxyEventV2;
}

/** The IAM part of an HTTP API request context, as API Gateway fills it for a signed request. */
function iamAuthorizer(userArn: string) {
  const accountId = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(userArn)?.[1] ?? '123456789012';
  return {
    iam: {
      accessKey: 'AKIATESTCALLER000000',
      accountId,
      callerId: 'AIDATESTCALLER0000000',
      principalOrgId: null,
      userArn,
      userId: 'AIDATESTCALLER0000000',
    },
  };
}

export function scheduleEvent(time = '2026-11-27T08:00:00Z'): ScheduledEvent {
  return {
    version: '0',
    id: nextId('schedule'),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time,
    region: 'eu-west-1',
    resources: ['arn:aws:events:eu-west-1:123456789012:rule/sweeper'],
    detail: {},
  };
}

export function lambdaContext(functionName = 'test-function'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: nextId('aws-req'),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
