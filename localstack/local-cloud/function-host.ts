/**
 * Runs Lambda function bundles locally. Each warm instance is a worker thread with the function's
 * own environment (handlers read process.env and keep module-level singletons, so functions must
 * not share one), one invocation at a time, killed when it overruns the function timeout. A small
 * pool per function gives concurrency up to its reserved concurrency or the local cap.
 *
 * As in Lambda, an instance gets its role's temporary credentials in AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN when it starts, and never outlives them: one whose
 * credentials could expire during an invocation is retired and the next instance starts with the
 * renewed ones.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { Chaos } from './chaos.ts';
import type { AwsCredentials } from './iam.ts';

export interface FunctionDefinition {
  logicalId: string;
  /** Physical function name (`FunctionName`). */
  name: string;
  /** Contract name (`judge`, `create-batch`, ...): names the log file. */
  shortName: string;
  arn: string;
  /** Absolute path of the bundle module (e.g. cdk.out/asset.<hash>/index.mjs). */
  bundlePath: string;
  exportName: string;
  /** The template's `Runtime` (`nodejs22.x`): the Node major the host must run. */
  runtime: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** process.env of the function's instances (their credentials are added per instance). */
  environment: Record<string, string>;
  /** ARN of the execution role whose credentials the instances get. */
  roleArn: string;
  maxInstances: number;
}

export interface LambdaError {
  errorType: string;
  errorMessage: string;
  stack?: string[];
}

export type InvokeResult =
  | { ok: true; value: unknown; requestId: string; durationMs: number }
  | { ok: false; error: LambdaError; requestId: string; durationMs: number };

export interface InvocationRecord {
  function: FunctionDefinition;
  event: unknown;
  result: InvokeResult;
}

const RUNTIME_URL = new URL('./lambda-runtime.mjs', import.meta.url);

interface Pending {
  resolve(result: InvokeResult): void;
  requestId: string;
  started: number;
  timer: NodeJS.Timeout;
}

/** Lambda's limit on the init phase (loading the module and its top-level code). */
const INIT_TIMEOUT_MS = 10_000;
/**
 * Lambda's invocation payload limits: a synchronous request (API Gateway, an SQS event source
 * mapping) is refused above 6,291,456 bytes, its response above 6,291,556; an asynchronous event
 * (EventBridge schedules) above 262,144 bytes.
 */
export const LAMBDA_PAYLOAD_LIMITS = {
  syncRequestBytes: 6_291_456,
  syncResponseBytes: 6_291_556,
  asyncRequestBytes: 262_144,
} as const;

export type InvocationType = 'RequestResponse' | 'Event';

/** An instance is retired unless its credentials outlast a whole invocation by this much. */
const CREDENTIAL_MARGIN_MS = 5_000;

/** A function's execution-role credentials (see RoleSession). */
export interface CredentialSource {
  /** The current credentials, renewed in the background before they expire. */
  current(): AwsCredentials;
  /** Credentials valid for at least `ms` more (renewed first when needed). */
  validFor(ms: number): Promise<AwsCredentials>;
}

function credentialEnvironment(credentials: AwsCredentials): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
  };
}

type InitResult = { ok: true } | { ok: false; error: LambdaError };

class Instance {
  readonly worker: Worker;
  private pending: Pending | undefined;
  private nextId = 0;
  private readonly initialized: Promise<InitResult>;
  private resolveInit: (result: InitResult) => void = () => {};
  dead = false;
  /** Calls started and answered (plus one) in the last invocation it finished. */
  lastBoundaries = 0;
  /** When this instance's credentials expire (ms since the epoch). */
  readonly credentialsExpireAt: number;

  constructor(
    private readonly fn: FunctionDefinition,
    private readonly log: LogSink,
    private readonly onDeath: (instance: Instance) => void,
    credentials: AwsCredentials,
  ) {
    this.credentialsExpireAt = credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
    this.initialized = new Promise((resolve) => {
      this.resolveInit = resolve;
    });
    const initTimer = setTimeout(
      () => this.die('Sandbox.Timedout', `init did not finish within ${INIT_TIMEOUT_MS} ms`),
      INIT_TIMEOUT_MS,
    );
    void this.initialized.then(() => clearTimeout(initTimer));
    this.worker = new Worker(RUNTIME_URL, {
      env: { ...fn.environment, ...credentialEnvironment(credentials) },
      // Bundles are plain JavaScript: no TypeScript loader from the parent process.
      execArgv: [],
      stdout: true,
      stderr: true,
      workerData: {
        bundlePath: fn.bundlePath,
        exportName: fn.exportName,
        functionName: fn.name,
        functionArn: fn.arn,
        runtime: fn.runtime,
        memoryMb: fn.memoryMb,
        logGroupName: `/aws/lambda/${fn.name}`,
      },
      resourceLimits: { maxOldGenerationSizeMb: fn.memoryMb },
    });
    log.follow(this.worker.stdout);
    log.follow(this.worker.stderr);
    this.worker.on('message', (message: WorkerReply | InitReply) => {
      if ('type' in message) {
        this.resolveInit(
          message.type === 'ready' ? { ok: true } : { ok: false, error: message.error },
        );
      } else {
        this.settle(message);
      }
    });
    this.worker.on('error', (error) => this.die(error.name, error.message));
    this.worker.on('exit', (code) => this.die('Runtime.ExitError', `instance exited (${code})`));
  }

  /** Whether its credentials could expire before an invocation started now ends. */
  get credentialsTooShort(): boolean {
    return (
      this.credentialsExpireAt - Date.now() < this.fn.timeoutSeconds * 1000 + CREDENTIAL_MARGIN_MS
    );
  }

  /** Resolves when the module has loaded (a warm instance), or with its init error. */
  warm(): Promise<InitResult> {
    return this.initialized;
  }

  /** `crashAt`: the boundary at which a chaos crash kills this instance (lambda-runtime.mjs). */
  async invoke(event: unknown, crashAt?: number): Promise<InvokeResult> {
    const requestId = randomUUID();
    const init = await this.initialized;
    if (!init.ok) {
      this.die(init.error.errorType, init.error.errorMessage);
      return { ok: false, error: init.error, requestId, durationMs: 0 };
    }
    if (this.dead) {
      return {
        ok: false,
        error: { errorType: 'Runtime.ExitError', errorMessage: 'instance ended before invoke' },
        requestId,
        durationMs: 0,
      };
    }
    const started = Date.now();
    const deadline = started + this.fn.timeoutSeconds * 1000;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const message = `Task timed out after ${this.fn.timeoutSeconds.toFixed(2)} seconds`;
        // Lambda's platform logs the timeout in the function's log, then discards the environment.
        this.log.write(
          JSON.stringify({
            timestamp: new Date().toISOString(),
            level: 'ERROR',
            requestId,
            message,
            errorType: 'Sandbox.Timedout',
          }),
        );
        this.die('Sandbox.Timedout', message);
      }, deadline - started);
      this.pending = { resolve, requestId, started, timer };
      this.nextId += 1;
      this.worker.postMessage({
        id: this.nextId,
        event,
        requestId,
        deadline,
        ...(crashAt === undefined ? {} : { crashAt }),
      });
    });
  }

  private settle(message: WorkerReply): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    const base = { requestId: pending.requestId, durationMs: Date.now() - pending.started };
    this.lastBoundaries = message.boundaries;
    const limit = LAMBDA_PAYLOAD_LIMITS.syncResponseBytes;
    if (message.ok && Buffer.byteLength(message.json) > limit) {
      pending.resolve({
        ok: false,
        error: {
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage: `Response payload size exceeded maximum allowed payload size (${limit} bytes).`,
        },
        ...base,
      });
    } else if (message.ok) {
      pending.resolve({ ok: true, value: JSON.parse(message.json), ...base });
    } else {
      pending.resolve({ ok: false, error: message.error, ...base });
    }
  }

  private die(errorType: string, errorMessage: string): void {
    this.resolveInit({ ok: false, error: { errorType, errorMessage } });
    const pending = this.pending;
    this.pending = undefined;
    if (pending) {
      clearTimeout(pending.timer);
      pending.resolve({
        ok: false,
        error: { errorType, errorMessage },
        requestId: pending.requestId,
        durationMs: Date.now() - pending.started,
      });
    }
    if (!this.dead) {
      this.dead = true;
      void this.worker.terminate();
      this.onDeath(this);
    }
  }

  async close(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }
}

type InitReply = { type: 'ready' } | { type: 'initError'; error: LambdaError };
type WorkerReply =
  | { id: number; ok: true; json: string; boundaries: number }
  | { id: number; ok: false; error: LambdaError; boundaries: number };

/** A function's log file: JSON lines; non-JSON output (e.g. SDK warnings) is wrapped as JSON. */
class LogSink {
  private readonly stream: WriteStream | undefined;

  constructor(path: string | undefined) {
    this.stream = path ? createWriteStream(path, { flags: 'a' }) : undefined;
  }

  follow(source: Readable): void {
    const lines = createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => this.write(line));
  }

  write(line: string): void {
    if (!this.stream || line.trim() === '') return;
    this.stream.write(
      `${isJsonObject(line) ? line : JSON.stringify({ timestamp: new Date().toISOString(), level: 'INFO', message: line })}\n`,
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.stream ? this.stream.end(resolve) : resolve()));
  }
}

function isJsonObject(line: string): boolean {
  if (!line.startsWith('{')) return false;
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
}

class FunctionPool {
  private readonly idle: Instance[] = [];
  private readonly all = new Set<Instance>();
  private readonly waiting: Array<(instance: Instance) => void> = [];
  readonly log: LogSink;

  constructor(
    readonly fn: FunctionDefinition,
    logDir: string | undefined,
    private readonly credentials: CredentialSource,
  ) {
    this.log = new LogSink(logDir ? join(logDir, `${fn.shortName}.log`) : undefined);
  }

  /** Most boundaries an invocation of this function reached: where a chaos crash may land. */
  private boundarySpan = 4;

  async invoke(event: unknown, chaos?: Chaos): Promise<InvokeResult> {
    const instance = await this.acquire();
    try {
      if (chaos?.draw('crash')) {
        // Uniform over the start, every call's start and answer seen so far, and the return.
        const crashAt = Math.floor(chaos.uniform() * (this.boundarySpan + 1));
        const records = (event as { Records?: unknown[] } | null)?.Records?.length;
        chaos.record('crash', {
          function: this.fn.shortName,
          boundary: crashAt,
          ...(records === undefined ? {} : { records }),
        });
        return await instance.invoke(event, crashAt);
      }
      const result = await instance.invoke(event);
      this.boundarySpan = Math.max(this.boundarySpan, instance.lastBoundaries);
      return result;
    } finally {
      this.release(instance);
    }
  }

  private spawn(): Instance {
    const instance = new Instance(
      this.fn,
      this.log,
      (dead) => this.all.delete(dead),
      this.credentials.current(),
    );
    this.all.add(instance);
    return instance;
  }

  private async acquire(): Promise<Instance> {
    // Renews first if the role's credentials could expire during this invocation.
    await this.credentials.validFor(this.fn.timeoutSeconds * 1000 + CREDENTIAL_MARGIN_MS);
    let warm = this.idle.pop();
    while (warm && (warm.dead || warm.credentialsTooShort)) {
      if (!warm.dead) this.retire(warm);
      warm = this.idle.pop();
    }
    if (warm) return warm;
    if (this.all.size < this.fn.maxInstances) return this.spawn();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private retire(instance: Instance): void {
    this.all.delete(instance);
    void instance.close();
  }

  private release(instance: Instance): void {
    const next = this.waiting.shift();
    if (instance.dead || instance.credentialsTooShort) {
      if (!instance.dead) this.retire(instance);
      // Its slot is free again: a waiting invocation gets a fresh instance (a cold start).
      if (next) next(this.spawn());
      return;
    }
    if (next) next(instance);
    else this.idle.push(instance);
  }

  /** Starts one instance ahead of traffic so the first invocation is not a cold start. */
  async warm(): Promise<void> {
    if (this.all.size > 0) return;
    await this.credentials.validFor(this.fn.timeoutSeconds * 1000 + CREDENTIAL_MARGIN_MS);
    const instance = this.spawn();
    this.idle.push(instance);
    await instance.warm();
  }

  get instanceCount(): number {
    return this.all.size;
  }

  async close(): Promise<void> {
    await Promise.all([...this.all].map((instance) => instance.close()));
    this.all.clear();
    this.idle.length = 0;
    await this.log.close();
  }
}

export interface FunctionHostEvents {
  invocation: [InvocationRecord];
}

export class FunctionHost extends EventEmitter<FunctionHostEvents> {
  private readonly pools = new Map<string, FunctionPool>();

  constructor(
    functions: readonly FunctionDefinition[],
    options: {
      /** Each function's execution-role credentials, by logical id. */
      credentials: ReadonlyMap<string, CredentialSource>;
      logDir?: string | undefined;
    },
  ) {
    super();
    const { logDir } = options;
    if (logDir) mkdirSync(logDir, { recursive: true });
    for (const fn of functions) {
      const credentials = options.credentials.get(fn.logicalId);
      if (!credentials) throw new Error(`no credentials for ${fn.name}`);
      this.pools.set(fn.logicalId, new FunctionPool(fn, logDir, credentials));
    }
  }

  /** The function with this logical id, physical name, short name or ARN. */
  find(key: string): FunctionDefinition | undefined {
    for (const pool of this.pools.values()) {
      const { fn } = pool;
      if ([fn.logicalId, fn.name, fn.shortName, fn.arn].includes(key)) return fn;
    }
    return undefined;
  }

  get functions(): FunctionDefinition[] {
    return [...this.pools.values()].map((pool) => pool.fn);
  }

  instanceCount(key: string): number {
    const fn = this.find(key);
    return fn ? (this.pools.get(fn.logicalId)?.instanceCount ?? 0) : 0;
  }

  /** Loads every function once (in parallel), as provisioned concurrency would. */
  async warmAll(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.warm()));
  }

  /**
   * `chaos`: the invocation is one chaos may crash, drawn from this stream (event source mappings
   * and schedules pass theirs: redelivery or the next run retries the work; the HTTP API passes
   * none, its caller would see a 500).
   */
  async invoke(
    key: string,
    event: unknown,
    invocationType: InvocationType = 'RequestResponse',
    { chaos }: { chaos?: Chaos | undefined } = {},
  ): Promise<InvokeResult> {
    const fn = this.find(key);
    const pool = fn ? this.pools.get(fn.logicalId) : undefined;
    if (!fn || !pool) throw new Error(`no local function ${key}`);
    const refused = payloadRefusal(event, invocationType);
    const result = refused ?? (await pool.invoke(event, chaos));
    this.emit('invocation', { function: fn, event, result });
    return result;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }
}

/** Lambda refuses an event over its invocation type's payload limit before running anything. */
function payloadRefusal(event: unknown, invocationType: InvocationType): InvokeResult | undefined {
  const limit =
    invocationType === 'Event'
      ? LAMBDA_PAYLOAD_LIMITS.asyncRequestBytes
      : LAMBDA_PAYLOAD_LIMITS.syncRequestBytes;
  const bytes = Buffer.byteLength(JSON.stringify(event ?? null));
  if (bytes <= limit) return undefined;
  return {
    ok: false,
    error: {
      errorType: 'RequestEntityTooLargeException',
      errorMessage: `Request must be smaller than ${limit} bytes for the InvokeFunction operation (${bytes} bytes)`,
    },
    requestId: randomUUID(),
    durationMs: 0,
  };
}
