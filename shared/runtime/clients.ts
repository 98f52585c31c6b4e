/**
 * AWS SDK client singletons, created on first use and reused across warm invocations.
 * The SDK reads `AWS_ENDPOINT_URL` itself (the local cloud points it at moto_server); SQS must
 * then stop using the queue URL's host as the endpoint, because the emulator's URLs name an AWS host.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

function once<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= create();
    return value;
  };
}

export const documentClient = once(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);

export const sqsClient = once(
  () => new SQSClient(process.env.AWS_ENDPOINT_URL ? { useQueueUrlAsEndpoint: false } : {}),
);

export const eventBridgeClient = once(() => new EventBridgeClient({}));

export const cloudWatchClient = once(() => new CloudWatchClient({}));
