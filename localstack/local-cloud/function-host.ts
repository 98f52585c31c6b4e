/**
 * Runs Lambda function bundles locally. Each warm instance is a worker thread with the function's
 * own environment (handlers read process.env and keep module-level singletons, so functions must
 * not share one), one invocation at a time, killed when it overruns the function timeout. A small
 * pool per function gives concurrency up to its reserved concurrency or the local cap.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';

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
  /** Complete process.env of the function's instances. */
  environment: Record<string, string>;
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

type InitResult = { ok: true } | { ok: false; error: LambdaError };

class Instance {
  readonly worker: Worker;
  private pending: Pending | undefined;
  private nextId = 0;
  private readonly initialized: Promise<InitResult>;
  private resolveInit: (result: InitResult) => void = () => {};
  dead = false;

  constructor(
    private readonly fn: FunctionDefinition,
    log: LogSink,
    private readonly onDeath: (instance: Instance) => void,
  ) {
    this.initialized = new Promise((resolve) => {
      this.resolveInit = resolve;
    });
    const initTimer = setTimeout(
      () => this.die('Sandbox.Timedout', `init did not finish within ${INIT_TIMEOUT_MS} ms`),
      INIT_TIMEOUT_MS,
    );
    void this.initialized.then(() => clearTimeout(initTimer));
    this.worker = new Worker(RUNTIME_URL, {
      env: fn.environment,
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

  /** Resolves when the module has loaded (a warm instance), or with its init error. */
  warm(): Promise<InitResult> {
    return this.initialized;
  }

  async invoke(event: unknown): Promise<InvokeResult> {
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
        // Lambda ends a timed-out invocation by discarding its execution environment.
        this.die(
          'Sandbox.Timedout',
          `Task timed out after ${this.fn.timeoutSeconds.toFixed(2)} seconds`,
        );
      }, deadline - started);
      this.pending = { resolve, requestId, started, timer };
      this.nextId += 1;
      this.worker.postMessage({ id: this.nextId, event, requestId, deadline });
    });
  }

  private settle(message: WorkerReply): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    const base = { requestId: pending.requestId, durationMs: Date.now() - pending.started };
    if (message.ok) {
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
  | { id: number; ok: true; json: string }
  | { id: number; ok: false; error: LambdaError };

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
  ) {
    this.log = new LogSink(logDir ? join(logDir, `${fn.shortName}.log`) : undefined);
  }

  async invoke(event: unknown): Promise<InvokeResult> {
    const instance = await this.acquire();
    try {
      return await instance.invoke(event);
    } finally {
      this.release(instance);
    }
  }

  private acquire(): Promise<Instance> {
    let warm = this.idle.pop();
    while (warm?.dead) warm = this.idle.pop();
    if (warm) return Promise.resolve(warm);
    if (this.all.size < this.fn.maxInstances) {
      const instance = new Instance(this.fn, this.log, (dead) => this.all.delete(dead));
      this.all.add(instance);
      return Promise.resolve(instance);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(instance: Instance): void {
    const next = this.waiting.shift();
    if (instance.dead) {
      // Its slot is free again: a waiting invocation gets a fresh instance (a cold start).
      if (next) {
        const fresh = new Instance(this.fn, this.log, (dead) => this.all.delete(dead));
        this.all.add(fresh);
        next(fresh);
      }
      return;
    }
    if (next) next(instance);
    else this.idle.push(instance);
  }

  /** Starts one instance ahead of traffic so the first invocation is not a cold start. */
  async warm(): Promise<void> {
    if (this.all.size > 0) return;
    const instance = new Instance(this.fn, this.log, (dead) => this.all.delete(dead));
    this.all.add(instance);
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

  constructor(functions: readonly FunctionDefinition[], logDir?: string) {
    super();
    if (logDir) mkdirSync(logDir, { recursive: true });
    for (const fn of functions) this.pools.set(fn.logicalId, new FunctionPool(fn, logDir));
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

  async invoke(key: string, event: unknown): Promise<InvokeResult> {
    const fn = this.find(key);
    const pool = fn ? this.pools.get(fn.logicalId) : undefined;
    if (!fn || !pool) throw new Error(`no local function ${key}`);
    const result = await pool.invoke(event);
    this.emit('invocation', { function: fn, event, result });
    return result;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }
}
