/**
 * Starts the local cloud as one detached background process group (synthesizing the stack first
 * when cdk.out is missing or stale), reports its state, and stops every process it started.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { JudgeProviderName } from '#messages/api.ts';
import { CHAOS_LOG, parseChaos } from './chaos.ts';
import { judgeEnvironment } from './judge-env.ts';
import { lambdaNodeBinary } from './lambda-node.ts';
import { isMotoUp } from './moto-server.ts';
import { localSetting } from './settings.ts';
import { type DaemonOptions, type LocalCloudState, MODEL_FILE, type ReadyState } from './state.ts';

/** The repository root (this file lives in localstack/local-cloud/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DAEMON = fileURLToPath(new URL('./daemon.ts', import.meta.url));

/** Sources whose change makes cdk.out stale. */
const SYNTH_SOURCES = ['infra', 'lambdas', 'shared', 'package.json', 'cdk.json'];
const STATE_POLL_MS = 100;
const LOG_TAIL_LINES = 20;

export interface LocalCloudPaths {
  root: string;
  /** Folder of state.json and logs/ (default `<root>/.local-cloud`). */
  stateDir: string;
  stateFile: string;
  logDir: string;
}

export interface LocationOptions {
  root?: string;
  stateDir?: string;
}

export function localCloudPaths(options: LocationOptions = {}): LocalCloudPaths {
  const root = options.root ?? REPO_ROOT;
  const stateDir = options.stateDir ?? process.env.CJ_LOCAL_CLOUD_DIR ?? join(root, '.local-cloud');
  return {
    root,
    stateDir,
    stateFile: join(stateDir, 'state.json'),
    logDir: join(stateDir, 'logs'),
  };
}

export interface StartOptions extends LocationOptions {
  /** Run `npm run synth` when cdk.out is missing or older than the sources (default true). */
  synth?: boolean;
  /** Template to run (default `<root>/cdk.out/CjEngine-<stage>.template.json`). */
  templatePath?: string;
  stage?: string;
  /** Extra environment for every function (after the judge settings below). */
  functionEnv?: Record<string, string>;
  /** Judge providers the functions accept (default: every provider; it is the user's machine). */
  providers?: readonly JudgeProviderName[];
  /** Where provider keys and base URLs are read from (`JUDGE_ENV_NAMES`; default process.env). */
  environment?: Readonly<Record<string, string | undefined>>;
  /** Interval of every schedule (CJ_LOCAL_SCHEDULE_INTERVAL_S when not given). */
  scheduleIntervalSeconds?: number;
  /** Faults to inject (chaos.ts spec; CJ_LOCAL_CHAOS when not given); none when empty. */
  chaos?: string;
}

export interface LocalCloudInfo {
  apiUrl: string;
  /** moto_server's URL: point AWS SDK clients here, with `credentials`. */
  endpoint: string;
  /** The local cloud's admin keys (moto checks IAM). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  outputs: Record<string, string>;
  state: ReadyState;
  /** False when an already running local cloud was returned. */
  started: boolean;
}

export function templatePathFor(root: string, stage: string): string {
  return join(root, 'cdk.out', `CjEngine-${stage}.template.json`);
}

/** Starts the local cloud in the background and returns when it is ready (or it is running). */
export async function startLocalCloud(options: StartOptions = {}): Promise<LocalCloudInfo> {
  const paths = localCloudPaths(options);
  mkdirSync(paths.stateDir, { recursive: true });
  // Two concurrent starts would leave one background process that no state file names.
  const release = await acquireStartLock(join(paths.stateDir, 'start.lock'));
  try {
    return await startUnlocked(options, paths);
  } finally {
    release();
  }
}

async function acquireStartLock(lockFile: string): Promise<() => void> {
  const deadline = Date.now() + localSetting('readyTimeoutMs') * 2;
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let text = '';
    try {
      text = readFileSync(lockFile, 'utf8').trim();
    } catch {
      continue;
    }
    const holder = Number(text);
    // A lock left by a process that died mid-start is stale; an empty one is being written.
    if (text !== '' && (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder))) {
      rmSync(lockFile, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another start (pid ${holder}) holds ${lockFile}`);
    await sleep(STATE_POLL_MS);
  }
}

async function startUnlocked(
  options: StartOptions,
  paths: LocalCloudPaths,
): Promise<LocalCloudInfo> {
  const current = await localCloudStatus(options);
  if (current.running && current.state?.ready) return toInfo(current.state, false);
  if (current.state) rmSync(paths.stateFile, { force: true });

  const stage = options.stage ?? localSetting('stage');
  const templatePath = options.templatePath ?? templatePathFor(paths.root, stage);
  mkdirSync(paths.logDir, { recursive: true });
  // Logs of an earlier run would mix with this run's gate and decision lines.
  for (const file of readdirSync(paths.logDir)) rmSync(join(paths.logDir, file), { force: true });
  if (options.synth ?? true) ensureSynth(paths, templatePath);
  if (!existsSync(templatePath)) {
    throw new Error(`no template at ${templatePath}: run \`npm run synth\` first`);
  }

  const chaos = options.chaos ?? localSetting('chaos');
  if (chaos !== '') parseChaos(chaos); // a bad spec fails here, naming the bad part
  const judges = judgeEnvironment(options.environment ?? process.env, options.providers);
  const daemonOptions: DaemonOptions = {
    templatePath,
    logDir: paths.logDir,
    stateFile: paths.stateFile,
    functionEnv: { ...judges.functionEnv, ...options.functionEnv },
    judges: { allowedProviders: judges.allowedProviders, passedEnv: judges.passedNames },
    ...(options.scheduleIntervalSeconds !== undefined
      ? { scheduleIntervalSeconds: options.scheduleIntervalSeconds }
      : {}),
    ...(chaos !== '' ? { chaos } : {}),
  };
  // What a restart of the function host starts again with (restartFunctionHost). Readable by the
  // user only: functionEnv carries the judge keys passed from the shell.
  const optionsFile = join(paths.stateDir, DAEMON_OPTIONS_FILE);
  writeFileSync(optionsFile, JSON.stringify(daemonOptions), { mode: 0o600 });
  chmodSync(optionsFile, 0o600);
  return toInfo(await spawnDaemon(daemonOptions, paths), true);
}

/** Beside state.json: how the running local cloud was started. */
const DAEMON_OPTIONS_FILE = 'daemon-options.json';

/**
 * Kills the function host (SIGKILL: its instances, pollers, scheduler and HTTP API die at once,
 * mid-invocation) and starts it again against the same moto_server, whose tables and queues keep
 * everything: batches resume. Messages the killed host had received return after their visibility
 * timeout (after the chaos `redelivery_s` when it is set). The API keeps its URL.
 */
export async function restartFunctionHost(options: LocationOptions = {}): Promise<LocalCloudInfo> {
  const paths = localCloudPaths(options);
  const state = readState(paths.stateFile);
  if (!state?.ready || !runs(state.pid, 'daemon.ts')) {
    throw new Error('no running local cloud to restart (start it with `cj local start`)');
  }
  if (!existsSync(join(paths.stateDir, MODEL_FILE))) {
    throw new Error(
      `${join(paths.stateDir, MODEL_FILE)} is missing: stop and start the local cloud`,
    );
  }
  const previous = JSON.parse(
    readFileSync(join(paths.stateDir, DAEMON_OPTIONS_FILE), 'utf8'),
  ) as DaemonOptions;
  process.kill(state.pid, 'SIGKILL');
  while (isAlive(state.pid)) await sleep(20);
  appendFileSync(
    join(paths.logDir, CHAOS_LOG),
    `${JSON.stringify({ timestamp: new Date().toISOString(), fault: 'host_kill', pid: state.pid })}\n`,
  );
  const generation = (state.hostGeneration ?? 0) + 1;
  const daemonOptions: DaemonOptions = {
    ...previous,
    attach: {
      generation,
      endpoint: state.endpoint,
      credentials: state.credentials,
      ...(state.motoPid !== undefined ? { motoPid: state.motoPid } : {}),
      apiPort: state.ports.api,
    },
  };
  return toInfo(await spawnDaemon(daemonOptions, paths), true);
}

async function spawnDaemon(
  daemonOptions: DaemonOptions,
  paths: LocalCloudPaths,
): Promise<ReadyState> {
  const output = openSync(join(paths.logDir, 'daemon.out'), 'a');
  // The daemon hosts the functions' worker threads: it runs on Lambda's Node major, whatever Node
  // runs this process.
  const child = spawn(lambdaNodeBinary(), ['--import', 'tsx', DAEMON], {
    cwd: paths.root,
    detached: true,
    stdio: ['ignore', output, output],
    env: { ...process.env, CJ_LOCAL_CLOUD_OPTIONS: JSON.stringify(daemonOptions) },
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the local cloud process');

  const deadline = Date.now() + localSetting('readyTimeoutMs');
  for (;;) {
    const state = readState(paths.stateFile);
    if (state?.pid === pid && state.ready) return state;
    if (state?.pid === pid && !state.ready) {
      await killGroup(pid);
      rmSync(paths.stateFile, { force: true });
      throw new Error(`local cloud failed to start: ${state.error}\n${tail(paths.logDir)}`);
    }
    if (!isAlive(pid)) {
      rmSync(paths.stateFile, { force: true });
      throw new Error(`local cloud process exited during start\n${tail(paths.logDir)}`);
    }
    if (Date.now() > deadline) {
      await killGroup(pid);
      throw new Error(`local cloud not ready within ${localSetting('readyTimeoutMs')} ms`);
    }
    await sleep(STATE_POLL_MS);
  }
}

export interface StopResult {
  /** False when nothing of the local cloud was running (a stale state file is removed anyway). */
  stopped: boolean;
  /** Processes that were running and are now gone. */
  pids: number[];
}

/** Ends the background process group (moto_server included) and removes the state file. */
export async function stopLocalCloud(options: LocationOptions = {}): Promise<StopResult> {
  const paths = localCloudPaths(options);
  const state = readState(paths.stateFile);
  if (!state) return { stopped: false, pids: [] };
  // After a reboot the recorded ids may belong to someone else's processes: end only ours.
  const ended: number[] = [];
  const motoPid = state.ready ? state.motoPid : undefined;
  const ownMoto = motoPid !== undefined && runs(motoPid, 'moto_serialized.py');
  if (runs(state.pid, 'daemon.ts')) {
    await killGroup(state.pid);
    ended.push(state.pid);
  }
  // moto_server is in the group; should anything have moved it out, end it by its own id.
  if (ownMoto && motoPid !== undefined) {
    if (isAlive(motoPid)) process.kill(motoPid, 'SIGKILL');
    ended.push(motoPid);
  }
  rmSync(paths.stateFile, { force: true });
  return { stopped: ended.length > 0, pids: ended };
}

/**
 * Ends the local cloud of `options` when this process exits, however it exits: a test runner that
 * tears down a timed-out test runs no `finally`, and the detached daemon (with its moto_server)
 * would outlive it, eating the CPU of every test after it. Synchronous, as an exit handler must be;
 * returns the function that takes the guard off again (after a normal stop).
 */
export function stopLocalCloudOnExit(options: LocationOptions = {}): () => void {
  const stateFile = localCloudPaths(options).stateFile;
  const end = () => {
    const state = readState(stateFile);
    if (!state) return;
    const motoPid = state.ready ? state.motoPid : undefined;
    if (motoPid !== undefined && runs(motoPid, 'moto_serialized.py')) signal(motoPid, 'SIGKILL');
    if (runs(state.pid, 'daemon.ts')) signal(-state.pid, 'SIGKILL');
  };
  process.once('exit', end);
  return () => {
    process.off('exit', end);
  };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already.
  }
}

export interface LocalCloudStatus {
  running: boolean;
  state?: LocalCloudState;
  processAlive: boolean;
  motoUp: boolean;
  apiUp: boolean;
}

export async function localCloudStatus(options: LocationOptions = {}): Promise<LocalCloudStatus> {
  const state = readState(localCloudPaths(options).stateFile);
  if (!state) return { running: false, processAlive: false, motoUp: false, apiUp: false };
  const processAlive = runs(state.pid, 'daemon.ts');
  if (!state.ready || !processAlive) {
    return { running: false, state, processAlive, motoUp: false, apiUp: false };
  }
  const [motoUp, apiUp] = await Promise.all([isMotoUp(state.endpoint), isApiUp(state.apiUrl)]);
  return { running: motoUp && apiUp, state, processAlive, motoUp, apiUp };
}

export function readState(stateFile: string): LocalCloudState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as LocalCloudState;
  } catch {
    return undefined;
  }
}

function toInfo(state: ReadyState, started: boolean): LocalCloudInfo {
  return {
    apiUrl: state.apiUrl,
    endpoint: state.endpoint,
    credentials: state.credentials,
    region: state.region,
    outputs: state.outputs,
    state,
    started,
  };
}

async function isApiUp(apiUrl: string): Promise<boolean> {
  try {
    // Any HTTP answer (a 404 for an unknown route included) shows the server is serving.
    const response = await fetch(apiUrl, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** Synthesizes when the template is missing or older than any source file. */
export function ensureSynth(paths: LocalCloudPaths, templatePath: string): void {
  const builtAt = existsSync(templatePath) ? statSync(templatePath).mtimeMs : 0;
  const newest = Math.max(
    0,
    ...SYNTH_SOURCES.map((source) => newestMtime(join(paths.root, source))),
  );
  if (builtAt >= newest) return;
  const output = openSync(join(paths.logDir, 'synth.log'), 'a');
  const result = spawnSync('npm', ['run', '-s', 'synth'], {
    cwd: paths.root,
    stdio: ['ignore', output, output],
  });
  if (result.status !== 0) {
    throw new Error(`npm run synth failed (see ${join(paths.logDir, 'synth.log')})`);
  }
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry.name)));
  }
  return newest;
}

/** Whether `pid` is alive and its command line names `marker` (any live pid where /proc is absent). */
function runs(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    return !existsSync('/proc');
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM to the whole group, then SIGKILL to whatever is left after the grace period. */
async function killGroup(pgid: number): Promise<void> {
  if (!groupAlive(pgid)) return;
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + localSetting('stopTimeoutMs');
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(STATE_POLL_MS);
  if (groupAlive(pgid)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone between the check and the kill.
    }
    while (groupAlive(pgid)) await sleep(STATE_POLL_MS);
  }
}

function tail(logDir: string): string {
  const file = join(logDir, 'daemon.out');
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trim().split('\n').slice(-LOG_TAIL_LINES).join('\n');
}
