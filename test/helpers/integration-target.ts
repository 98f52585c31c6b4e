/**
 * Where the integration tests run, as the integration project's global setup provides it: the
 * local cloud, or a LocalStack deployment (`CJ_TARGET=localstack`).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, inject } from 'vitest';
import { ApiClient } from '#cli/api.ts';
import {
  type CloudEndpoints,
  startIsolatedLocalCloud,
  stopIsolatedLocalCloud,
} from '#test/helpers/local-cloud.ts';

export interface IntegrationTarget {
  kind: 'local' | 'localstack';
  api: ApiClient;
  /** AWS endpoint for SDK clients (moto_server or LocalStack), with `credentials`. */
  endpoint: string;
  /** The local cloud's admin keys (never a function's), or LocalStack's `test` keys. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  /** The stack outputs (ApiUrl, TableName, ComparisonQueueUrl, CallbackQueueUrl, ...). */
  outputs: Record<string, string>;
  /** Folder of the function logs (`<function>.log`); only the local cloud writes them. */
  logDir?: string;
  /** `process.version` the local cloud runs the functions on. */
  functionNode?: string;
  /** By bus name: a queue receiving every event put on the bus; only the local cloud has them. */
  eventCaptureQueues?: Record<string, string>;
}

/** The cloud every integration test file shares (the global setup's). */
export async function integrationTarget(): Promise<IntegrationTarget> {
  return targetOf(inject('cloud'));
}

export interface IsolatedTarget extends IntegrationTarget {
  /** Stops the cloud `isolatedTarget` started (nothing on LocalStack). */
  stop(): Promise<void>;
}

/**
 * A cloud of its own for a test that changes deployment-wide state (a queue's attributes, the
 * sweeper's log read whole): the layer runs its files in parallel against one shared local cloud,
 * where such a change would reach the tests running beside it. On the local cloud this starts a
 * local cloud of the test's own, as the shared one is started (docs/local-cloud.md, "Integration
 * tests"); on LocalStack
 * (`CJ_TARGET=localstack`, where the layer runs one file at a time) it is the deployed stack.
 */
export async function isolatedTarget(): Promise<IsolatedTarget> {
  const shared = inject('cloud');
  if (shared.target !== 'local') return { ...targetOf(shared), stop: async () => undefined };
  const stateDir = mkdtempSync(join(tmpdir(), 'cj-isolated-cloud-'));
  const cloud = await startIsolatedLocalCloud(stateDir);
  return { ...targetOf(cloud), stop: () => stopIsolatedLocalCloud(stateDir) };
}

/**
 * An `isolatedTarget()` for the tests of the enclosing `describe`: started before them, stopped
 * after them. Returns the target's getter, for use inside the tests.
 */
export function isolatedTargetForSuite(): () => IsolatedTarget {
  let target: IsolatedTarget | undefined;
  beforeAll(async () => {
    target = await isolatedTarget();
  });
  afterAll(async () => {
    await target?.stop();
  });
  return () => {
    if (!target) throw new Error('the isolated target is started in beforeAll');
    return target;
  };
}

function targetOf(cloud: CloudEndpoints): IntegrationTarget {
  return {
    kind: cloud.target,
    api: new ApiClient({ baseUrl: cloud.apiUrl }),
    endpoint: cloud.endpoint,
    credentials: cloud.credentials,
    region: cloud.region,
    outputs: cloud.outputs,
    ...(cloud.logDir ? { logDir: cloud.logDir } : {}),
    ...(cloud.functionNode ? { functionNode: cloud.functionNode } : {}),
    ...(cloud.eventCaptureQueues ? { eventCaptureQueues: cloud.eventCaptureQueues } : {}),
  };
}

/** The target's event capture queue (the local cloud's; LocalStack has none). */
export function eventCaptureQueue(target: IntegrationTarget): string {
  const url = Object.values(target.eventCaptureQueues ?? {})[0];
  if (!url) throw new Error(`the ${target.kind} target has no event capture queue`);
  return url;
}

export function sqsClient(target: IntegrationTarget): SQSClient {
  return new SQSClient({
    endpoint: target.endpoint,
    region: target.region,
    credentials: target.credentials,
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
