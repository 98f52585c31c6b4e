/**
 * `CJ_TARGET=localstack`: the stack is deployed into a LocalStack container (see
 * localstack/README.md); nothing is started locally, the outputs come from the deployed stack.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { localSetting } from './settings.ts';

export const LOCALSTACK_DEFAULT_ENDPOINT = 'http://localhost:4566';

export function isLocalStackTarget(
  env: Readonly<Record<string, string | undefined>> = process.env,
) {
  return env.CJ_TARGET === 'localstack';
}

/** LocalStack accepts any credentials (it enforces IAM its own way); these keep real ones away. */
export const LOCALSTACK_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

export interface LocalStackInfo {
  apiUrl: string;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  outputs: Record<string, string>;
}

/** Reads the outputs of `CjEngine-<stage>` from LocalStack's CloudFormation. */
export async function localStackInfo(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<LocalStackInfo> {
  const endpoint = env.LOCALSTACK_ENDPOINT ?? env.AWS_ENDPOINT_URL ?? LOCALSTACK_DEFAULT_ENDPOINT;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? localSetting('region', env);
  const stackName = `CjEngine-${localSetting('stage', env)}`;
  const client = new CloudFormationClient({
    endpoint,
    region,
    // A copy: the SDK marks the credentials object it is given.
    credentials: { ...LOCALSTACK_CREDENTIALS },
  });
  try {
    const response = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = response.Stacks?.[0];
    if (!stack) throw new Error(`stack ${stackName} is not deployed in LocalStack at ${endpoint}`);
    const outputs: Record<string, string> = {};
    for (const output of stack.Outputs ?? []) {
      if (output.OutputKey && output.OutputValue !== undefined) {
        outputs[output.OutputKey] = output.OutputValue;
      }
    }
    const apiUrl = outputs.ApiUrl;
    if (!apiUrl) throw new Error(`stack ${stackName} has no ApiUrl output`);
    return { apiUrl, endpoint, credentials: { ...LOCALSTACK_CREDENTIALS }, region, outputs };
  } finally {
    client.destroy();
  }
}
