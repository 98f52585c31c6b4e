/**
 * Where the integration tests run: the local cloud (default; its `.local-cloud/state.json`) or a
 * LocalStack deployment (`CJ_TARGET=localstack`: the stack `CjEngine-<stage>` deployed with the
 * CDK into LocalStack at AWS_ENDPOINT_URL, default http://localhost:4566).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ApiClient } from '#cli/api.ts';
import { localCloudDir } from '#cli/target.ts';

export interface IntegrationTarget {
  kind: 'local' | 'localstack';
  api: ApiClient;
  /** AWS endpoint for SDK clients (moto_server or LocalStack). */
  endpoint: string;
  region: string;
  /** The stack outputs (ApiUrl, TableName, ComparisonQueueUrl, CallbackQueueUrl, ...). */
  outputs: Record<string, string>;
  /** Folder of the function logs (`<function>.log`); only the local cloud writes them. */
  logDir?: string;
}

const LOCALSTACK_DEFAULT_ENDPOINT = 'http://localhost:4566';
const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

interface LocalCloudState {
  apiUrl: string;
  endpoint: string;
  region?: string;
  outputs?: Record<string, string>;
  logDir?: string;
}

let cached: Promise<IntegrationTarget> | undefined;

async function localTarget(): Promise<IntegrationTarget> {
  const dir = localCloudDir(process.env);
  const statePath = join(dir, 'state.json');
  let state: LocalCloudState;
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8')) as LocalCloudState;
  } catch {
    throw new Error(
      `the local cloud is not running (no ${statePath}); run the integration project, whose global setup starts it`,
    );
  }
  return {
    kind: 'local',
    api: new ApiClient({ baseUrl: state.apiUrl }),
    endpoint: state.endpoint,
    region: state.region ?? process.env.AWS_REGION ?? 'us-east-1',
    outputs: state.outputs ?? {},
    logDir: state.logDir ?? join(dir, 'logs'),
  };
}

async function localstackTarget(): Promise<IntegrationTarget> {
  const endpoint = process.env.AWS_ENDPOINT_URL ?? LOCALSTACK_DEFAULT_ENDPOINT;
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const stackName = `CjEngine-${process.env.CJ_STAGE ?? 'dev'}`;
  const cfn = new CloudFormationClient({ endpoint, region, credentials: LOCAL_CREDENTIALS });
  const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs: Record<string, string> = {};
  for (const output of Stacks?.[0]?.Outputs ?? []) {
    if (output.OutputKey && output.OutputValue) outputs[output.OutputKey] = output.OutputValue;
  }
  const apiUrl = process.env.CJ_API_URL ?? outputs.ApiUrl;
  if (!apiUrl) throw new Error(`stack ${stackName} has no ApiUrl output and CJ_API_URL is not set`);
  return { kind: 'localstack', api: new ApiClient({ baseUrl: apiUrl }), endpoint, region, outputs };
}

export function integrationTarget(): Promise<IntegrationTarget> {
  cached ??= process.env.CJ_TARGET === 'localstack' ? localstackTarget() : localTarget();
  return cached;
}

export function sqsClient(target: IntegrationTarget): SQSClient {
  return new SQSClient({
    endpoint: target.endpoint,
    region: target.region,
    credentials: LOCAL_CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
}

export function output(target: IntegrationTarget, name: string): string {
  const value = target.outputs[name];
  if (!value)
    throw new Error(
      `stack output ${name} is missing (have: ${Object.keys(target.outputs).join(', ')})`,
    );
  return value;
}

/** The URL of a queue's dead-letter queue, from its redrive policy. */
export async function deadLetterQueueUrl(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  const policy = JSON.parse(Attributes?.RedrivePolicy ?? '{}') as { deadLetterTargetArn?: string };
  const name = policy.deadLetterTargetArn?.split(':').pop();
  if (!name) throw new Error(`${queueUrl} has no redrive policy`);
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`dead-letter queue ${name} not found`);
  return QueueUrl;
}

/** The JSON log lines of one function (`<logDir>/<function>.log`) matching `message`. */
export function functionLogLines(
  target: IntegrationTarget,
  functionName: string,
  message: string,
): Array<Record<string, unknown>> {
  if (!target.logDir) {
    throw new Error(`function logs are read from the local cloud only (target ${target.kind})`);
  }
  let text = '';
  try {
    text = readFileSync(join(target.logDir, `${functionName}.log`), 'utf8');
  } catch {
    return [];
  }
  const lines: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.message === message) lines.push(parsed);
    } catch {
      // A line cut by a concurrent write is not a log record.
    }
  }
  return lines;
}
