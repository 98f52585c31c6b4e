/**
 * An SQS queue with its dead-letter queue and secure defaults: SQS-managed SSE, TLS-only access
 * policy, redrive after `maxReceiveCount` receives, explicit names (the local cloud creates the
 * queues by these names). FIFO queues get a FIFO DLQ and explicit-deduplication-id semantics.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  DeduplicationScope,
  FifoThroughputLimit,
  Queue,
  QueueEncryption,
  type QueueProps,
} from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** AWS advises at least 5 receives before dead-lettering, so one throttled burst is not fatal. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;
/** Dead letters are kept as long as SQS allows, so an operator has two weeks to redrive them. */
const DLQ_RETENTION = Duration.days(14);
/**
 * 256 KiB, SQS's classic message limit, set explicitly so AWS and the local cloud (moto enforces
 * the queue's MaximumMessageSize) refuse the same messages; the engine's are under 1 KB
 * (test/unit/messages/aws-limits.test.ts).
 */
export const MAX_MESSAGE_BYTES = 262_144;

export interface SecureQueueProps {
  /** Queue name without the `.fifo` suffix; the DLQ is named `<name>-dlq`. */
  readonly queueName: string;
  readonly visibilityTimeout: Duration;
  readonly fifo?: boolean;
  readonly maxReceiveCount?: number;
  /** Further queue settings merged over the defaults (encryption, SSL and DLQ stay enforced). */
  readonly queueProps?: Omit<
    QueueProps,
    'queueName' | 'fifo' | 'deadLetterQueue' | 'encryption' | 'enforceSSL' | 'visibilityTimeout'
  >;
}

export class SecureQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: SecureQueueProps) {
    super(scope, id);
    const fifo = props.fifo ?? false;
    const suffix = fifo ? '.fifo' : '';
    const fifoProps: Partial<QueueProps> = fifo
      ? {
          fifo: true,
          // Senders give explicit deduplication ids (batch + iteration), never a body hash.
          contentBasedDeduplication: false,
          // Batches are independent groups: throughput scales per group, not per queue.
          deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
          fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
        }
      : {};

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      queueName: `${props.queueName}-dlq${suffix}`,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
      removalPolicy: RemovalPolicy.DESTROY,
      ...(fifo ? { fifo: true, contentBasedDeduplication: false } : {}),
    });

    this.queue = new Queue(this, 'Queue', {
      removalPolicy: RemovalPolicy.DESTROY,
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
      ...props.queueProps,
      ...fifoProps,
      queueName: `${props.queueName}${suffix}`,
      visibilityTimeout: props.visibilityTimeout,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
      },
    });
  }
}
