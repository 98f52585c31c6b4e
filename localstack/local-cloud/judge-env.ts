/**
 * Real judges on the local cloud: the user's own machine, so `cj local start` allows every judge
 * provider unless told otherwise (`--providers mock,openai`), and hands the functions the provider
 * keys, deployment-level base URLs and named endpoints (`JUDGE_ENDPOINTS`, JSON; the batch-capable
 * ones in `JUDGE_BATCH_ENDPOINTS`, a JSON list) found in its own environment. With `openai-compatible` allowed it also sets ALLOW_LOOPBACK_BASE_URLS: a batch may
 * give a raw base_url, but only to a loopback address (docs/security.md). In AWS the same settings
 * come from the stack (`allowedProviders`, `judgeEndpoints`, Secrets Manager), which never allows
 * a raw base_url; `npm start` keeps the template's (mock).
 */
import { JUDGE_PROVIDERS, type JudgeProviderName } from '#messages/api.ts';

/**
 * What a judge function reads from its environment besides the template's variables, by the
 * provider that uses it: a variable is passed only when its provider is allowed.
 */
const JUDGE_ENV_BY_PROVIDER = {
  OPENAI_API_KEY: 'openai',
  ANTHROPIC_API_KEY: 'anthropic',
  OPENAI_COMPATIBLE_API_KEY: 'openai-compatible',
  OPENAI_BASE_URL: 'openai',
  ANTHROPIC_BASE_URL: 'anthropic',
  JUDGE_ENDPOINTS: 'openai-compatible',
  /** Which of those endpoints speak the OpenAI Batch API (JSON list): judge.mode provider_batch. */
  JUDGE_BATCH_ENDPOINTS: 'openai-compatible',
} as const satisfies Record<string, JudgeProviderName>;

export const JUDGE_ENV_NAMES = Object.keys(JUDGE_ENV_BY_PROVIDER) as Array<
  keyof typeof JUDGE_ENV_BY_PROVIDER
>;

export class ProviderListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderListError';
  }
}

/** `mock,openai` → the providers, checked against the contract's list (order kept, no repeats). */
export function parseProviderList(raw: string): JudgeProviderName[] {
  const names = raw
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) throw new ProviderListError('name at least one provider');
  const unknown = names.find((name) => !(JUDGE_PROVIDERS as readonly string[]).includes(name));
  if (unknown !== undefined) {
    throw new ProviderListError(
      `unknown provider "${unknown}" (known: ${JUDGE_PROVIDERS.join(', ')})`,
    );
  }
  return [...new Set(names)] as JudgeProviderName[];
}

export interface JudgeEnvironment {
  /** Variables added to every function's environment (values include keys: never log them). */
  functionEnv: Record<string, string>;
  allowedProviders: JudgeProviderName[];
  /** Names (never values) of the variables taken from the environment (allowed providers' only). */
  passedNames: string[];
}

/** The functions' judge settings from the starting process's environment. */
export function judgeEnvironment(
  source: Readonly<Record<string, string | undefined>>,
  providers: readonly JudgeProviderName[] = JUDGE_PROVIDERS,
): JudgeEnvironment {
  const functionEnv: Record<string, string> = { ALLOWED_PROVIDERS: providers.join(',') };
  const passedNames: string[] = [];
  for (const name of JUDGE_ENV_NAMES) {
    const value = source[name]?.trim();
    if (!value || !providers.includes(JUDGE_ENV_BY_PROVIDER[name])) continue;
    functionEnv[name] = value;
    passedNames.push(name);
  }
  if (providers.includes('openai-compatible')) functionEnv.ALLOW_LOOPBACK_BASE_URLS = 'true';
  return { functionEnv, allowedProviders: [...providers], passedNames };
}
