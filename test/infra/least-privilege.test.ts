import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '#infra/functions.ts';
import { type GrantTarget, grantsOf } from '#infra/grants.ts';
import {
  actionsOf,
  allowedActionsOfFunction,
  buildTestStack,
  functionLogicalId,
  resourcesOfType,
  SYNTH_TIMEOUT_MS,
  statementsOfFunction,
  type TestStack,
} from '#test/helpers/cdk-stack.ts';

const PREFIX = 'CjEngine-test';
/** Actions through which a function could change the batch counters (alone or in a transaction). */
const TABLE_WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];

let built: TestStack;
beforeAll(() => {
  built = buildTestStack({
    context: {
      allowedProviders: 'mock,openai,openai-compatible',
      providerSecrets: 'openai=cj/openai-api-key',
      judgeEndpoints:
        'local-llama=https://llm.internal.example/v1,spare=https://spare.example/v1,lab=https://lab.example/v1',
      // `spare` has no key: it is called with none.
      judgeEndpointSecrets: 'local-llama=cj/llama-api-key,lab=cj/lab-api-key',
      // lab and spare speak the OpenAI Batch API; local-llama does not.
      judgeBatchEndpoints: 'lab,spare',
    },
  });
}, SYNTH_TIMEOUT_MS);

/** A grant target as a label: the same label the template's resource reference gets. */
function targetLabel(target: GrantTarget, functionName: string): string[] {
  switch (target.kind) {
    case 'table':
      return ['table'];
    case 'index':
      return [`table/index/${target.index}`];
    case 'queue':
      return [`queue ${target.queue}`];
    case 'event-bus':
      return ['event-bus'];
    case 'provider-secrets':
      return ['secret cj/openai-api-key'];
    case 'endpoint-secrets':
      return ['secret cj/llama-api-key', 'secret cj/lab-api-key'];
    case 'batch-endpoint-secrets':
      return ['secret cj/lab-api-key'];
    case 'log-group':
      return [`log-group /aws/lambda/${PREFIX}-${functionName}`];
  }
}

/** The template's resource reference of a statement as a label (`unknown …` when unrecognized). */
function resourceLabel(resource: unknown): string {
  const text = JSON.stringify(resource);
  const getAtt = (resource as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  const props = getAtt ? resourceProps(getAtt[0]) : undefined;
  if (getAtt && getAtt[1] === 'Arn' && props) {
    const type = props.type;
    if (type === 'AWS::DynamoDB::Table') return 'table';
    if (type === 'AWS::Events::EventBus') return 'event-bus';
    if (type === 'AWS::Logs::LogGroup') return `log-group ${String(props.props.LogGroupName)}`;
    if (type === 'AWS::SQS::Queue') {
      const name = String(props.props.QueueName).slice(PREFIX.length + 1);
      const queue = { 'comparison-requests': 'comparison', callbacks: 'callback' }[name] ?? name;
      return `queue ${queue.replace(/\.fifo$/, '')}`;
    }
  }
  const index = /"Fn::GetAtt":\["(\w+)","Arn"\]},"\/index\/([\w-]+)"/.exec(text);
  if (index?.[1] && resourceProps(index[1])?.type === 'AWS::DynamoDB::Table') {
    return `table/index/${index[2]}`;
  }
  const secret = /:secret:([\w/+=.@-]+)-\?{6}"/.exec(text);
  if (secret) return `secret ${secret[1]}`;
  return `unknown ${text}`;
}

function resourceProps(
  logicalId: string,
): { type: string; props: Record<string, unknown> } | undefined {
  const resource = (
    built.template.toJSON().Resources as Record<
      string,
      { Type: string; Properties?: Record<string, unknown> }
    >
  )[logicalId];
  return resource ? { type: resource.Type, props: resource.Properties ?? {} } : undefined;
}

function allStatements() {
  return resourcesOfType(built.template, 'AWS::IAM::Policy').flatMap(
    ([, props]) =>
      (props.PolicyDocument as { Statement: Array<{ Action: string | string[] }> }).Statement,
  );
}

describe('least privilege', () => {
  it.each(FUNCTIONS.map((spec) => [spec.name, spec] as const))(
    'grants %s exactly what its row in FUNCTIONS declares, and nothing else',
    (name, spec) => {
      // Prepare
      const expected = grantsOf(spec).flatMap((grant) =>
        targetLabel(grant.on, name).flatMap((label) =>
          grant.actions.map((action) => `${action} on ${label}`),
        ),
      );

      // Act
      const granted = statementsOfFunction(built.template, PREFIX, name).flatMap((statement) =>
        (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).flatMap(
          (resource) =>
            actionsOf(statement).map(
              (action) =>
                `${statement.Effect === 'Allow' ? '' : 'DENY '}${action} on ${resourceLabel(resource)}`,
            ),
        ),
      );

      // Assess
      expect([...new Set(granted)].sort()).toEqual([...new Set(expected)].sort());
    },
  );

  it('grants nothing on Resource "*" and no service-wide action', () => {
    // Prepare
    const statements = allStatements() as Array<{ Action: string | string[]; Resource: unknown }>;

    // Act
    const starred = statements.filter(
      (statement) =>
        statement.Resource === '*' ||
        (Array.isArray(statement.Resource) && statement.Resource.includes('*')),
    );
    const serviceWide = statements
      .flatMap((statement) => actionsOf(statement as Parameters<typeof actionsOf>[0]))
      .filter((action) => /:\*$/.test(action) || action === '*');

    // Assess
    expect(statements.length).toBeGreaterThan(0);
    expect(starred).toEqual([]);
    expect(serviceWide).toEqual([]);
  });

  it('grants no wildcard action anywhere', () => {
    // Prepare
    const statements = allStatements();

    // Act
    const wildcards = statements
      .flatMap((statement) => actionsOf(statement as Parameters<typeof actionsOf>[0]))
      .filter((action) => action.includes('*'));

    // Assess
    expect(statements.length).toBeGreaterThan(0);
    expect(wildcards).toEqual([]);
  });

  it('attaches no AWS managed policy to any role', () => {
    // Prepare
    const roles = resourcesOfType(built.template, 'AWS::IAM::Role');

    // Act
    const withManaged = roles.filter(([, props]) => props.ManagedPolicyArns !== undefined);

    // Assess
    expect(roles.length).toBeGreaterThanOrEqual(11);
    expect(withManaged).toEqual([]);
  });

  it('lets the judge read essays, keep the rate limiter item and send callbacks, and never update or delete', () => {
    // Prepare: GetItem + PutItem are the shared rate limiter's (RATE#<provider>)
    const expectedTable = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem'];

    // Act
    const actions = allowedActionsOfFunction(built.template, PREFIX, 'judge');

    // Assess
    expect([...actions].filter((action) => action.startsWith('dynamodb:')).sort()).toEqual(
      expectedTable,
    );
    for (const write of TABLE_WRITES.filter((action) => action !== 'dynamodb:PutItem')) {
      expect(actions.has(write), write).toBe(false);
    }
    expect(actions.has('sqs:SendMessage')).toBe(true);
  });

  it('lets the callback function update counters and trigger the continuation only', () => {
    // Prepare
    const continuationQueue = resourcesOfType(built.template, 'AWS::SQS::Queue').find(
      ([, props]) => props.QueueName === `${PREFIX}-continuation.fifo`,
    );

    // Act
    const statements = statementsOfFunction(built.template, PREFIX, 'callback');
    const sends = statements.filter((statement) =>
      actionsOf(statement).includes('sqs:SendMessage'),
    );

    // Assess
    expect(allowedActionsOfFunction(built.template, PREFIX, 'callback')).toContain(
      'dynamodb:UpdateItem',
    );
    expect(sends.map((statement) => statement.Resource)).toEqual([
      { 'Fn::GetAtt': [continuationQueue?.[0], 'Arn'] },
    ]);
  });

  it('lets the provider-batches step read essays, move its parts and send callbacks only', () => {
    // Prepare
    const callbackQueue = resourcesOfType(built.template, 'AWS::SQS::Queue').find(
      ([, props]) => props.QueueName === `${PREFIX}-callbacks`,
    );
    const statements = statementsOfFunction(built.template, PREFIX, 'provider-batches');

    // Act
    const actions = allowedActionsOfFunction(built.template, PREFIX, 'provider-batches');
    const tableActions = [...actions].filter((action) => action.startsWith('dynamodb:')).sort();
    const queried = statements
      .filter((statement) => JSON.stringify(statement.Resource).includes('/index/'))
      .map((statement) => JSON.stringify(statement.Resource));
    const sends = statements.filter((statement) =>
      actionsOf(statement).includes('sqs:SendMessage'),
    );

    // Assess
    expect(tableActions).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(actions.has('dynamodb:DeleteItem')).toBe(false);
    expect(actions.has('dynamodb:BatchWriteItem')).toBe(false);
    expect(queried).toHaveLength(1);
    expect(queried[0]).toContain('/index/active-batches"');
    expect(sends.map((statement) => statement.Resource)).toEqual([
      { 'Fn::GetAtt': [callbackQueue?.[0], 'Arn'] },
    ]);
  });

  it('lets only the continuation and cancel publish outcome events', () => {
    // Prepare
    const functionNames = resourcesOfType(built.template, 'AWS::Lambda::Function').map(
      ([, props]) => String(props.FunctionName).slice(PREFIX.length + 1),
    );

    // Act
    const publishers = functionNames.filter((name) =>
      allowedActionsOfFunction(built.template, PREFIX, name).has('events:PutEvents'),
    );

    // Assess
    expect(publishers.sort()).toEqual(['cancel-batch', 'continuation']);
  });

  it('lets the sweeper query the table (a wave of an overdue batch) and the active index only', () => {
    // Prepare
    const statements = statementsOfFunction(built.template, PREFIX, 'sweeper');

    // Act
    const queried = statements
      .filter((statement) => actionsOf(statement).includes('dynamodb:Query'))
      .flatMap((statement) =>
        Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource],
      )
      .map((resource) => JSON.stringify(resource));

    // Assess
    expect(queried).toHaveLength(2);
    expect(queried[0]).not.toContain('/index/');
    expect(queried[1]).toContain('/index/active-batches"');
  });

  it('lets list-batches query only the two batch indexes and read META items, nothing else', () => {
    // Prepare
    const statements = statementsOfFunction(built.template, PREFIX, 'list-batches');

    // Act
    const actions = [...allowedActionsOfFunction(built.template, PREFIX, 'list-batches')]
      .filter((action) => action.startsWith('dynamodb:'))
      .sort();
    const queried = statements
      .filter((statement) => actionsOf(statement).includes('dynamodb:Query'))
      .flatMap((statement) =>
        Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource],
      )
      .map((resource) => JSON.stringify(resource));
    const others = [...allowedActionsOfFunction(built.template, PREFIX, 'list-batches')].filter(
      (action) => !action.startsWith('dynamodb:') && !action.startsWith('logs:'),
    );

    // Assess
    expect(actions).toEqual(['dynamodb:BatchGetItem', 'dynamodb:Query']);
    expect(queried).toHaveLength(2);
    expect(queried[0]).toContain('/index/batches-by-owner"');
    expect(queried[1]).toContain('/index/batches-by-created"');
    expect(others).toEqual([]);
  });

  it('give no function the CloudWatch API: metrics go out as embedded-metric log lines', () => {
    // Prepare
    const statements = allStatements();

    // Act
    const cloudWatch = statements
      .flatMap((statement) => actionsOf(statement as Parameters<typeof actionsOf>[0]))
      .filter((action) => action.startsWith('cloudwatch:'));

    // Assess
    expect(cloudWatch).toEqual([]);
  });

  it('lets only the functions that call a provider (judge, provider-batches) read its secrets', () => {
    // Prepare
    const functionNames = resourcesOfType(built.template, 'AWS::Lambda::Function').map(
      ([, props]) => String(props.FunctionName).slice(PREFIX.length + 1),
    );

    // Act
    const readers = functionNames.filter((name) =>
      allowedActionsOfFunction(built.template, PREFIX, name).has('secretsmanager:GetSecretValue'),
    );
    const secretStatement = statementsOfFunction(built.template, PREFIX, 'judge').find(
      (statement) => actionsOf(statement).includes('secretsmanager:GetSecretValue'),
    );

    // Assess
    expect(readers.sort()).toEqual(['judge', 'provider-batches']);
    expect(JSON.stringify(secretStatement?.Resource)).toContain(':secret:cj/openai-api-key-??????');
    const batchStatement = statementsOfFunction(built.template, PREFIX, 'provider-batches').find(
      (statement) => actionsOf(statement).includes('secretsmanager:GetSecretValue'),
    );
    expect(batchStatement?.Resource).toEqual(secretStatement?.Resource);
  });

  it('lets only the judge read the secret of an endpoint without a batch API, in its own statement', () => {
    // Prepare
    const functionNames = resourcesOfType(built.template, 'AWS::Lambda::Function').map(
      ([, props]) => String(props.FunctionName).slice(PREFIX.length + 1),
    );
    const readsLlamaKey = (name: string) =>
      statementsOfFunction(built.template, PREFIX, name).some(
        (statement) =>
          actionsOf(statement).includes('secretsmanager:GetSecretValue') &&
          JSON.stringify(statement.Resource).includes(':secret:cj/llama-api-key-??????'),
      );

    // Act
    const readers = functionNames.filter(readsLlamaKey);
    const judgeSecretResources = statementsOfFunction(built.template, PREFIX, 'judge')
      .filter((statement) => actionsOf(statement).includes('secretsmanager:GetSecretValue'))
      .map((statement) => JSON.stringify(statement.Resource));

    // Assess: the provider keys and the endpoint key are separate grants, on exact secret names
    expect(readers).toEqual(['judge']);
    expect(judgeSecretResources).toHaveLength(2);
    expect(judgeSecretResources[0]).toContain(':secret:cj/openai-api-key-??????');
    expect(judgeSecretResources[0]).not.toContain('llama');
    expect(judgeSecretResources[1]).toContain(':secret:cj/llama-api-key-??????');
    expect(judgeSecretResources[1]).toContain(':secret:cj/lab-api-key-??????');
    expect(judgeSecretResources[1]).not.toContain('openai');
  });

  it('lets provider-batches read only the secrets of the batch-capable endpoints, and names only those', () => {
    // Prepare
    const envOf = (name: string) =>
      (
        Object.fromEntries(resourcesOfType(built.template, 'AWS::Lambda::Function'))[
          functionLogicalId(built.template, PREFIX, name)
        ]?.Environment as { Variables?: Record<string, unknown> } | undefined
      )?.Variables ?? {};

    // Act
    const batchSecretResources = statementsOfFunction(built.template, PREFIX, 'provider-batches')
      .filter((statement) => actionsOf(statement).includes('secretsmanager:GetSecretValue'))
      .map((statement) => JSON.stringify(statement.Resource));
    const batches = envOf('provider-batches');
    const judge = envOf('judge');
    const create = envOf('create-batch');

    // Assess: the provider key, then lab's key alone (spare has none; local-llama takes no batches)
    expect(batchSecretResources).toHaveLength(2);
    expect(batchSecretResources[0]).toContain(':secret:cj/openai-api-key-??????');
    expect(batchSecretResources[1]).toContain(':secret:cj/lab-api-key-??????');
    expect(batchSecretResources[1]).not.toContain('llama');
    expect(batches.JUDGE_ENDPOINT_SECRET_NAMES).toBe('lab=cj/lab-api-key');
    expect(JSON.parse(String(batches.JUDGE_BATCH_ENDPOINTS))).toEqual(['lab', 'spare']);
    expect(Object.keys(JSON.parse(String(batches.JUDGE_ENDPOINTS))).sort()).toEqual([
      'lab',
      'local-llama',
      'spare',
    ]);
    expect(judge.JUDGE_ENDPOINT_SECRET_NAMES).toBe(
      'local-llama=cj/llama-api-key,lab=cj/lab-api-key',
    );
    expect(JSON.parse(String(create.JUDGE_BATCH_ENDPOINTS))).toEqual(['lab', 'spare']);
  });

  it('gives the read-only HTTP functions read actions only', () => {
    // Prepare
    const readOnly = ['list-batches', 'get-batch', 'get-results', 'get-waves', 'admin-mock-mode'];

    // Act
    const writes = readOnly.flatMap((name) =>
      [...allowedActionsOfFunction(built.template, PREFIX, name)].filter(
        (action) => TABLE_WRITES.includes(action) || action.startsWith('sqs:Send'),
      ),
    );

    // Assess
    expect(writes).toEqual([]);
  });
});
