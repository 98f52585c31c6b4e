import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import {
  buildTestStack,
  functionLogicalId,
  resourcesOfType,
  SYNTH_TIMEOUT_MS,
  type TestStack,
} from '#test/helpers/cdk-stack.ts';

const PREFIX = 'CjEngine-test';
/** AWS: visibility timeout at least 6 × the function timeout, so a retry never overlaps a run. */
const ADVISED_VISIBILITY_FACTOR = 6;
const QUEUE_NAMES = [
  `${PREFIX}-comparison-requests`,
  `${PREFIX}-callbacks`,
  `${PREFIX}-continuation.fifo`,
];

let built: TestStack;
beforeAll(() => {
  built = buildTestStack();
}, SYNTH_TIMEOUT_MS);

function queueByName(name: string): [string, Record<string, unknown>] {
  const match = resourcesOfType(built.template, 'AWS::SQS::Queue').find(
    ([, props]) => props.QueueName === name,
  );
  if (!match) throw new Error(`no queue ${name}`);
  return match;
}

/** The environment variables of one function of the test stack. */
function functionEnv(name: string): Record<string, unknown> {
  const id = functionLogicalId(built.template, PREFIX, name);
  const props = Object.fromEntries(resourcesOfType(built.template, 'AWS::Lambda::Function'))[id];
  return (
    (props?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {}
  );
}

describe('queues', () => {
  it('gives every work queue a dead-letter queue after 5 receives', () => {
    // Prepare
    const queues = QUEUE_NAMES.map(queueByName);

    // Act
    const redrives = queues.map(([, props]) => props.RedrivePolicy as Record<string, unknown>);

    // Assess
    for (const [index, redrive] of redrives.entries()) {
      expect(redrive.maxReceiveCount).toBe(5);
      const dlqName = QUEUE_NAMES[index]!.replace(/(\.fifo)?$/, '-dlq$1');
      const [dlqId] = queueByName(dlqName);
      expect(redrive.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': [dlqId, 'Arn'] });
    }
  });

  it('encrypts every queue, dead-letter queues included, with SSE', () => {
    // Prepare
    const queues = resourcesOfType(built.template, 'AWS::SQS::Queue');

    // Act
    const unencrypted = queues.filter(
      ([, props]) => props.SqsManagedSseEnabled !== true && props.KmsMasterKeyId === undefined,
    );

    // Assess
    expect(queues).toHaveLength(6);
    expect(unencrypted).toEqual([]);
  });

  it("caps every queue's messages at 256 KiB, so the local cloud's moto refuses what AWS refuses", () => {
    // Prepare
    const queues = resourcesOfType(built.template, 'AWS::SQS::Queue');

    // Act
    const sizes = queues.map(([, props]) => props.MaximumMessageSize);

    // Assess
    expect(sizes).toEqual(queues.map(() => 262_144));
  });

  it('denies non-TLS access to every queue', () => {
    // Prepare
    const queueIds = resourcesOfType(built.template, 'AWS::SQS::Queue').map(([id]) => id);
    const policies = resourcesOfType(built.template, 'AWS::SQS::QueuePolicy');

    // Act
    const enforced = queueIds.filter((id) =>
      policies.some(([, props]) => {
        const targets = props.Queues as Array<{ Ref: string }>;
        const statements = (props.PolicyDocument as { Statement: Array<Record<string, unknown>> })
          .Statement;
        return (
          targets.some((target) => target.Ref === id) &&
          statements.some(
            (statement) =>
              statement.Effect === 'Deny' &&
              JSON.stringify(statement.Condition) ===
                JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
          )
        );
      }),
    );

    // Assess
    expect(enforced.sort()).toEqual([...queueIds].sort());
  });

  it('makes the continuation queue and its DLQ FIFO with explicit deduplication ids', () => {
    // Prepare
    const [, continuation] = queueByName(`${PREFIX}-continuation.fifo`);
    const [, dlq] = queueByName(`${PREFIX}-continuation-dlq.fifo`);

    // Act
    const fifoFlags = [continuation.FifoQueue, dlq.FifoQueue];

    // Assess
    expect(fifoFlags).toEqual([true, true]);
    expect(continuation.ContentBasedDeduplication).toBe(false);
    expect(continuation.DeduplicationScope).toBe('messageGroup');
  });

  it('keeps every message invisible for at least 6 times its consumer timeout', () => {
    // Prepare
    const mappings = resourcesOfType(built.template, 'AWS::Lambda::EventSourceMapping');
    const functions = Object.fromEntries(resourcesOfType(built.template, 'AWS::Lambda::Function'));
    const queues = Object.fromEntries(resourcesOfType(built.template, 'AWS::SQS::Queue'));

    // Act
    const pairs = mappings.map(([, mapping]) => {
      const queueId = (mapping.EventSourceArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
      const fnId = (mapping.FunctionName as { Ref: string }).Ref;
      return {
        visibility: queues[queueId]?.VisibilityTimeout as number,
        timeout: functions[fnId]?.Timeout as number,
      };
    });

    // Assess
    expect(pairs).toHaveLength(3);
    for (const { visibility, timeout } of pairs) {
      expect(visibility).toBeGreaterThanOrEqual(ADVISED_VISIBILITY_FACTOR * timeout);
    }
  });

  it("lasts the judge's claim as long as a judge invocation and expires it before the request comes back", () => {
    // Prepare
    const judgeId = functionLogicalId(built.template, PREFIX, 'judge');
    const [, comparisonQueue] = queueByName(`${PREFIX}-comparison-requests`);

    // Act
    const timeout = Number(
      (built.template.toJSON().Resources[judgeId].Properties as { Timeout: number }).Timeout,
    );
    const visibility = Number(comparisonQueue.VisibilityTimeout);

    // Assess: no live invocation outlives its claim; a crashed claimer's redelivery finds it expired
    expect(DEFAULT_CONFIG.JUDGE_CLAIM_SECONDS).toBeGreaterThanOrEqual(timeout);
    expect(DEFAULT_CONFIG.JUDGE_CLAIM_SECONDS).toBeLessThan(visibility);
  });
});

describe('table', () => {
  it('is on-demand, point-in-time recoverable, encrypted, with TTL and the three indexes', () => {
    // Prepare
    const expected = {
      TableName: `${PREFIX}-table`,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'active-batches',
          KeySchema: [
            { AttributeName: 'gsi2pk', KeyType: 'HASH' },
            { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          // GET /batches: one owner's batches, newest first.
          IndexName: 'batches-by-owner',
          KeySchema: [
            { AttributeName: 'owner', KeyType: 'HASH' },
            { AttributeName: 'gsi3sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          // An admin's GET /batches: every batch, newest first.
          IndexName: 'batches-by-created',
          KeySchema: [
            { AttributeName: 'gsi4pk', KeyType: 'HASH' },
            { AttributeName: 'gsi3sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    };

    // Act
    const act = () => built.template.hasResourceProperties('AWS::DynamoDB::Table', expected);

    // Assess
    expect(act).not.toThrow();
  });

  it('can be deleted outside prod', () => {
    // Prepare
    const tables = built.template.findResources('AWS::DynamoDB::Table');

    // Act
    const [table] = Object.values(tables) as Array<Record<string, unknown>>;

    // Assess
    expect(table?.DeletionPolicy).toBe('Delete');
    expect(table?.Properties).toMatchObject({ DeletionProtectionEnabled: false });
  });

  it('is retained and deletion-protected in prod', () => {
    // Prepare
    const prod = buildTestStack({ context: { stage: 'prod' } });

    // Act
    const [table] = Object.values(prod.template.findResources('AWS::DynamoDB::Table')) as Array<
      Record<string, unknown>
    >;

    // Assess
    expect(table?.DeletionPolicy).toBe('Retain');
    expect(table?.UpdateReplacePolicy).toBe('Retain');
    expect(table?.Properties).toMatchObject({ DeletionProtectionEnabled: true });
  });
});

describe('functions', () => {
  it('deploys one ARM64 Node 22 ESM function per handler of the contract', () => {
    // Prepare
    const contractNames = [
      'create-batch',
      'add-essays',
      'start-batch',
      'list-batches',
      'get-batch',
      'get-results',
      'get-waves',
      'cancel-batch',
      'admin-mock-mode',
      'judge',
      'callback',
      'continuation',
      'sweeper',
      'provider-batches',
    ];
    const expectedNames = contractNames.map((name) => `${PREFIX}-${name}`).sort();

    // Act
    const functions = resourcesOfType(built.template, 'AWS::Lambda::Function');

    // Assess
    expect(functions.map(([, props]) => props.FunctionName).sort()).toEqual(expectedNames);
    for (const [, props] of functions) {
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Runtime).toBe('nodejs22.x');
      expect(props.Handler).toBe('index.handler');
    }
  });

  it('gives every function its own log group with retention', () => {
    // Prepare
    const logGroups = Object.fromEntries(resourcesOfType(built.template, 'AWS::Logs::LogGroup'));

    // Act
    const functions = resourcesOfType(built.template, 'AWS::Lambda::Function');

    // Assess
    for (const [, props] of functions) {
      const ref = (props.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(logGroups[ref]?.LogGroupName).toBe(`/aws/lambda/${props.FunctionName}`);
      expect(logGroups[ref]?.RetentionInDays).toBe(30);
    }
  });

  it('hands each function only the environment it needs, with references to the resources', () => {
    // Prepare
    const envOf = (name: string) => {
      const id = functionLogicalId(built.template, PREFIX, name);
      const props = Object.fromEntries(resourcesOfType(built.template, 'AWS::Lambda::Function'))[
        id
      ];
      return (
        (props?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {}
      );
    };
    const [comparisonQueueId] = queueByName(`${PREFIX}-comparison-requests`);

    // Act
    const judge = envOf('judge');
    const continuation = envOf('continuation');
    const admin = envOf('admin-mock-mode');

    // Assess
    expect(Object.keys(judge).sort()).toEqual(
      [
        'ALLOWED_PROVIDERS',
        'CALLBACK_QUEUE_URL',
        'COMPARISON_QUEUE_URL',
        'JUDGE_ENDPOINTS',
        'NODE_OPTIONS',
        'POWERTOOLS_LOG_LEVEL',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
        'PROVIDER_RATE_LIMITS',
        'STAGE',
        'TABLE_NAME',
      ].sort(),
    );
    expect(judge.PROVIDER_RATE_LIMITS).toBe('{}');
    expect(judge.JUDGE_ENDPOINTS).toBe('{}');
    expect(judge.ALLOW_LOOPBACK_BASE_URLS).toBeUndefined();
    expect(judge.POWERTOOLS_SERVICE_NAME).toBe('cj-engine');
    expect(judge.POWERTOOLS_METRICS_NAMESPACE).toBe('CjEngine');
    expect(judge.ALLOWED_PROVIDERS).toBe('mock');
    expect(continuation.COMPARISON_QUEUE_URL).toEqual({ Ref: comparisonQueueId });
    expect(continuation.EVENT_BUS_NAME).toEqual({ Ref: expect.any(String) });
    expect(admin.TABLE_NAME).toBeUndefined();
  });

  it('hands the admins to every function that decides who may see a batch, and to no other', () => {
    // Prepare
    const withAdmins = buildTestStack({
      context: { adminPrincipals: 'arn:aws:iam::123456789012:role/Ops' },
    });

    // Act
    const holders = resourcesOfType(withAdmins.template, 'AWS::Lambda::Function')
      .filter(
        ([, props]) =>
          (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
            ?.ADMIN_PRINCIPALS === 'arn:aws:iam::123456789012:role/Ops',
      )
      .map(([, props]) => String(props.FunctionName).slice(PREFIX.length + 1))
      .sort();

    // Assess
    expect(holders).toEqual(
      [
        'add-essays',
        'cancel-batch',
        'get-batch',
        'get-results',
        'get-waves',
        'list-batches',
        'start-batch',
      ].sort(),
    );
  });

  it('gives no function a local caller identity: in AWS a request without IAM is refused', () => {
    // Act
    const withLocalIdentity = resourcesOfType(built.template, 'AWS::Lambda::Function').filter(
      ([, props]) =>
        (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
          ?.LOCAL_CALLER_PRINCIPAL !== undefined,
    );

    // Assess
    expect(resourcesOfType(built.template, 'AWS::Lambda::Function').length).toBeGreaterThan(5);
    expect(withLocalIdentity).toEqual([]);
  });

  it('hands create-batch and add-essays the deployment maxima they check requests against', () => {
    // Prepare
    const envOf = (name: string) => {
      const id = functionLogicalId(built.template, PREFIX, name);
      const props = Object.fromEntries(resourcesOfType(built.template, 'AWS::Lambda::Function'))[
        id
      ];
      return (
        (props?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {}
      );
    };

    // Act
    const create = envOf('create-batch');
    const pages = envOf('add-essays');

    // Assess
    expect(create).toMatchObject({
      MAX_ESSAYS_PER_BATCH: String(DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH),
      MAX_ESSAY_CHARS: String(DEFAULT_CONFIG.MAX_ESSAY_CHARS),
      MAX_BUDGET_PER_BATCH: String(DEFAULT_CONFIG.MAX_BUDGET_PER_BATCH),
    });
    expect(pages.MAX_ESSAY_CHARS).toBe(String(DEFAULT_CONFIG.MAX_ESSAY_CHARS));
    expect(pages.MAX_BUDGET_PER_BATCH).toBeUndefined();
  });

  it('hands create-batch and start-batch the in-flight caps, and no other function', () => {
    // Prepare
    const capped = resourcesOfType(built.template, 'AWS::Lambda::Function').filter(
      ([, props]) =>
        (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
          ?.MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL !== undefined,
    );

    // Act
    const create = functionEnv('create-batch');
    const start = functionEnv('start-batch');

    // Assess
    const caps = {
      MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL: String(
        DEFAULT_CONFIG.MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL,
      ),
      MAX_ESSAYS_IN_FLIGHT: String(DEFAULT_CONFIG.MAX_ESSAYS_IN_FLIGHT),
    };
    expect(create).toMatchObject(caps);
    expect(start).toMatchObject(caps);
    expect(capped.map(([id]) => id).sort()).toEqual(
      [
        functionLogicalId(built.template, PREFIX, 'create-batch'),
        functionLogicalId(built.template, PREFIX, 'start-batch'),
      ].sort(),
    );
  });
});

describe('event source mappings', () => {
  it('report partial batch failures on every mapping', () => {
    // Prepare
    const mappings = resourcesOfType(built.template, 'AWS::Lambda::EventSourceMapping');

    // Act
    const responseTypes = mappings.map(([, props]) => props.FunctionResponseTypes);

    // Assess
    expect(responseTypes).toEqual([
      ['ReportBatchItemFailures'],
      ['ReportBatchItemFailures'],
      ['ReportBatchItemFailures'],
    ]);
  });

  it('batch callbacks by 10 within 1 s and the FIFO continuation by at most 10', () => {
    // Prepare
    const [callbackQueueId] = queueByName(`${PREFIX}-callbacks`);
    const [continuationQueueId] = queueByName(`${PREFIX}-continuation.fifo`);

    // Act
    const mappingFor = (queueId: string) =>
      resourcesOfType(built.template, 'AWS::Lambda::EventSourceMapping').find(
        ([, props]) =>
          JSON.stringify(props.EventSourceArn) ===
          JSON.stringify({ 'Fn::GetAtt': [queueId, 'Arn'] }),
      )?.[1];

    // Assess
    expect(mappingFor(callbackQueueId)).toMatchObject({
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
    });
    expect(mappingFor(continuationQueueId)?.BatchSize).toBeLessThanOrEqual(10);
    expect(mappingFor(continuationQueueId)?.MaximumBatchingWindowInSeconds).toBeUndefined();
  });

  it('caps the judge concurrency from context for provider rate limits', () => {
    // Prepare
    const throttled = buildTestStack({ context: { judgeMaxConcurrency: '3' } });
    const judgeId = functionLogicalId(throttled.template, PREFIX, 'judge');

    // Act
    const act = () =>
      throttled.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: judgeId },
        ScalingConfig: { MaximumConcurrency: 3 },
      });

    // Assess
    expect(act).not.toThrow();
  });
});

describe('HTTP API', () => {
  it('routes every batch and admin path of the contract to its function with IAM auth', () => {
    // Prepare
    const contract: Record<string, string> = {
      'POST /batches': 'create-batch',
      'POST /batches/{id}/essays': 'add-essays',
      'POST /batches/{id}/start': 'start-batch',
      'GET /batches': 'list-batches',
      'GET /batches/{id}': 'get-batch',
      'GET /batches/{id}/results': 'get-results',
      'GET /batches/{id}/waves': 'get-waves',
      'POST /batches/{id}/cancel': 'cancel-batch',
      'GET /admin/mock-mode': 'admin-mock-mode',
    };
    const integrations = Object.fromEntries(
      resourcesOfType(built.template, 'AWS::ApiGatewayV2::Integration'),
    );

    // Act
    const routes = resourcesOfType(built.template, 'AWS::ApiGatewayV2::Route');

    // Assess
    expect(routes.map(([, props]) => props.RouteKey).sort()).toEqual(Object.keys(contract).sort());
    for (const [routeKey, functionName] of Object.entries(contract)) {
      const route = routes.find(([, props]) => props.RouteKey === routeKey)?.[1] ?? {};
      expect(route.AuthorizationType, routeKey).toBe('AWS_IAM');
      const target = (route.Target as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      const integration = integrations[(target[1] as { Ref: string }).Ref];
      expect(integration, routeKey).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: {
          'Fn::GetAtt': [functionLogicalId(built.template, PREFIX, functionName), 'Arn'],
        },
      });
    }
  });

  it('logs every request to an access log group', () => {
    // Prepare
    const stages = resourcesOfType(built.template, 'AWS::ApiGatewayV2::Stage');

    // Act
    const [stage] = stages;

    // Assess
    expect(stages).toHaveLength(1);
    expect(stage?.[1]).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } },
    });
  });
});

describe('API throttling', () => {
  const throttleOf = (template: TestStack['template']) => {
    const [stage] = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage');
    return (stage?.[1].DefaultRouteSettings ?? {}) as Record<string, unknown>;
  };

  it('throttles every route of the stage at the config defaults', () => {
    // Act
    const throttle = throttleOf(built.template);

    // Assess
    expect(throttle).toMatchObject({
      ThrottlingRateLimit: DEFAULT_CONFIG.API_RATE_LIMIT_PER_SECOND,
      ThrottlingBurstLimit: DEFAULT_CONFIG.API_BURST_LIMIT,
    });
  });

  it(
    'takes the rate and burst from -c apiRateLimit and -c apiBurstLimit',
    () => {
      // Prepare
      const custom = buildTestStack({ context: { apiRateLimit: '7', apiBurstLimit: 11 } });

      // Act
      const throttle = throttleOf(custom.template);

      // Assess
      expect(throttle).toMatchObject({ ThrottlingRateLimit: 7, ThrottlingBurstLimit: 11 });
    },
    SYNTH_TIMEOUT_MS,
  );
});

describe('schedule and events', () => {
  it('runs the sweeper every minute', () => {
    // Prepare
    const sweeperId = functionLogicalId(built.template, PREFIX, 'sweeper');

    // Act
    const act = () =>
      built.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [sweeperId, 'Arn'] } })],
      });

    // Assess
    expect(act).not.toThrow();
  });

  it('lets a provider batch claim outlive any run of the provider-batches step', () => {
    // Prepare
    const functionId = functionLogicalId(built.template, PREFIX, 'provider-batches');

    // Act
    const timeout = Number(
      (built.template.toJSON().Resources[functionId].Properties as { Timeout: number }).Timeout,
    );

    // Assess: a lapsed claim must prove its run (and that run's last provider call) is over
    expect(DEFAULT_CONFIG.PROVIDER_BATCH_LEASE_SECONDS).toBeGreaterThan(
      timeout + DEFAULT_CONFIG.PROVIDER_BATCH_HTTP_TIMEOUT_MS / 1000,
    );
  });

  it('runs the provider-batches step every minute', () => {
    // Prepare
    const functionId = functionLogicalId(built.template, PREFIX, 'provider-batches');

    // Act
    const act = () =>
      built.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId, 'Arn'] } })],
      });

    // Assess
    expect(act).not.toThrow();
  });

  it('creates a named event bus for completion and failure events', () => {
    // Prepare
    const expected = { Name: `${PREFIX}-events` };

    // Act
    const act = () => built.template.hasResourceProperties('AWS::Events::EventBus', expected);

    // Assess
    expect(act).not.toThrow();
  });
});

describe('outputs', () => {
  it('exports the names the CLI and the local cloud read', () => {
    // Prepare
    const expected = [
      'ApiUrl',
      'CallbackQueueUrl',
      'ComparisonQueueUrl',
      'ContinuationQueueUrl',
      'DashboardName',
      'EventBusName',
      'TableName',
    ];

    // Act
    const outputs = Object.keys(built.template.toJSON().Outputs as Record<string, unknown>);

    // Assess
    expect(outputs.sort()).toEqual(expected);
  });
});
