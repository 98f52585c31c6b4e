/** What the supervisor and its background process exchange through `.local-cloud/state.json`. */

export interface DaemonOptions {
  templatePath: string;
  logDir: string;
  stateFile: string;
  functionEnv?: Record<string, string>;
  scheduleIntervalSeconds?: number;
}

export interface ReadyState {
  ready: true;
  /** The background process; it leads the process group holding everything it started. */
  pid: number;
  motoPid?: number;
  /** moto_server's URL (what `AWS_ENDPOINT_URL` is set to). */
  endpoint: string;
  /**
   * The local cloud's admin keys for moto (it checks IAM): what the CLI, the tests and anyone
   * using `endpoint` sign with. Local only; the functions use their roles' credentials.
   */
  credentials: { accessKeyId: string; secretAccessKey: string };
  apiUrl: string;
  /** The loopback ports of moto_server and the HTTP API. */
  ports: { moto: number; api: number };
  region: string;
  stackName: string;
  /** `process.version` the functions run on (Lambda's major: the `node` dependency). */
  functionNode: string;
  /** The stack outputs resolved to local values: ApiUrl, TableName, ComparisonQueueUrl, ... */
  outputs: Record<string, string>;
  /** By bus name: the local queue receiving every event put on that bus (not a stack resource). */
  eventCaptureQueues: Record<string, string>;
  templatePath: string;
  logDir: string;
  /** By short name (`judge`, `create-batch`, ...): physical name and JSON-lines log file. */
  functions: Record<string, { name: string; logFile: string }>;
  startedAt: string;
  readyMs: number;
  /** ms per start phase of the local cloud (see LocalCloud.startupMs). */
  startupMs: Record<string, number>;
}

export interface FailedState {
  ready: false;
  pid: number;
  error: string;
}

export type LocalCloudState = ReadyState | FailedState;
