import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { localClientConfig } from '#localstack/local-cloud/iam.ts';
import { type MotoServer, startMotoServer } from '#localstack/local-cloud/moto-server.ts';
import { ensureLocalCloud } from '#test/helpers/local-cloud.ts';

// Real servers and redelivery after visibility timeouts: slower than pure unit tests on a busy machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 90_000 });

// moto's CloudFormation stands in for LocalStack's: the helper only reads a deployed stack's outputs.
let moto: MotoServer;

beforeAll(async () => {
  // moto stands in for LocalStack, which accepts any credentials: no IAM here.
  moto = await startMotoServer({ iam: false });
  const cloudformation = new CloudFormationClient(
    localClientConfig(moto.endpoint, 'us-east-1', moto.credentials),
  );
  await cloudformation.send(
    new CreateStackCommand({
      StackName: 'CjEngine-qa',
      TemplateBody: JSON.stringify({
        Resources: {
          Table: {
            Type: 'AWS::DynamoDB::Table',
            Properties: {
              TableName: 'deployed-table',
              KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
              AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
              BillingMode: 'PAY_PER_REQUEST',
            },
          },
        },
        Outputs: {
          ApiUrl: { Value: 'https://abc.execute-api.localhost.localstack.cloud:4566/' },
          TableName: { Value: { Ref: 'Table' } },
        },
      }),
    }),
  );
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

describe('ensureLocalCloud with CJ_TARGET=localstack', () => {
  it("returns the deployed stack's outputs and starts nothing", async () => {
    // Prepare
    const env = {
      CJ_TARGET: 'localstack',
      LOCALSTACK_ENDPOINT: moto.endpoint,
      CJ_STAGE: 'qa',
      AWS_REGION: 'us-east-1',
    };

    // Act
    const cloud = await ensureLocalCloud(env);

    // Assess
    expect(cloud).toEqual({
      target: 'localstack',
      apiUrl: 'https://abc.execute-api.localhost.localstack.cloud:4566/',
      endpoint: moto.endpoint,
      // LocalStack enforces IAM its own way: the local cloud's admin keys play no part here.
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      region: 'us-east-1',
      outputs: {
        ApiUrl: 'https://abc.execute-api.localhost.localstack.cloud:4566/',
        TableName: 'deployed-table',
      },
      startedHere: false,
    });
  });

  it('fails naming the stack when it is not deployed', async () => {
    // Prepare
    const env = { CJ_TARGET: 'localstack', LOCALSTACK_ENDPOINT: moto.endpoint, CJ_STAGE: 'nope' };

    // Act
    const lookup = ensureLocalCloud(env);

    // Assess
    await expect(lookup).rejects.toThrow(/CjEngine-nope/);
  });
});
