/**
 * What integration tests call to reach a cloud: the local cloud (started when it is not running)
 * or, with `CJ_TARGET=localstack`, the stack deployed into LocalStack (nothing is started).
 */
import {
  isLocalStackTarget,
  localCloudStatus,
  localStackInfo,
  startLocalCloud,
  stopLocalCloud,
} from '#localstack/local-cloud/index.ts';

export interface CloudEndpoints {
  target: 'local' | 'localstack';
  /** Base URL of the HTTP API, ending with `/`. */
  apiUrl: string;
  /** AWS endpoint for SDK clients (moto_server or LocalStack), with `credentials`. */
  endpoint: string;
  /** The local cloud's admin keys (moto checks IAM), or LocalStack's `test` keys. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  /** The stack outputs: ApiUrl, TableName, ComparisonQueueUrl, CallbackQueueUrl, ... */
  outputs: Record<string, string>;
  /** Folder of the function logs (`<function>.log`, JSON lines); local cloud only. */
  logDir?: string;
  /** By bus name: a queue receiving every event put on the bus; local cloud only. */
  eventCaptureQueues?: Record<string, string>;
  /** `process.version` the functions run on; local cloud only. */
  functionNode?: string;
  /** True when this call started the local cloud (so the caller should stop it). */
  startedHere: boolean;
}

/**
 * The schedule interval integration tests run the sweeper at, unless CJ_LOCAL_SCHEDULE_INTERVAL_S
 * says otherwise: short enough that timed-out comparisons are failed within a test.
 */
export const INTEGRATION_SCHEDULE_INTERVAL_S = 2;

export async function ensureLocalCloud(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<CloudEndpoints> {
  if (isLocalStackTarget(env)) {
    const info = await localStackInfo(env);
    return { target: 'localstack', ...info, startedHere: false };
  }
  return startIntegrationCloud({}, env);
}

/**
 * A local cloud of its own in `stateDir`, started as the shared one is (same template, judge
 * settings and schedule interval), for a test that changes deployment-wide state; stop it with
 * `stopIsolatedLocalCloud(stateDir)`.
 */
export async function startIsolatedLocalCloud(
  stateDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<CloudEndpoints> {
  return startIntegrationCloud({ stateDir }, env);
}

export async function stopIsolatedLocalCloud(stateDir: string): Promise<void> {
  await stopLocalCloud({ stateDir });
}

async function startIntegrationCloud(
  location: { stateDir?: string },
  env: Readonly<Record<string, string | undefined>>,
): Promise<CloudEndpoints> {
  const interval = Number(env.CJ_LOCAL_SCHEDULE_INTERVAL_S) || INTEGRATION_SCHEDULE_INTERVAL_S;
  const info = await startLocalCloud({ ...location, scheduleIntervalSeconds: interval });
  return {
    target: 'local',
    apiUrl: info.apiUrl,
    endpoint: info.endpoint,
    credentials: info.credentials,
    region: info.region,
    outputs: info.outputs,
    logDir: info.state.logDir,
    eventCaptureQueues: info.state.eventCaptureQueues,
    functionNode: info.state.functionNode,
    startedHere: info.started,
  };
}

/** Stops the local cloud if `cloud` says this process started it; otherwise leaves it alone. */
export async function releaseLocalCloud(cloud: CloudEndpoints): Promise<void> {
  if (cloud.target === 'local' && cloud.startedHere) await stopLocalCloud();
}

export async function isLocalCloudRunning(): Promise<boolean> {
  return (await localCloudStatus()).running;
}
