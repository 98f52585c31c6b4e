/**
 * Creates the stack's data resources in moto_server from the template: DynamoDB tables (keys, GSIs,
 * LSIs, streams, TTL), SQS queues (names, FIFO attributes, visibility timeouts, redrive policies),
 * EventBridge buses and their pattern rules, and CloudWatch dashboards. Lambda functions, event
 * source mappings and schedules stay out of moto: the function host runs them.
 */
import { CloudWatchClient, PutDashboardCommand } from '@aws-sdk/client-cloudwatch';
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { AwsClientConfig } from './iam.ts';
import { resourcesOfType, type TemplateResolver } from './template.ts';

export interface LocalQueue {
  logicalId: string;
  name: string;
  url: string;
  arn: string;
  fifo: boolean;
  visibilityTimeoutSeconds: number;
  deadLetterArn?: string;
  maxReceiveCount?: number;
}

export interface CreatedResources {
  tables: Array<{ logicalId: string; name: string }>;
  queues: LocalQueue[];
  /**
   * Each bus also gets a catch-all rule delivering every event to a local capture queue (not part
   * of the stack), so tests can read the completion/failure events the engine publishes.
   */
  eventBuses: Array<{ logicalId: string; name: string; arn: string; captureQueueUrl: string }>;
  /** Pattern rules created in moto (their targets deliver there, e.g. to a queue). */
  eventRules: Array<{ logicalId: string; name: string; targets: string[] }>;
  /** Rule targets moto cannot run (functions): listed so `status` can say they are not wired. */
  skippedRuleTargets: Array<{ rule: string; target: string }>;
  dashboards: string[];
}

const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'SqsManagedSseEnabled',
] as const;

const SQS_DEFAULT_VISIBILITY_TIMEOUT_S = 30;
/** Name suffix of the local queue (and rule) that captures every event put on a bus. */
export const CAPTURE_SUFFIX = '-local-capture';

export async function createResources(
  resolver: TemplateResolver,
  config: AwsClientConfig,
): Promise<CreatedResources> {
  const created: CreatedResources = {
    tables: [],
    queues: [],
    eventBuses: [],
    eventRules: [],
    skippedRuleTargets: [],
    dashboards: [],
  };
  await createTables(resolver, config, created);
  await createQueues(resolver, config, created);
  await createEventBuses(resolver, config, created);
  await createDashboards(resolver, config, created);
  return created;
}

async function createTables(
  resolver: TemplateResolver,
  config: AwsClientConfig,
  created: CreatedResources,
): Promise<void> {
  const dynamodb = new DynamoDBClient(config);
  try {
    for (const [logicalId] of resourcesOfType(resolver.template, 'AWS::DynamoDB::Table')) {
      const props = resolver.properties(logicalId);
      const input = tableInput(resolver.ref(logicalId), props);
      await dynamodb.send(new CreateTableCommand(input));
      const ttl = props.TimeToLiveSpecification as
        | { AttributeName?: string; Enabled?: boolean }
        | undefined;
      if (ttl?.Enabled && ttl.AttributeName) {
        await dynamodb.send(
          new UpdateTimeToLiveCommand({
            TableName: input.TableName,
            TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
          }),
        );
      }
      created.tables.push({ logicalId, name: input.TableName ?? '' });
    }
  } finally {
    dynamodb.destroy();
  }
}

/** CloudFormation table properties → CreateTable input (only what the API accepts). */
export function tableInput(name: string, props: Record<string, unknown>): CreateTableCommandInput {
  const billingMode = (props.BillingMode as string | undefined) ?? 'PROVISIONED';
  const pick = (index: Record<string, unknown>) => ({
    IndexName: index.IndexName as string,
    KeySchema: index.KeySchema as CreateTableCommandInput['KeySchema'],
    Projection: index.Projection as never,
    ...(billingMode === 'PROVISIONED'
      ? { ProvisionedThroughput: index.ProvisionedThroughput as never }
      : {}),
  });
  const stream = props.StreamSpecification as { StreamViewType?: string } | undefined;
  const gsis = props.GlobalSecondaryIndexes as Array<Record<string, unknown>> | undefined;
  const lsis = props.LocalSecondaryIndexes as Array<Record<string, unknown>> | undefined;
  return {
    TableName: name,
    KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
    AttributeDefinitions: props.AttributeDefinitions as AttributeDefinition[],
    BillingMode: billingMode as CreateTableCommandInput['BillingMode'],
    ...(billingMode === 'PROVISIONED'
      ? {
          ProvisionedThroughput: (props.ProvisionedThroughput as never) ?? {
            ReadCapacityUnits: 5,
            WriteCapacityUnits: 5,
          },
        }
      : {}),
    ...(gsis?.length ? { GlobalSecondaryIndexes: gsis.map(pick) } : {}),
    ...(lsis?.length
      ? {
          LocalSecondaryIndexes: lsis.map((index) => ({
            IndexName: index.IndexName as string,
            KeySchema: index.KeySchema as never,
            Projection: index.Projection as never,
          })),
        }
      : {}),
    ...(stream?.StreamViewType
      ? {
          StreamSpecification: {
            StreamEnabled: true,
            StreamViewType: stream.StreamViewType as never,
          },
        }
      : {}),
  };
}

/** CloudFormation queue properties → CreateQueue attributes (strings, redrive policy as JSON). */
export function queueAttributes(props: Record<string, unknown>): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const key of QUEUE_ATTRIBUTES) {
    if (props[key] !== undefined) attributes[key] = String(props[key]);
  }
  if (props.RedrivePolicy !== undefined) {
    attributes.RedrivePolicy =
      typeof props.RedrivePolicy === 'string'
        ? props.RedrivePolicy
        : JSON.stringify(props.RedrivePolicy);
  }
  return attributes;
}

async function createQueues(
  resolver: TemplateResolver,
  config: AwsClientConfig,
  created: CreatedResources,
): Promise<void> {
  const sqs = new SQSClient({ ...config, useQueueUrlAsEndpoint: false });
  try {
    const pending = resourcesOfType(resolver.template, 'AWS::SQS::Queue').map(([logicalId]) => ({
      logicalId,
      props: resolver.properties(logicalId),
    }));
    const createdArns = new Set<string>();
    // A queue's dead-letter queue must exist before the queue that redrives to it.
    while (pending.length > 0) {
      const index = pending.findIndex(({ props }) => {
        const target = redriveOf(props)?.deadLetterTargetArn;
        return target === undefined || createdArns.has(target);
      });
      if (index < 0) {
        const names = pending.map((queue) => queue.logicalId).join(', ');
        throw new Error(`dead-letter queues of ${names} are not in the template`);
      }
      const [{ logicalId, props }] = pending.splice(index, 1) as [(typeof pending)[number]];
      const name = resolver.getAtt(logicalId, 'QueueName');
      const attributes = queueAttributes(props);
      const response = await sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
      );
      const expectedUrl = resolver.ref(logicalId);
      if (response.QueueUrl !== expectedUrl) {
        throw new Error(`moto named queue ${name} ${response.QueueUrl}, expected ${expectedUrl}`);
      }
      const arn = resolver.getAtt(logicalId, 'Arn');
      createdArns.add(arn);
      const redrive = redriveOf(props);
      created.queues.push({
        logicalId,
        name,
        url: expectedUrl,
        arn,
        fifo: attributes.FifoQueue === 'true',
        visibilityTimeoutSeconds: Number(
          attributes.VisibilityTimeout ?? SQS_DEFAULT_VISIBILITY_TIMEOUT_S,
        ),
        ...(redrive
          ? { deadLetterArn: redrive.deadLetterTargetArn, maxReceiveCount: redrive.maxReceiveCount }
          : {}),
      });
    }
  } finally {
    sqs.destroy();
  }
}

function redriveOf(
  props: Record<string, unknown>,
): { deadLetterTargetArn: string; maxReceiveCount: number } | undefined {
  const raw = props.RedrivePolicy;
  if (raw === undefined) return undefined;
  const policy = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>;
  return {
    deadLetterTargetArn: String(policy.deadLetterTargetArn),
    maxReceiveCount: Number(policy.maxReceiveCount),
  };
}

async function createEventBuses(
  resolver: TemplateResolver,
  config: AwsClientConfig,
  created: CreatedResources,
): Promise<void> {
  const events = new EventBridgeClient(config);
  const sqs = new SQSClient({ ...config, useQueueUrlAsEndpoint: false });
  try {
    for (const [logicalId] of resourcesOfType(resolver.template, 'AWS::Events::EventBus')) {
      const name = resolver.ref(logicalId);
      await events.send(new CreateEventBusCommand({ Name: name }));
      const captureName = `${name}${CAPTURE_SUFFIX}`.slice(0, 80);
      const capture = await sqs.send(new CreateQueueCommand({ QueueName: captureName }));
      const { region, accountId } = resolver.context;
      await events.send(
        new PutRuleCommand({
          Name: captureName.slice(0, 64),
          EventBusName: name,
          EventPattern: JSON.stringify({ account: [accountId] }),
        }),
      );
      await events.send(
        new PutTargetsCommand({
          Rule: captureName.slice(0, 64),
          EventBusName: name,
          Targets: [{ Id: 'capture', Arn: `arn:aws:sqs:${region}:${accountId}:${captureName}` }],
        }),
      );
      created.eventBuses.push({
        logicalId,
        name,
        arn: resolver.getAtt(logicalId, 'Arn'),
        captureQueueUrl: capture.QueueUrl ?? '',
      });
    }
    for (const [logicalId] of resourcesOfType(resolver.template, 'AWS::Events::Rule')) {
      const props = resolver.properties(logicalId);
      // Schedules run in the scheduler; only pattern rules live on the bus.
      if (props.EventPattern === undefined) continue;
      const name = resolver.ref(logicalId);
      const busName = (props.EventBusName as string | undefined) ?? 'default';
      await events.send(
        new PutRuleCommand({
          Name: name,
          EventBusName: busName.split('/').pop(),
          EventPattern: JSON.stringify(props.EventPattern),
          State: (props.State as 'ENABLED' | 'DISABLED' | undefined) ?? 'ENABLED',
        }),
      );
      const targets = (props.Targets as Array<Record<string, unknown>> | undefined) ?? [];
      const supported = targets.filter((target) => !String(target.Arn).includes(':lambda:'));
      for (const target of targets) {
        if (String(target.Arn).includes(':lambda:')) {
          created.skippedRuleTargets.push({ rule: name, target: String(target.Arn) });
        }
      }
      if (supported.length > 0) {
        await events.send(
          new PutTargetsCommand({
            Rule: name,
            EventBusName: busName.split('/').pop(),
            Targets: supported.map((target) => ({
              Id: String(target.Id),
              Arn: String(target.Arn),
              ...(target.Input !== undefined ? { Input: String(target.Input) } : {}),
              ...(target.InputPath !== undefined ? { InputPath: String(target.InputPath) } : {}),
            })),
          }),
        );
      }
      created.eventRules.push({ logicalId, name, targets: supported.map((t) => String(t.Arn)) });
    }
  } finally {
    events.destroy();
    sqs.destroy();
  }
}

async function createDashboards(
  resolver: TemplateResolver,
  config: AwsClientConfig,
  created: CreatedResources,
): Promise<void> {
  const cloudwatch = new CloudWatchClient(config);
  try {
    for (const [logicalId] of resourcesOfType(resolver.template, 'AWS::CloudWatch::Dashboard')) {
      const props = resolver.properties(logicalId);
      const name = resolver.ref(logicalId);
      const body =
        typeof props.DashboardBody === 'string'
          ? props.DashboardBody
          : JSON.stringify(props.DashboardBody);
      await cloudwatch.send(new PutDashboardCommand({ DashboardName: name, DashboardBody: body }));
      created.dashboards.push(name);
    }
  } finally {
    cloudwatch.destroy();
  }
}
