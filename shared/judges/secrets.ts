/**
 * Provider API keys. In AWS the judge reads each key from Secrets Manager (secret names from
 * `PROVIDER_SECRET_NAMES`, `openai=name,anthropic=name`, as the stack sets it, or from a
 * per-provider `<PROVIDER>_SECRET_NAME`), once per container; locally from `OPENAI_API_KEY`,
 * `ANTHROPIC_API_KEY`, `OPENAI_COMPATIBLE_API_KEY`. A named OpenAI-compatible endpoint has its
 * own key: the secret `JUDGE_ENDPOINT_SECRET_NAMES` names for it (`local-llama=name,...`), or none
 * — never another provider's or endpoint's. A key is never logged nor put in a reason.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export type LlmProviderName = 'openai' | 'anthropic' | 'openai-compatible';

/**
 * Resolves the key of a provider, or of one of its named endpoints; undefined when none is
 * configured. Rejects on lookup errors.
 */
export interface KeySource {
  apiKey(provider: LlmProviderName, endpoint?: string): Promise<string | undefined>;
}

export type SecretReader = (secretName: string) => Promise<string | undefined>;

const ENV_PREFIX: Record<LlmProviderName, string> = {
  openai: 'OPENAI',
  anthropic: 'ANTHROPIC',
  'openai-compatible': 'OPENAI_COMPATIBLE',
};

/** The secret name for a provider, if the deployment configured one. */
export function secretNameFor(
  provider: LlmProviderName,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const own = env[`${ENV_PREFIX[provider]}_SECRET_NAME`]?.trim();
  if (own) return own;
  for (const pair of (env.PROVIDER_SECRET_NAMES ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === provider) {
      const name = pair.slice(eq + 1).trim();
      if (name) return name;
    }
  }
  return undefined;
}

/** The secret name of a named endpoint's key (`JUDGE_ENDPOINT_SECRET_NAMES`), if it has one. */
export function endpointSecretNameFor(
  endpoint: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  for (const pair of (env.JUDGE_ENDPOINT_SECRET_NAMES ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === endpoint) {
      const name = pair.slice(eq + 1).trim();
      if (name) return name;
    }
  }
  return undefined;
}

/** A secret holds the bare key, or JSON with `api_key` (or `apiKey`). */
export function keyFromSecretString(secret: string): string | undefined {
  const trimmed = secret.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>;
      const key = parsed.api_key ?? parsed.apiKey;
      return typeof key === 'string' && key.trim() !== '' ? key.trim() : undefined;
    } catch {
      return undefined;
    }
  }
  return trimmed === '' ? undefined : trimmed;
}

let secretsClient: SecretsManagerClient | undefined;

const readFromSecretsManager: SecretReader = async (secretName) => {
  secretsClient ??= new SecretsManagerClient({});
  const output = await secretsClient.send(new GetSecretValueCommand({ SecretId: secretName }));
  return output.SecretString;
};

export interface KeySourceOptions {
  env?: Readonly<Record<string, string | undefined>>;
  readSecret?: SecretReader;
}

/** Keys cached for the life of the container; a failed lookup is not cached (next call retries). */
export function createKeySource(options: KeySourceOptions = {}): KeySource {
  const env = options.env ?? process.env;
  const readSecret = options.readSecret ?? readFromSecretsManager;
  const cache = new Map<string, Promise<string | undefined>>();
  const fromSecret = (secretName: string) =>
    readSecret(secretName).then((value) =>
      value === undefined ? undefined : keyFromSecretString(value),
    );
  return {
    apiKey(provider, endpoint) {
      const cacheKey = endpoint === undefined ? provider : `${provider}/${endpoint}`;
      const cached = cache.get(cacheKey);
      if (cached) return cached;
      let lookup: Promise<string | undefined>;
      if (endpoint !== undefined) {
        const secretName = endpointSecretNameFor(endpoint, env);
        lookup = secretName === undefined ? Promise.resolve(undefined) : fromSecret(secretName);
      } else {
        const secretName = secretNameFor(provider, env);
        lookup =
          secretName === undefined
            ? Promise.resolve(env[`${ENV_PREFIX[provider]}_API_KEY`]?.trim() || undefined)
            : fromSecret(secretName);
      }
      cache.set(cacheKey, lookup);
      lookup.catch(() => cache.delete(cacheKey));
      return lookup;
    },
  };
}

let containerKeys: KeySource | undefined;

/** The container-wide key source (process environment, Secrets Manager). */
export function defaultKeySource(): KeySource {
  containerKeys ??= createKeySource();
  return containerKeys;
}
