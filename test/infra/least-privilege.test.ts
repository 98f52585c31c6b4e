import { beforeAll, describe, expect, it } from 'vitest';
import {
  actionsOf,
  allowedActionsOfFunction,
  buildTestStack,
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
    context: { allowedProviders: 'mock,openai', providerSecrets: 'openai=cj/openai-api-key' },
  });
}, SYNTH_TIMEOUT_MS);

function allStatements() {
  return resourcesOfType(built.template, 'AWS::IAM::Policy').flatMap(
    ([, props]) =>
      (props.PolicyDocument as { Statement: Array<{ Action: string | string[] }> }).Statement,
  );
}

describe('least privilege', () => {
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

  it('lets the judge read essays and send callbacks but never write the table', () => {
    // Prepare
    const expectedTable = ['dynamodb:BatchGetItem', 'dynamodb:GetItem'];

    // Act
    const actions = allowedActionsOfFunction(built.template, PREFIX, 'judge');

    // Assess
    expect([...actions].filter((action) => action.startsWith('dynamodb:')).sort()).toEqual(
      expectedTable,
    );
    for (const write of TABLE_WRITES) expect(actions.has(write), write).toBe(false);
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

  it('lets the sweeper query only the two indexes, never the whole table', () => {
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
    expect(queried[0]).toContain('/index/pending-by-deadline"');
    expect(queried[1]).toContain('/index/active-batches"');
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

  it('lets only the judge read the provider secrets', () => {
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
    expect(readers).toEqual(['judge']);
    expect(JSON.stringify(secretStatement?.Resource)).toContain(':secret:cj/openai-api-key-??????');
  });

  it('gives the read-only HTTP functions read actions only', () => {
    // Prepare
    const readOnly = ['get-batch', 'get-results', 'admin-mock-mode'];

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
