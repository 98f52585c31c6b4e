/** What the supervisor and its background process exchange through `.local-cloud/state.json`. */

export interface DaemonOptions {
  templatePath: string;
  logDir: string;
  stateFile: string;
  functionEnv?: Record<string, string>;
  judges?: JudgeSettings;
  scheduleIntervalSeconds?: number;
  /** Chaos spec (chaos.ts), e.g. `crash=0.05,duplicate=0.3,seed=7`; no faults when absent. */
  chaos?: string;
  /** Start only the function host, against the running moto of an earlier start (a restart). */
  attach?: {
    generation: number;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    motoPid?: number;
    apiPort: number;
  };
}

/** Beside state.json: the identities and resources a restarted function host reuses. */
export const MODEL_FILE = 'model.json';

/** The judge settings the functions got (names only: values may be keys). */
export interface JudgeSettings {
  /** ALLOWED_PROVIDERS of every function. */
  allowedProviders: string[];
  /** Variables passed from the environment of `cj local start` (OPENAI_API_KEY, ...). */
  passedEnv: string[];
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
  /** Judge providers allowed and the variables passed for them (absent: the template's). */
  judges?: JudgeSettings;
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
  /** The chaos spec the local cloud injects (normalized), when it was started with one. */
  chaos?: string;
  /** Function hosts started on this moto: 0 for the first, +1 per `cj local restart`. */
  hostGeneration: number;
  /** ms per start phase of the local cloud (see LocalCloud.startupMs). */
  startupMs: Record<string, number>;
}

export interface FailedState {
  ready: false;
  pid: number;
  error: string;
}

export type LocalCloudState = ReadyState | FailedState;
