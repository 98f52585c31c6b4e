/**
 * `cj local start|stop|status|restart`: drives the local cloud (localstack/local-cloud). Loaded lazily so
 * the other commands never pull in the emulator's code.
 */

import {
  JUDGE_ENV_NAMES,
  ProviderListError,
  parseProviderList,
} from '#localstack/local-cloud/judge-env.ts';
import { JUDGE_PROVIDERS, type JudgeProviderName } from '#messages/api.ts';
import type { ParsedArgs } from '../args.ts';
import { booleanFlag, numberFlag, stringFlag } from '../args.ts';
import type { Command, Io } from '../command.ts';
import { CliError, EXIT, UsageError } from '../errors.ts';
import { localCloudDir } from '../target.ts';

type LocalCloudModule = typeof import('#localstack/local-cloud/index.ts');
type LocalCloudInfo = Awaited<ReturnType<LocalCloudModule['startLocalCloud']>>;

async function loadLocalCloud(): Promise<LocalCloudModule> {
  try {
    return await import('#localstack/local-cloud/index.ts');
  } catch (error) {
    throw new CliError(`cannot load the local cloud (${(error as Error).message})`, EXIT.FAILURE);
  }
}

const ACTIONS = ['start', 'stop', 'status', 'restart'] as const;
type Action = (typeof ACTIONS)[number];

type ReadyState = Extract<LocalCloudInfo['state'], { ready: true }>;

/** `  judges    mock, openai (keys from: OPENAI_API_KEY)` — variable names only, never values. */
function describeJudges(state: ReadyState): string {
  if (!state.judges) return '';
  const { allowedProviders, passedEnv } = state.judges;
  const passed = passedEnv.length > 0 ? ` (from this shell: ${passedEnv.join(', ')})` : '';
  return `  judges    ${allowedProviders.join(', ')}${passed}\n`;
}

function sameProviders(state: ReadyState, providers: readonly string[]): boolean {
  const running = state.judges?.allowedProviders ?? [];
  return running.length === providers.length && providers.every((p) => running.includes(p));
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export const localCommand: Command = {
  name: 'local',
  summary:
    'start, stop, inspect the local cloud (moto_server + local function host), or kill and restart its function host',
  usage:
    'cj local start|stop|status|restart [--providers mock,openai,...] [--schedule-interval-s N] [--chaos SPEC] [--keep-state] [--json]',
  flags: {
    providers: {
      type: 'string',
      valueName: 'list',
      description: `start: judge providers the local cloud accepts, comma-separated (default: all of ${JUDGE_PROVIDERS.join(', ')}); keys and base URLs come from this shell's ${JUDGE_ENV_NAMES.join(', ')}`,
    },
    'schedule-interval-s': {
      type: 'number',
      valueName: 'N',
      description:
        'start: run scheduled functions (the sweeper) every N seconds instead of their schedule',
    },
    chaos: {
      type: 'string',
      valueName: 'SPEC',
      description:
        'start: inject faults, e.g. crash=0.05,throttle=0.05,conflict=0.02,duplicate=0.3,drop=0.02,seed=7,redelivery_s=2 (docs/local-cloud.md)',
    },
    'keep-state': {
      type: 'boolean',
      description:
        'restart: SIGKILL the function host and start it again against the same moto_server state (the only restart there is; the flag says so)',
    },
    json: { type: 'boolean', description: 'print the answer as JSON' },
  },
  async run(args: ParsedArgs, io: Io): Promise<number> {
    const [action, ...extra] = args.positionals;
    if (action === undefined) throw new UsageError('<start|stop|status>', 'missing action');
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(action, 'expected start, stop, status or restart');
    }
    const chaos = stringFlag(args, 'chaos');
    if (chaos !== undefined && action !== 'start') {
      throw new UsageError('--chaos', 'only `cj local start` takes a chaos spec');
    }
    if (extra.length > 0) throw new UsageError(extra[0] as string, 'unexpected argument');
    const interval = numberFlag(args, 'schedule-interval-s');
    if (interval !== undefined && !(interval > 0)) {
      throw new UsageError('--schedule-interval-s', `expected a number > 0, got ${interval}`);
    }
    const asJson = booleanFlag(args, 'json');
    const providerList = stringFlag(args, 'providers');
    if (providerList !== undefined && action !== 'start') {
      throw new UsageError('--providers', 'only applies to `cj local start`');
    }
    let providers: JudgeProviderName[] | undefined;
    try {
      providers = providerList === undefined ? undefined : parseProviderList(providerList);
    } catch (error) {
      if (error instanceof ProviderListError) throw new UsageError('--providers', error.message);
      throw error;
    }
    const cloud = await loadLocalCloud();
    if (chaos !== undefined) {
      try {
        cloud.parseChaos(chaos);
      } catch (error) {
        throw new UsageError('--chaos', (error as Error).message);
      }
    }
    // The same folder the other commands read the API URL from (CJ_LOCAL_CLOUD_DIR overrides).
    const location = { stateDir: localCloudDir(io.env) };
    switch (action as Action) {
      case 'start': {
        let info: LocalCloudInfo;
        try {
          info = await cloud.startLocalCloud({
            ...location,
            environment: io.env,
            ...(providers === undefined ? {} : { providers }),
            ...(interval === undefined ? {} : { scheduleIntervalSeconds: interval }),
            ...(chaos === undefined ? {} : { chaos }),
          });
        } catch (error) {
          throw new CliError(
            `local cloud did not start: ${(error as Error).message}`,
            EXIT.FAILURE,
          );
        }
        const { apiUrl, endpoint, region, started } = info;
        io.stdout(
          asJson
            ? json({
                apiUrl,
                endpoint,
                region,
                started,
                readyMs: info.state.readyMs,
                logDir: info.state.logDir,
                functionNode: info.state.functionNode,
                judges: info.state.judges ?? null,
              })
            : `local cloud ${started ? `ready in ${(info.state.readyMs / 1000).toFixed(1)} s` : 'already running'}\n` +
                `  API       ${apiUrl}\n  AWS       ${endpoint} (${region})\n  logs      ${info.state.logDir}\n` +
                `  functions Node ${info.state.functionNode}\n${describeJudges(info.state)}` +
                (!started && providers !== undefined && !sameProviders(info.state, providers)
                  ? '  note      it runs with the providers above: `cj local stop` first to change them\n'
                  : ''),
        );
        return EXIT.OK;
      }
      case 'restart': {
        let info: LocalCloudInfo;
        try {
          info = await cloud.restartFunctionHost(location);
        } catch (error) {
          throw new CliError(
            `function host did not restart: ${(error as Error).message}`,
            EXIT.FAILURE,
          );
        }
        io.stdout(
          asJson
            ? json({
                apiUrl: info.apiUrl,
                endpoint: info.endpoint,
                pid: info.state.pid,
                hostGeneration: info.state.hostGeneration,
                readyMs: info.state.readyMs,
              })
            : `function host restarted (generation ${info.state.hostGeneration}) in ${(info.state.readyMs / 1000).toFixed(1)} s against the same moto_server\n`,
        );
        return EXIT.OK;
      }
      case 'stop': {
        const result = await cloud.stopLocalCloud(location);
        io.stdout(
          asJson
            ? json(result)
            : result.stopped
              ? `local cloud stopped (processes ${result.pids.join(', ')})\n`
              : 'local cloud was not running\n',
        );
        return EXIT.OK;
      }
      case 'status': {
        const status = await cloud.localCloudStatus(location);
        if (asJson) {
          io.stdout(json(status));
        } else if (status.running) {
          io.stdout(
            status.state?.ready
              ? `local cloud running\n  API       ${status.state.apiUrl}\n  AWS       ${status.state.endpoint}\n  logs      ${status.state.logDir}\n  functions Node ${status.state.functionNode}\n${describeJudges(status.state)}`
              : 'local cloud running\n',
          );
        } else {
          io.stdout(
            `local cloud not running${status.state && !status.state.ready ? ` (last start failed: ${status.state.error})` : ''}` +
              `${status.processAlive ? ` (process alive, moto ${status.motoUp ? 'up' : 'down'}, API ${status.apiUp ? 'up' : 'down'})` : ''}\n`,
          );
        }
        return status.running ? EXIT.OK : EXIT.UNREACHABLE;
      }
    }
  },
};
