/**
 * AWS list prices used by bench:pipeline's cost estimate (us-east-1, on-demand, no free tier,
 * first pricing tier; LLM cost excluded). Checked against the AWS pricing pages named below.
 */
export const AWS_PRICES_USD = {
  /** Lambda requests, per million (https://aws.amazon.com/lambda/pricing/). */
  lambdaPerMillionRequests: 0.2,
  /** Lambda duration on Arm (Graviton2), per GB-second, first 7.5 billion GB-s a month (same page). */
  lambdaArmPerGbSecond: 0.0000133334,
  /** DynamoDB on-demand write request units, per million (https://aws.amazon.com/dynamodb/pricing/on-demand/, since 1 Nov 2024). */
  dynamodbPerMillionWriteUnits: 0.625,
  /** DynamoDB on-demand read request units, per million (same page). */
  dynamodbPerMillionReadUnits: 0.125,
  /** SQS standard queue requests, per million; each 64 KB chunk of payload is one request (https://aws.amazon.com/sqs/pricing/). */
  sqsStandardPerMillionRequests: 0.4,
  /** SQS FIFO queue requests, per million (same page). */
  sqsFifoPerMillionRequests: 0.5,
  /** EventBridge custom events published, per million (https://aws.amazon.com/eventbridge/pricing/). */
  eventBridgePerMillionEvents: 1.0,
} as const;

/** SQS bills one request per started 64 KB of payload. */
export const SQS_BILLING_CHUNK_BYTES = 65_536;
/** DynamoDB: one write unit per started 1 KB of item, one read unit per started 4 KB (strongly consistent). */
export const DYNAMODB_WRITE_UNIT_BYTES = 1024;
export const DYNAMODB_READ_UNIT_BYTES = 4096;
