/**
 * `cj submit` flags for a real LLM judge: `--judge openai|anthropic|openai-compatible` with
 * `--judge-model`, `--judge-endpoint NAME` (a compatible server the deployment names) or
 * `--judge-base-url` (a compatible server on this machine, local cloud only), `--rubric FILE`,
 * `--assignment FILE`, `--judge-both-orders` and `--judge-mode sync|provider-batch` (OpenAI,
 * Anthropic, or a named endpoint the deployment declares to speak the OpenAI Batch API: judge each
 * wave through the batch API). The server validates it again.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import type { JudgeOptions } from './api.ts';
import type { FlagSpecs, ParsedArgs } from './args.ts';
import { booleanFlag, stringFlag } from './args.ts';
import { UsageError } from './errors.ts';

export const LLM_PROVIDERS = ['openai', 'anthropic', 'openai-compatible'] as const;

export const LLM_JUDGE_FLAGS: FlagSpecs = {
  'judge-model': {
    type: 'string',
    valueName: 'name',
    description: 'model of an LLM judge (e.g. gpt-4o-mini, claude-sonnet-4-20250514)',
  },
  'judge-endpoint': {
    type: 'string',
    valueName: 'name',
    description: "openai-compatible: one of the deployment's named endpoints (judgeEndpoints)",
  },
  'judge-base-url': {
    type: 'string',
    valueName: 'url',
    description:
      'openai-compatible on the local cloud: a loopback server, e.g. http://127.0.0.1:8000/v1',
  },
  rubric: { type: 'string', valueName: 'FILE', description: 'rubric text shown to an LLM judge' },
  assignment: {
    type: 'string',
    valueName: 'FILE',
    description: 'assignment text shown to an LLM judge',
  },
  'judge-both-orders': {
    type: 'boolean',
    description: 'LLM judge: judge every pair in both orders (two calls) and report order flips',
  },
  'judge-mode': {
    type: 'string',
    valueName: 'sync|provider-batch',
    description:
      'openai/anthropic (or a batch-capable --judge-endpoint): provider-batch judges each wave through the batch API at half price (results within 24 h)',
  },
};

/** CLI spelling → API value of judge.mode. */
const JUDGE_MODES: Record<string, 'sync' | 'provider_batch'> = {
  sync: 'sync',
  'provider-batch': 'provider_batch',
};
/** Providers with a batch API (openai-compatible: only on a named endpoint, checked below). */
const BATCH_PROVIDERS: readonly string[] = ['openai', 'anthropic', 'openai-compatible'];

export type LlmProvider = (typeof LLM_PROVIDERS)[number];
export type LlmJudgeOptions = Exclude<JudgeOptions, { provider: 'mock' }>;

export function isLlmProvider(provider: string): provider is LlmProvider {
  return (LLM_PROVIDERS as readonly string[]).includes(provider);
}

function readTextFlag(args: ParsedArgs, flag: string, cwd: string, maxChars: number) {
  const path = stringFlag(args, flag);
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), 'utf8');
  } catch {
    throw new UsageError(`--${flag}`, `cannot read ${path}`);
  }
  if (text.length > maxChars) {
    throw new UsageError(`--${flag}`, `${path} is longer than ${maxChars} characters`);
  }
  return text;
}

/** Flags that only make sense with an LLM judge, given without one: a usage error. */
export function rejectLlmFlagsWithout(args: ParsedArgs): void {
  const given = Object.keys(LLM_JUDGE_FLAGS).find((name) => args.flags[name] !== undefined);
  if (given !== undefined) {
    throw new UsageError(`--${given}`, `only applies with --judge ${LLM_PROVIDERS.join('|')}`);
  }
}

/** The `judge` body part for an LLM provider. */
export function llmJudgeFromArgs(
  args: ParsedArgs,
  provider: LlmProvider,
  cwd: string = process.cwd(),
): LlmJudgeOptions {
  const model = stringFlag(args, 'judge-model');
  if (model === undefined || model.trim() === '') {
    throw new UsageError('--judge-model', `--judge ${provider} needs a model`);
  }
  const baseUrl = stringFlag(args, 'judge-base-url');
  const endpoint = stringFlag(args, 'judge-endpoint');
  if (provider === 'openai-compatible' && baseUrl === undefined && endpoint === undefined) {
    throw new UsageError(
      '--judge-endpoint',
      '--judge openai-compatible needs --judge-endpoint NAME (or, on the local cloud, --judge-base-url)',
    );
  }
  if (baseUrl !== undefined && endpoint !== undefined) {
    throw new UsageError('--judge-base-url', 'give --judge-endpoint or --judge-base-url, not both');
  }
  for (const [flag, value] of [
    ['--judge-base-url', baseUrl],
    ['--judge-endpoint', endpoint],
  ] as const) {
    if (provider !== 'openai-compatible' && value !== undefined) {
      throw new UsageError(flag, 'only applies with --judge openai-compatible');
    }
  }
  const assignment = readTextFlag(
    args,
    'assignment',
    cwd,
    DEFAULT_CONFIG.JUDGE_MAX_ASSIGNMENT_CHARS,
  );
  const rubric = readTextFlag(args, 'rubric', cwd, DEFAULT_CONFIG.JUDGE_MAX_RUBRIC_CHARS);
  const bothOrders = booleanFlag(args, 'judge-both-orders');
  const mode = judgeModeFrom(args, provider, bothOrders, baseUrl !== undefined);
  // endpoint and base_url belong to openai-compatible only, which the checks above enforce.
  return {
    provider,
    model,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(baseUrl === undefined ? {} : { base_url: baseUrl }),
    ...(assignment === undefined ? {} : { assignment }),
    ...(rubric === undefined ? {} : { rubric }),
    ...(bothOrders ? { judge_both_orders: true } : {}),
    ...(mode === undefined ? {} : { mode }),
  } as LlmJudgeOptions;
}

/**
 * `--judge-mode`: OpenAI, Anthropic and named compatible endpoints have a batch API (whether the
 * endpoint has one, the deployment says: the server answers 400 naming judge.mode if not); a
 * --judge-base-url server has none; a batch judges one order.
 */
function judgeModeFrom(
  args: ParsedArgs,
  provider: string,
  bothOrders: boolean,
  atBaseUrl: boolean,
): 'sync' | 'provider_batch' | undefined {
  const flag = stringFlag(args, 'judge-mode');
  if (flag === undefined) return undefined;
  const mode = JUDGE_MODES[flag];
  if (mode === undefined) throw new UsageError('--judge-mode', 'must be sync or provider-batch');
  if (mode === 'provider_batch' && !BATCH_PROVIDERS.includes(provider)) {
    throw new UsageError(
      '--judge-mode',
      'provider-batch applies with --judge openai|anthropic|openai-compatible',
    );
  }
  if (mode === 'provider_batch' && atBaseUrl) {
    throw new UsageError(
      '--judge-mode',
      'provider-batch needs --judge-endpoint NAME (an endpoint the deployment declares batch-capable), not --judge-base-url',
    );
  }
  if (mode === 'provider_batch' && bothOrders) {
    throw new UsageError(
      '--judge-mode',
      'provider-batch judges one order: drop --judge-both-orders',
    );
  }
  return mode;
}
