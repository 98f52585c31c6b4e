/**
 * The background process of the local cloud (started detached by the supervisor, leader of its
 * own process group, with moto_server as its child): runs the local cloud, writes state.json when
 * ready, and shuts everything down on SIGTERM/SIGINT or when moto_server dies.
 */
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatChaos, parseChaos } from './chaos.ts';
import { type AttachedModel, type LocalCloud, runLocalCloud } from './local-cloud.ts';
import { type DaemonOptions, type LocalCloudState, MODEL_FILE } from './state.ts';

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
const { attach } = options;
const modelFile = join(dirname(options.stateFile), MODEL_FILE);
/** The moto_server of this local cloud when this process did not start it (a restarted host). */
const adoptedMotoPid = attach?.motoPid;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function shutdown(reason: string, code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    log({ level: 'INFO', message: 'stopping', reason });
    await cloud
      ?.stop({ abort: true })
      .catch((error: Error) => log({ level: 'ERROR', message: error.message }));
    // A restarted host owns the moto_server it adopted: stopping ends it as a first start does.
    if (adoptedMotoPid !== undefined && alive(adoptedMotoPid)) {
      process.kill(adoptedMotoPid, 'SIGTERM');
    }
  }
  process.exit(code);
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => void shutdown(signal, 0));
}

try {
  const started = Date.now();
  const chaos = options.chaos ? parseChaos(options.chaos) : undefined;
  cloud = await runLocalCloud({
    ...(chaos ? { chaos } : {}),
    ...(attach
      ? {
          endpoint: attach.endpoint,
          credentials: attach.credentials,
          apiPort: attach.apiPort,
          attach: {
            ...(JSON.parse(readFileSync(modelFile, 'utf8')) as AttachedModel),
            generation: attach.generation,
          },
        }
      : {}),
    templatePath: options.templatePath,
    logDir: options.logDir,
    functionEnv: options.functionEnv ?? {},
    ...(options.scheduleIntervalSeconds !== undefined
      ? { scheduleIntervalSeconds: options.scheduleIntervalSeconds }
      : {}),
    log,
  });
  void cloud.motoExited.then(() => shutdown('moto_server exited', 1));
  if (adoptedMotoPid !== undefined) {
    setInterval(() => {
      if (!alive(adoptedMotoPid)) void shutdown('moto_server exited', 1);
    }, 1_000).unref();
  }
  if (!attach) {
    const model: AttachedModel = { identities: cloud.identities, resources: cloud.resources };
    writeFileSync(modelFile, `${JSON.stringify(model)}\n`, { mode: 0o600 });
  }
  writeState({
    ready: true,
    pid: process.pid,
    ...(cloud.motoPid !== undefined ? { motoPid: cloud.motoPid } : {}),
    ...(adoptedMotoPid !== undefined ? { motoPid: adoptedMotoPid } : {}),
    ...(chaos ? { chaos: formatChaos(chaos) } : {}),
    hostGeneration: attach?.generation ?? 0,
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
    ...(options.judges ? { judges: options.judges } : {}),
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
