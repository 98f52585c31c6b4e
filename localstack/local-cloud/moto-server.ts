/**
 * Starts moto_server on a free loopback port and waits until it answers. moto emulates DynamoDB,
 * SQS, EventBridge, CloudWatch, IAM and STS on one port; it runs no Lambda code (the function host
 * does). It checks every request's credentials and identity policies, except the few that create
 * the local cloud's admin.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type AwsCredentials, bootstrapAdmin, UNAUTHENTICATED_SETUP_REQUESTS } from './iam.ts';
import { localSetting } from './settings.ts';

/**
 * moto_server's app with DynamoDB calls serialized: moto applies transactions without a lock, and
 * concurrent ones lost counter increments (see the script's header for the measurement).
 */
const MOTO_SERIALIZED = fileURLToPath(new URL('./moto_serialized.py', import.meta.url));

export interface MotoServer {
  endpoint: string;
  port: number;
  pid: number;
  process: ChildProcess;
  /** The admin's keys: everything but the functions uses these. */
  credentials: AwsCredentials;
  stop(): Promise<void>;
}

/** A loopback port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface StartMotoOptions {
  port?: number;
  /** Where moto's request log goes; discarded when not given. */
  logFd?: number;
  /** Put moto in its own process group (tests); the daemon keeps it in its own group instead. */
  detached?: boolean;
  /**
   * Check credentials and identity policies (default true). Off only where moto stands in for
   * something that accepts any credentials (LocalStack, in the tests of that target).
   */
  iam?: boolean;
  /** JSON-lines file receiving each IAM decision once per principal, action and resource. */
  iamAuditFile?: string;
  /** Extra environment of the server (e.g. a CJ_LOCAL_MOTO_* switch back to moto's own code). */
  env?: Record<string, string>;
}

/** Keys moto accepts while it checks nothing. */
const ANY_CREDENTIALS: AwsCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export async function startMotoServer(options: StartMotoOptions = {}): Promise<MotoServer> {
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const output = options.logFd ?? 'ignore';
  const iam = options.iam ?? true;
  const args = [MOTO_SERIALIZED, '-H', '127.0.0.1', '-p', String(port)];
  if (options.iamAuditFile) args.push('--iam-audit', options.iamAuditFile);
  const child = spawn('python3', args, {
    stdio: ['ignore', output, output],
    detached: options.detached ?? false,
    env: {
      ...(iam
        ? { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: String(UNAUTHENTICATED_SETUP_REQUESTS) }
        : withoutAuth(process.env)),
      ...options.env,
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timedOut = await Promise.race([
      exited.then(() => false),
      sleep(localSetting('stopTimeoutMs')).then(() => true),
    ]);
    if (timedOut) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  let credentials = ANY_CREDENTIALS;
  try {
    await waitForMoto(endpoint, localSetting('motoReadyTimeoutMs'), () => {
      if (spawnError) throw new Error(`moto_server could not start: ${spawnError.message}`);
      if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    });
    if (iam) credentials = await bootstrapAdmin(endpoint);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, pid: child.pid ?? -1, process: child, credentials, stop };
}

function withoutAuth(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { INITIAL_NO_AUTH_ACTION_COUNT: _ignored, ...rest } = env;
  return rest;
}

/** Polls moto's own API until it answers; `check` throws to give up early (process died). */
export async function waitForMoto(
  endpoint: string,
  timeoutMs: number,
  check: () => void = () => {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    check();
    if (await isMotoUp(endpoint)) return;
    if (Date.now() > deadline) {
      throw new Error(`moto_server at ${endpoint} did not answer within ${timeoutMs} ms`);
    }
    await sleep(100);
  }
}

export async function isMotoUp(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/moto-api/`, {
      signal: AbortSignal.timeout(2_000),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
