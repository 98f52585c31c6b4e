/**
 * Which API the CLI talks to, in this order: `--api-url`, `CJ_API_URL`, the `ApiUrl` output of the
 * stack `CjEngine-<stage>` in a CDK outputs file (`--outputs-file` / `CJ_OUTPUTS_FILE`, as written
 * by `cdk deploy --outputs-file`), then the running local cloud (`.local-cloud/state.json`).
 * Requests to an AWS host are SigV4-signed; `CJ_SIGV4=1|0` forces signing on or off.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from './api.ts';
import type { FlagSpecs, ParsedArgs } from './args.ts';
import { stringFlag } from './args.ts';
import { CLI_DEFAULTS } from './defaults.ts';
import { CliError, EXIT, UsageError } from './errors.ts';
import { createSigV4Signer, regionFromApiUrl } from './signing.ts';

export const TARGET_FLAGS: FlagSpecs = {
  'api-url': {
    type: 'string',
    valueName: 'url',
    description: 'HTTP API base URL (default: CJ_API_URL, the outputs file, or the local cloud)',
  },
  'outputs-file': {
    type: 'string',
    valueName: 'path',
    description: 'CDK outputs file of a deployed stack (default: CJ_OUTPUTS_FILE)',
  },
  stage: {
    type: 'string',
    valueName: 'name',
    description: `stage of the stack CjEngine-<stage> in the outputs file (default: CJ_STAGE or ${CLI_DEFAULTS.STAGE})`,
  },
};

export type TargetSource = 'flag' | 'env' | 'outputs' | 'local';

export interface Target {
  apiUrl: string;
  source: TargetSource;
  /** AWS region to sign for; absent for an unsigned (local) target. */
  signingRegion?: string;
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Folder of the local cloud's state and logs (`CJ_LOCAL_CLOUD_DIR` overrides, for tests). */
export function localCloudDir(env: NodeJS.ProcessEnv): string {
  return env.CJ_LOCAL_CLOUD_DIR ?? join(REPO_ROOT, '.local-cloud');
}

export function repoRoot(): string {
  return REPO_ROOT;
}

function readJson(path: string, subject: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(subject, `cannot read ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(subject, `${path} is not valid JSON`);
  }
}

function parseUrl(raw: string, subject: string): URL {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    return url;
  } catch {
    throw new UsageError(subject, `not an http(s) URL: "${raw}"`);
  }
}

function apiUrlFromOutputs(path: string, stage: string): string {
  const outputs = readJson(path, '--outputs-file');
  const stackName = `CjEngine-${stage}`;
  const stack = (outputs as Record<string, Record<string, unknown> | undefined>)[stackName];
  const apiUrl = stack?.ApiUrl;
  if (typeof apiUrl !== 'string') {
    throw new UsageError('--outputs-file', `${path} has no ApiUrl output for stack ${stackName}`);
  }
  return apiUrl;
}

function apiUrlFromLocalCloud(env: NodeJS.ProcessEnv): string {
  const statePath = join(localCloudDir(env), 'state.json');
  let state: unknown;
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8'));
  } catch {
    throw new CliError(
      'no API to talk to: the local cloud is not running (start it with `cj local start`) and neither --api-url nor CJ_API_URL is set',
      EXIT.UNREACHABLE,
    );
  }
  const apiUrl = (state as { apiUrl?: unknown }).apiUrl;
  if (typeof apiUrl !== 'string') {
    throw new CliError(`${statePath} has no apiUrl`, EXIT.UNREACHABLE);
  }
  return apiUrl;
}

export function resolveTarget(args: ParsedArgs, env: NodeJS.ProcessEnv): Target {
  let raw: string;
  let source: TargetSource;
  let subject: string;
  const flagUrl = stringFlag(args, 'api-url');
  const outputsFile = stringFlag(args, 'outputs-file') ?? env.CJ_OUTPUTS_FILE;
  if (flagUrl !== undefined) {
    [raw, source, subject] = [flagUrl, 'flag', '--api-url'];
  } else if (env.CJ_API_URL) {
    [raw, source, subject] = [env.CJ_API_URL, 'env', 'CJ_API_URL'];
  } else if (outputsFile) {
    const stage = stringFlag(args, 'stage') ?? env.CJ_STAGE ?? CLI_DEFAULTS.STAGE;
    [raw, source, subject] = [apiUrlFromOutputs(outputsFile, stage), 'outputs', '--outputs-file'];
  } else {
    [raw, source, subject] = [apiUrlFromLocalCloud(env), 'local', 'state.json apiUrl'];
  }
  const url = parseUrl(raw, subject);
  const awsRegion = regionFromApiUrl(url) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const sign =
    env.CJ_SIGV4 === '1' || (env.CJ_SIGV4 !== '0' && regionFromApiUrl(url) !== undefined);
  if (sign && !awsRegion) {
    throw new UsageError('CJ_SIGV4', 'signing needs a region: set AWS_REGION');
  }
  return sign && awsRegion
    ? { apiUrl: url.toString(), source, signingRegion: awsRegion }
    : { apiUrl: url.toString(), source };
}

export function clientFor(target: Target): ApiClient {
  return new ApiClient({
    baseUrl: target.apiUrl,
    ...(target.signingRegion ? { signer: createSigV4Signer(target.signingRegion) } : {}),
  });
}
