import { CloudWatchClient, GetDashboardCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, ListRulesCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { localClientConfig } from '#localstack/local-cloud/iam.ts';
import { type MotoServer, startMotoServer } from '#localstack/local-cloud/moto-server.ts';
import { type CreatedResources, createResources } from '#localstack/local-cloud/resources.ts';
import { TemplateResolver } from '#localstack/local-cloud/template.ts';
import { fixtureTemplate, localContext, localSqs } from '#test/helpers/local-cloud-fixtures.ts';

// Real servers and redelivery after visibility timeouts: slower than pure unit tests on a busy machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 90_000 });

const REGION = 'eu-north-1';
let moto: MotoServer;
let created: CreatedResources;

// One moto_server of this file's own, on its own port: no other test file shares its state.
beforeAll(async () => {
  moto = await startMotoServer();
  const resolver = new TemplateResolver(
    fixtureTemplate(),
    localContext({ endpoint: moto.endpoint, region: REGION }),
  );
  created = await createResources(
    resolver,
    localClientConfig(moto.endpoint, REGION, moto.credentials),
  );
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

async function queueAttributes(name: string): Promise<Record<string, string>> {
  const sqs = localSqs(moto.endpoint, REGION, moto.credentials);
  const queueUrl = created.queues.find((queue) => queue.name === name)?.url;
  const response = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
  );
  return response.Attributes ?? {};
}

describe('createResources against moto_server', () => {
  it('creates the standard queue with its visibility timeout and redrive policy to its DLQ', async () => {
    // Act
    const attributes = await queueAttributes('fixture-work');

    // Assess
    expect(attributes.VisibilityTimeout).toBe('2');
    expect(JSON.parse(attributes.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: `arn:aws:sqs:${REGION}:123456789012:fixture-work-dlq`,
      maxReceiveCount: 2,
    });
  });

  it('creates the FIFO queue with explicit deduplication and a FIFO DLQ', async () => {
    // Act
    const attributes = await queueAttributes('fixture-ordered.fifo');
    const dlq = await queueAttributes('fixture-ordered-dlq.fifo');

    // Assess
    expect(attributes.FifoQueue).toBe('true');
    expect(attributes.ContentBasedDeduplication).toBe('false');
    expect(attributes.DeduplicationScope).toBe('messageGroup');
    expect(JSON.parse(attributes.RedrivePolicy ?? '{}').maxReceiveCount).toBe(5);
    expect(dlq.FifoQueue).toBe('true');
  });

  it('creates queues without an explicit name as <stack>-<logicalId>', () => {
    // Act
    const names = created.queues.map((queue) => queue.name);

    // Assess
    expect(names).toContain('LocalFixture-UnnamedQueue');
  });

  it('creates the table with its keys, GSI and TTL', async () => {
    // Prepare
    const dynamodb = new DynamoDBClient(localClientConfig(moto.endpoint, REGION, moto.credentials));

    // Act
    const { Table } = await dynamodb.send(
      new DescribeTableCommand({ TableName: 'local-fixture-table' }),
    );
    const ttl = await dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: 'local-fixture-table' }),
    );

    // Assess
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.GlobalSecondaryIndexes?.[0]).toMatchObject({
      IndexName: 'byStatus',
      KeySchema: [
        { AttributeName: 'gsi1pk', KeyType: 'HASH' },
        { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    });
    expect(ttl.TimeToLiveDescription).toMatchObject({
      AttributeName: 'expires_at',
      TimeToLiveStatus: 'ENABLED',
    });
  });

  it('puts the dashboard with its body resolved to local names', async () => {
    // Prepare
    const cloudwatch = new CloudWatchClient(
      localClientConfig(moto.endpoint, REGION, moto.credentials),
    );

    // Act
    const { DashboardBody } = await cloudwatch.send(
      new GetDashboardCommand({ DashboardName: 'fixture-dashboard' }),
    );

    // Assess
    const widget = JSON.parse(DashboardBody ?? '{}').widgets[0].properties;
    expect(widget.region).toBe(REGION);
    expect(widget.metrics[0]).toEqual([
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      'QueueName',
      'fixture-work',
    ]);
  });

  it('creates the bus; its pattern rule and the local capture queue both receive an event', async () => {
    // Prepare
    const events = new EventBridgeClient(
      localClientConfig(moto.endpoint, REGION, moto.credentials),
    );
    const sqs = localSqs(moto.endpoint, REGION, moto.credentials);
    const bus = created.eventBuses.find((candidate) => candidate.name === 'LocalFixture-bus');

    // Act
    await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'LocalFixture-bus',
            Source: 'cj.engine',
            DetailType: 'BatchCompleted',
            Detail: '{"batch_id":"b-1"}',
          },
        ],
      }),
    );
    const ruleQueueUrl = created.queues.find((queue) => queue.name === 'fixture-events')?.url;
    const viaRule = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: ruleQueueUrl, WaitTimeSeconds: 2 }),
    );
    const viaCapture = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: bus?.captureQueueUrl, WaitTimeSeconds: 2 }),
    );

    // Assess
    expect(JSON.parse(viaRule.Messages?.[0]?.Body ?? '{}')).toMatchObject({
      source: 'cj.engine',
      'detail-type': 'BatchCompleted',
      detail: { batch_id: 'b-1' },
    });
    expect(JSON.parse(viaCapture.Messages?.[0]?.Body ?? '{}').detail).toEqual({ batch_id: 'b-1' });
  });

  it('leaves schedules out of moto (the scheduler runs them) and creates the pattern rule', async () => {
    // Prepare
    const events = new EventBridgeClient(
      localClientConfig(moto.endpoint, REGION, moto.credentials),
    );

    // Act
    const onDefault = await events.send(new ListRulesCommand({}));
    const onBus = await events.send(new ListRulesCommand({ EventBusName: 'LocalFixture-bus' }));

    // Assess
    expect(onDefault.Rules ?? []).toEqual([]);
    expect((onBus.Rules ?? []).map((rule) => rule.Name).sort()).toEqual([
      'LocalFixture-CompletionRule',
      'LocalFixture-bus-local-capture',
    ]);
  });
});
