import { describe, expect, it } from 'vitest';
import { LAMBDA_SERVICE_PRINCIPAL, localTrustPolicy } from '#localstack/local-cloud/iam.ts';
import { functionDefinitions } from '#localstack/local-cloud/local-cloud.ts';
import { TemplateResolver } from '#localstack/local-cloud/template.ts';
import {
  FIXTURE_ASSETS,
  fixtureTemplate,
  localContext,
} from '#test/helpers/local-cloud-fixtures.ts';

const LAMBDA_STAND_IN = 'arn:aws:iam::123456789012:user/cj-local-lambda-service';

describe('roles from the template', () => {
  it('names an unnamed role <stack>-<logicalId> and gives a function its role ARN', () => {
    // Prepare
    const resolver = new TemplateResolver(fixtureTemplate(), localContext());

    // Act
    const [worker] = functionDefinitions(resolver, {
      assetDir: FIXTURE_ASSETS,
      endpoint: 'http://127.0.0.1:4999',
      region: 'eu-north-1',
      stackName: 'LocalFixture',
      extraEnv: {},
      log: () => {},
    });

    // Assess
    expect(resolver.ref('WorkerFunctionRole')).toBe('LocalFixture-WorkerFunctionRole');
    expect(worker?.roleArn).toBe('arn:aws:iam::123456789012:role/LocalFixture-WorkerFunctionRole');
    // Credentials come per instance from the role, never from the host or a fixed key.
    expect(worker?.environment.AWS_ACCESS_KEY_ID).toBeUndefined();
  });

  it('lets the Lambda stand-in assume a role that trusts Lambda, and no one else in its place', () => {
    // Prepare
    const trust = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: LAMBDA_SERVICE_PRINCIPAL },
        },
        { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'ec2.amazonaws.com' } },
      ],
    };

    // Act
    const local = localTrustPolicy(trust, LAMBDA_STAND_IN);

    // Assess
    expect(local.Statement).toEqual([
      { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: LAMBDA_STAND_IN } },
      { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'ec2.amazonaws.com' } },
    ]);
  });
});
