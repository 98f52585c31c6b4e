/**
 * The background process of the local cloud (started detached by the supervisor, leader of its
 * own process group, with moto_server as its child): runs the local cloud, writes state.json when
 * ready, and shuts everything down on SIGTERM/SIGINT or when moto_server dies.
 */
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LocalCloud, runLocalCloud } from './local-cloud.ts';
import type { DaemonOptions, LocalCloudState } from './state.ts';

const options = JSON.parse(process.env.CJ_LOCAL_CLOUD_OPTIONS ?? '{}') as DaemonOptions;
const daemonLog = join(options.logDir, 'daemon.log');
const log = (line: Record<string, unknown>) =>
  appendFileSync(
    daemonLog,
    `${JSON.stringify({ timestamp: new Date().toISOString(), ...line })}\n`,
  );

function writeState(state: LocalCloudState): void {
  const temporary = `${options.stateFile}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, options.stateFile);
}

let cloud: LocalCloud | undefined;
let stopping = false;

async function shutdown(reason: string, code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    log({ level: 'INFO', message: 'stopping', reason });
    await cloud
      ?.stop({ abort: true })
      .catch((error: Error) => log({ level: 'ERROR', message: error.message }));
  }
  process.exit(code);
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => void shutdown(signal, 0));
}

try {
  const started = Date.now();
  cloud = await runLocalCloud({
    templatePath: options.templatePath,
    logDir: options.logDir,
    functionEnv: options.functionEnv ?? {},
    ...(options.scheduleIntervalSeconds !== undefined
      ? { scheduleIntervalSeconds: options.scheduleIntervalSeconds }
      : {}),
    log,
  });
  void cloud.motoExited.then(() => shutdown('moto_server exited', 1));
  writeState({
    ready: true,
    pid: process.pid,
    ...(cloud.motoPid !== undefined ? { motoPid: cloud.motoPid } : {}),
    endpoint: cloud.endpoint,
    credentials: {
      accessKeyId: cloud.credentials.accessKeyId,
      secretAccessKey: cloud.credentials.secretAccessKey,
    },
    apiUrl: cloud.apiUrl,
    ports: { moto: Number(new URL(cloud.endpoint).port), api: Number(new URL(cloud.apiUrl).port) },
    region: cloud.region,
    stackName: cloud.stackName,
    functionNode: cloud.nodeVersion,
    outputs: cloud.outputs,
    eventCaptureQueues: Object.fromEntries(
      cloud.resources.eventBuses.map((bus) => [bus.name, bus.captureQueueUrl]),
    ),
    templatePath: options.templatePath,
    logDir: options.logDir,
    functions: Object.fromEntries(
      cloud.functions.map((fn) => [fn.shortName, { name: fn.name, logFile: fn.logFile ?? '' }]),
    ),
    startedAt: new Date(started).toISOString(),
    readyMs: Date.now() - started,
    startupMs: cloud.startupMs,
  });
  log({ level: 'INFO', message: 'ready', apiUrl: cloud.apiUrl, endpoint: cloud.endpoint });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  log({ level: 'ERROR', message: 'start_failed', error: message });
  writeState({ ready: false, pid: process.pid, error: message });
  await shutdown('start failed', 1);
}
