import { describe, expect, it } from 'vitest';
import {
  functionDefinitions,
  mappingDefinitions,
  resolveOutputs,
  shortFunctionName,
} from '#localstack/local-cloud/local-cloud.ts';
import type { LocalQueue } from '#localstack/local-cloud/resources.ts';
import { scheduleIntervalSeconds } from '#localstack/local-cloud/scheduler.ts';
import { localSetting } from '#localstack/local-cloud/settings.ts';
import {
  type Template,
  TemplateResolutionError,
  TemplateResolver,
} from '#localstack/local-cloud/template.ts';
import {
  FIXTURE_ASSETS,
  fixtureTemplate,
  localContext,
} from '#test/helpers/local-cloud-fixtures.ts';

function resolverFor(template: Template = fixtureTemplate()) {
  return new TemplateResolver(template, localContext());
}

describe('TemplateResolver', () => {
  it('resolves a queue Ref to its local URL and its attributes to the local name and ARN', () => {
    // Prepare
    const resolver = resolverFor();

    // Act
    const url = resolver.ref('WorkQueue');
    const name = resolver.getAtt('WorkQueue', 'QueueName');
    const arn = resolver.getAtt('OrderedQueue', 'Arn');

    // Assess
    expect(url).toBe('http://127.0.0.1:4999/123456789012/fixture-work');
    expect(name).toBe('fixture-work');
    expect(arn).toBe('arn:aws:sqs:eu-north-1:123456789012:fixture-ordered.fifo');
  });

  it("resolves a function's environment: Ref, GetAtt, Join and Sub of tables, queues and buses", () => {
    // Prepare
    const resolver = resolverFor();

    // Act
    const props = resolver.properties('WorkerFunction');
    const variables = (props.Environment as { Variables: Record<string, string> }).Variables;

    // Assess
    expect(variables).toEqual({
      TABLE_NAME: 'local-fixture-table',
      WORK_QUEUE_URL: 'http://127.0.0.1:4999/123456789012/fixture-work',
      WORK_QUEUE_NAME: 'fixture-work',
      EVENT_BUS_NAME: 'LocalFixture-bus',
      ORDERED_QUEUE_ARN: 'arn:aws:sqs:eu-north-1:123456789012:fixture-ordered.fifo',
      JOINED: 'eu-north-1:123456789012:x',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub's ${!x} escape yields a literal ${x}
      SUBSTITUTED: 'fixture-work|eu-north-1|local-fixture-table|${Literal}',
      POWERTOOLS_SERVICE_NAME: 'fixture',
    });
  });

  it('resolves Fn::Sub with its own variables and a resource attribute', () => {
    // Prepare
    const resolver = resolverFor();

    // Act
    const props = resolver.properties('EchoApiFunction1A2B3C4D');
    const variables = (props.Environment as { Variables: Record<string, string> }).Variables;

    // Assess
    expect(variables.SUBSTITUTED).toBe(
      'fixture-work/arn:aws:events:eu-north-1:123456789012:event-bus/LocalFixture-bus',
    );
  });

  it('names resources without an explicit name <stack>-<logicalId>, FIFO names ending .fifo', () => {
    // Prepare
    const template: Template = {
      Resources: {
        Plain: { Type: 'AWS::SQS::Queue', Properties: {} },
        Ordered: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } },
        Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      },
    };
    const resolver = resolverFor(template);

    // Act
    const names = [
      resolver.getAtt('Plain', 'QueueName'),
      resolver.getAtt('Ordered', 'QueueName'),
      resolver.ref('Table'),
    ];

    // Assess
    expect(names).toEqual([
      'LocalFixture-Plain',
      'LocalFixture-Ordered.fifo',
      'LocalFixture-Table',
    ]);
  });

  it('evaluates Select, Split, If with conditions, and drops AWS::NoValue', () => {
    // Prepare
    const template: Template = {
      Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] } },
      Parameters: { Stage: { Default: 'dev' } },
      Resources: {},
    };
    const resolver = resolverFor(template);

    // Act
    const value = resolver.resolve({
      picked: { 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] },
      branch: { 'Fn::If': ['IsProd', 'retain', 'destroy'] },
      gone: { Ref: 'AWS::NoValue' },
      list: ['x', { Ref: 'AWS::NoValue' }, { Ref: 'AWS::StackName' }],
    });

    // Assess
    expect(value).toEqual({ picked: 'b', branch: 'destroy', list: ['x', 'LocalFixture'] });
  });

  it('fails with a clear error for an attribute or function it cannot resolve', () => {
    // Prepare
    const resolver = resolverFor();

    // Act
    const unknownAttribute = () => resolver.getAtt('WorkQueue', 'NoSuchAttribute');
    const unknownFunction = () => resolver.resolve({ 'Fn::ImportValue': 'shared-thing' });
    const unknownResource = () => resolver.ref('Missing');

    // Assess
    expect(unknownAttribute).toThrow(TemplateResolutionError);
    expect(unknownAttribute).toThrow(/WorkQueue\.NoSuchAttribute/);
    expect(unknownFunction).toThrow(/Fn::ImportValue is not supported/);
    expect(unknownResource).toThrow(/unknown resource Missing/);
  });

  it('resolves the outputs, pointing the execute-api URL at the local HTTP API', () => {
    // Prepare
    const template = fixtureTemplate();
    const resolver = resolverFor(template);

    // Act
    const outputs = resolveOutputs(resolver, template, 'http://127.0.0.1:4998/');

    // Assess
    expect(outputs).toEqual({
      ApiUrl: 'http://127.0.0.1:4998/',
      TableName: 'local-fixture-table',
      WorkQueueUrl: 'http://127.0.0.1:4999/123456789012/fixture-work',
      EventBusName: 'LocalFixture-bus',
      DashboardName: 'fixture-dashboard',
    });
  });
});

describe('shortFunctionName', () => {
  it.each([
    ['CjEngine-dev-create-batch', 'CjEngine-dev', undefined, 'create-batch'],
    ['CjEngine-dev-judge', 'CjEngine-dev', 'CjEngine-dev/Judge/Function/Resource', 'judge'],
    ['X-EchoApiFunction1A2B', 'X', 'X/EchoApi/Function/Resource', 'echo-api'],
    ['X-AdminMockModeFn', 'X', 'X/AdminMockModeFunction/Resource', 'admin-mock-mode'],
  ])('names %s after its contract name', (physical, stack, path, expected) => {
    // Act
    const short = shortFunctionName(physical, stack, path);

    // Assess
    expect(short).toBe(expected);
  });
});

describe('schedules and settings', () => {
  it.each([
    ['rate(1 minute)', 60],
    ['rate(5 minutes)', 300],
    ['rate(2 hours)', 7_200],
    ['cron(0/5 * * * ? *)', 60],
  ])('runs %s every %i s', (expression, seconds) => {
    // Act
    const interval = scheduleIntervalSeconds(expression);

    // Assess
    expect(interval).toBe(seconds);
  });

  it('rejects a schedule expression it does not understand', () => {
    // Act
    const parse = () => scheduleIntervalSeconds('every minute');

    // Assess
    expect(parse).toThrow(/unsupported schedule expression/);
  });

  it('reads CJ_LOCAL_SCHEDULE_INTERVAL_S and rejects a non-number', () => {
    // Act
    const overridden = localSetting('scheduleIntervalOverrideSeconds', {
      CJ_LOCAL_SCHEDULE_INTERVAL_S: '2',
    });
    const unset = localSetting('scheduleIntervalOverrideSeconds', {});
    const invalid = () =>
      localSetting('scheduleIntervalOverrideSeconds', { CJ_LOCAL_SCHEDULE_INTERVAL_S: 'soon' });

    // Assess
    expect(overridden).toBe(2);
    expect(unset).toBe(0);
    expect(invalid).toThrow(/CJ_LOCAL_SCHEDULE_INTERVAL_S/);
  });
});

describe('functions and event source mappings from the template', () => {
  function definitions(template: Template = fixtureTemplate()) {
    const resolver = resolverFor(template);
    const functions = functionDefinitions(resolver, {
      assetDir: FIXTURE_ASSETS,
      endpoint: 'http://127.0.0.1:4999',
      region: 'eu-north-1',
      stackName: 'LocalFixture',
      extraEnv: { EXTRA: '1' },
      log: () => {},
    });
    const queues: LocalQueue[] = ['WorkQueue', 'OrderedQueue'].map((logicalId) => ({
      logicalId,
      name: resolver.getAtt(logicalId, 'QueueName'),
      url: resolver.ref(logicalId),
      arn: resolver.getAtt(logicalId, 'Arn'),
      fifo: logicalId === 'OrderedQueue',
      visibilityTimeoutSeconds: Number(
        template.Resources[logicalId]?.Properties?.VisibilityTimeout ?? 30,
      ),
    }));
    return { resolver, functions, queues };
  }

  it('keeps the functions with a bundle, with their limits and Lambda environment', () => {
    // Act
    const { functions } = definitions();
    const worker = functions.find((fn) => fn.shortName === 'worker');
    const ordered = functions.find((fn) => fn.shortName === 'ordered');

    // Assess
    expect(functions.map((fn) => fn.shortName)).toEqual(['worker', 'ordered', 'echo-api', 'tick']);
    expect(worker).toMatchObject({ timeoutSeconds: 2, memoryMb: 256, maxInstances: 4 });
    expect(worker?.environment).toMatchObject({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4999',
      AWS_LAMBDA_FUNCTION_NAME: 'LocalFixture-worker',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      TABLE_NAME: 'local-fixture-table',
      EXTRA: '1',
    });
    expect(ordered?.maxInstances).toBe(1);
  });

  it("reads each mapping's batch size, window, response types and concurrency", () => {
    // Prepare
    const { resolver, functions, queues } = definitions();

    // Act
    const mappings = mappingDefinitions(resolver, queues, functions);

    // Assess
    expect(
      mappings.map(
        ({
          logicalId,
          batchSize,
          batchingWindowSeconds,
          reportBatchItemFailures,
          concurrency,
        }) => ({
          logicalId,
          batchSize,
          batchingWindowSeconds,
          reportBatchItemFailures,
          concurrency,
        }),
      ),
    ).toEqual([
      {
        logicalId: 'WorkerMapping',
        batchSize: 5,
        batchingWindowSeconds: 0,
        reportBatchItemFailures: true,
        concurrency: 2,
      },
      {
        logicalId: 'OrderedMapping',
        batchSize: 10,
        batchingWindowSeconds: 0,
        reportBatchItemFailures: true,
        concurrency: 1,
      },
    ]);
  });

  it('refuses a mapping whose queue visibility timeout is shorter than the function timeout, as Lambda does', () => {
    // Prepare
    const template = fixtureTemplate();
    const worker = template.Resources.WorkerFunction?.Properties as Record<string, unknown>;
    worker.Timeout = 30;
    const { resolver, functions, queues } = definitions(template);

    // Act
    const build = () => mappingDefinitions(resolver, queues, functions);

    // Assess
    expect(build).toThrow(
      /WorkerMapping: queue fixture-work visibility timeout \(2 s\) is shorter than the timeout of LocalFixture-worker \(30 s\)/,
    );
  });
});
