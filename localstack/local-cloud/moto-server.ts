/**
 * Starts moto_server on a free loopback port and waits until it answers. moto emulates DynamoDB,
 * SQS, EventBridge and CloudWatch on one port; it runs no Lambda code (the function host does).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
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
}

export async function startMotoServer(options: StartMotoOptions = {}): Promise<MotoServer> {
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const output = options.logFd ?? 'ignore';
  const child = spawn('python3', [MOTO_SERIALIZED, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', output, output],
    detached: options.detached ?? false,
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
  try {
    await waitForMoto(endpoint, localSetting('motoReadyTimeoutMs'), () => {
      if (spawnError) throw new Error(`moto_server could not start: ${spawnError.message}`);
      if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, pid: child.pid ?? -1, process: child, stop };
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

/** Drops every resource and message moto holds (isolates test files sharing one server). */
export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`moto reset failed with HTTP ${response.status}`);
}
