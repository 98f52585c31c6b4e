/**
 * `cj local start|stop|status`: drives the local cloud (localstack/local-cloud). Loaded lazily so
 * the other commands never pull in the emulator's code.
 */
import { pathToFileURL } from 'node:url';
import type { ParsedArgs } from '../args.ts';
import { booleanFlag } from '../args.ts';
import type { Command, Io } from '../command.ts';
import { CliError, EXIT, UsageError } from '../errors.ts';
import { repoRoot } from '../target.ts';

interface LocalCloudModule {
  startLocalCloud(options?: Record<string, unknown>): Promise<unknown>;
  stopLocalCloud(options?: Record<string, unknown>): Promise<unknown>;
  localCloudStatus(options?: Record<string, unknown>): Promise<unknown> | unknown;
}

async function loadLocalCloud(): Promise<LocalCloudModule> {
  const url = pathToFileURL(`${repoRoot()}localstack/local-cloud/index.ts`).href;
  try {
    return (await import(url)) as LocalCloudModule;
  } catch (error) {
    throw new CliError(`cannot load the local cloud (${(error as Error).message})`, EXIT.FAILURE);
  }
}

const ACTIONS = ['start', 'stop', 'status'] as const;
type Action = (typeof ACTIONS)[number];

function render(value: unknown, json: boolean): string {
  if (value === undefined) return '';
  if (json || typeof value !== 'string') return `${JSON.stringify(value, null, 2)}\n`;
  return `${value}\n`;
}

export const localCommand: Command = {
  name: 'local',
  summary: 'start, stop or inspect the local cloud (moto_server + local function host)',
  usage: 'cj local start|stop|status [--json]',
  flags: {
    json: { type: 'boolean', description: 'print the answer as JSON' },
  },
  async run(args: ParsedArgs, io: Io): Promise<number> {
    const [action, ...extra] = args.positionals;
    if (action === undefined) throw new UsageError('<start|stop|status>', 'missing action');
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(action, 'expected start, stop or status');
    }
    if (extra.length > 0) throw new UsageError(extra[0] as string, 'unexpected argument');
    const json = booleanFlag(args, 'json');
    const cloud = await loadLocalCloud();
    const started = Date.now();
    switch (action as Action) {
      case 'start': {
        const info = await cloud.startLocalCloud();
        if (!json)
          io.stderr(`local cloud ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        io.stdout(render(info, json));
        return EXIT.OK;
      }
      case 'stop': {
        const info = await cloud.stopLocalCloud();
        if (!json) io.stderr('local cloud stopped\n');
        io.stdout(render(info, json));
        return EXIT.OK;
      }
      case 'status': {
        io.stdout(render(await cloud.localCloudStatus(), true));
        return EXIT.OK;
      }
    }
  },
};
