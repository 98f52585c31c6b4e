/**
 * Deployment settings: what a deployer may choose with `cdk deploy -c NAME=VALUE`, with name, unit,
 * meaning and validation. Engine behaviour defaults live in shared/domain/config.ts; only the
 * comparison deadline is shared (the alarms watch the same deadline the sweeper enforces).
 */

import * as z from 'zod';
import {
  BUDGET_MAXIMUM_LIMIT,
  CONFIG_SPEC,
  DEFAULT_CONFIG,
  configEntry as setting,
} from '#domain/config.ts';

/** The built-in judge: needs no API key. */
const MOCK_PROVIDER = 'mock';

const commaList = z.string().transform((raw) =>
  raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

/** Context values arrive as strings from the CLI (`-c x=5`) and as JSON values from cdk.json. */
const contextInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** A whole-number setting whose range is its config entry's (shared/domain/config.ts). */
const configInt = (
  name:
    | 'API_RATE_LIMIT_PER_SECOND'
    | 'API_BURST_LIMIT'
    | 'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL'
    | 'MAX_ESSAYS_IN_FLIGHT',
) => z.coerce.number().pipe(CONFIG_SPEC[name].schema);

export const SETTINGS_SPEC = {
  stage: setting(
    z.string().regex(/^[a-z][a-z0-9-]{0,15}$/, 'lower-case letters, digits and dashes'),
    'dev',
    'name',
    'Deployment stage; the stack is named CjEngine-<stage>. The stage `prod` retains data on destroy and turns on table deletion protection.',
  ),
  allowedProviders: setting(
    commaList.pipe(z.array(z.string().regex(/^[a-z0-9_-]+$/)).min(1)),
    'mock',
    'comma list',
    'Judge providers this deployment accepts (ALLOWED_PROVIDERS); `mock` needs no secret.',
  ),
  adminPrincipals: setting(
    commaList.pipe(CONFIG_SPEC.ADMIN_PRINCIPALS.schema),
    '',
    'comma list of IAM ARNs',
    'Principals that may read, cancel and list every batch (ADMIN_PRINCIPALS, docs/security.md); everyone else sees only the batches they created.',
  ),
  providerSecrets: setting(
    commaList.pipe(z.array(z.string().regex(/^[a-z0-9_-]+=[A-Za-z0-9/_+=.@-]+$/))),
    '',
    'comma list of provider=secretName',
    'Secrets Manager secret (name, created by the deployer) holding each real provider API key; only the judge may read them.',
  ),
  judgeEndpoints: setting(
    z
      .union([z.string(), z.record(z.string(), z.string())])
      .transform((raw, ctx) => {
        if (typeof raw !== 'string') return raw;
        const endpoints: Record<string, string> = {};
        for (const pair of commaList.parse(raw)) {
          const eq = pair.indexOf('=');
          if (eq <= 0) {
            ctx.addIssue({ code: 'custom', message: `"${pair}" is not name=url` });
            return z.NEVER;
          }
          endpoints[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
        return endpoints;
      })
      .pipe(CONFIG_SPEC.JUDGE_ENDPOINTS.schema),
    '',
    'comma list of name=baseUrl',
    'The OpenAI-compatible servers batches may judge with, by name (JUDGE_ENDPOINTS, docs/deploy.md), e.g. local-llama=https://llm.internal.example/v1: http(s), no user info, query or fragment. A batch picks one with judge.endpoint; a raw judge.base_url is refused. Needs openai-compatible in allowedProviders.',
  ),
  judgeEndpointSecrets: setting(
    commaList.pipe(z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]*=[A-Za-z0-9/_+=.@-]+$/))),
    '',
    'comma list of endpoint=secretName',
    "Secrets Manager secret (name, created by the deployer) holding a named endpoint's API key; an endpoint without one is called with no key. Only the judge may read them, and each key goes only to its own endpoint.",
  ),
  judgeBatchEndpoints: setting(
    z.union([commaList, z.array(z.string())]).pipe(CONFIG_SPEC.JUDGE_BATCH_ENDPOINTS.schema),
    '',
    'comma list of endpoint names',
    'The named endpoints (judgeEndpoints) that implement the OpenAI Batch API shape (JUDGE_BATCH_ENDPOINTS, docs/deploy.md): only these take judge.mode provider_batch, and the provider-batches function may read only their secrets. Every name must be one of judgeEndpoints.',
  ),
  providerRateLimits: setting(
    z
      .union([
        z.string().transform((raw, ctx) => {
          try {
            return JSON.parse(raw) as unknown;
          } catch {
            ctx.addIssue({ code: 'custom', message: 'must be JSON' });
            return z.NEVER;
          }
        }),
        z.record(z.string(), z.unknown()),
      ])
      .pipe(CONFIG_SPEC.PROVIDER_RATE_LIMITS.schema),
    '{}',
    'JSON: requests and tokens per minute by provider',
    'The provider rate limits every judge invocation shares (PROVIDER_RATE_LIMITS, docs/judges.md "Rate limits"), e.g. {"openai":{"requests_per_minute":500,"tokens_per_minute":200000}}: set them to the account tier. A provider without an entry is not paced.',
  ),
  judgeMaxConcurrency: setting(
    contextInt(2, 1000),
    5,
    'concurrent judge invocations',
    'Most judge invocations the comparison queue drives at once (SQS event source MaximumConcurrency, at least 2): the knob for provider rate limits.',
  ),
  comparisonDeadlineSeconds: setting(
    contextInt(60, 86_400),
    DEFAULT_CONFIG.COMPARISON_DEADLINE_SECONDS,
    'seconds',
    'Comparison deadline the alarms watch (oldest callback message, stuck pending callbacks); keep it equal to the engine COMPARISON_DEADLINE_SECONDS.',
  ),
  maxEssaysPerBatch: setting(
    contextInt(2, DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH),
    DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH,
    'essays',
    'Most essays in one batch (MAX_ESSAYS_PER_BATCH): more is a 400 naming `essays` or `essay_count`. May be lowered, not raised (20,000 is the largest batch the engine is measured at).',
  ),
  maxEssayChars: setting(
    contextInt(1, DEFAULT_CONFIG.MAX_ESSAY_CHARS),
    DEFAULT_CONFIG.MAX_ESSAY_CHARS,
    'characters',
    'Longest essay text (MAX_ESSAY_CHARS): longer is a 400 naming `essays[i].text`, inline and in pages. May be lowered, not raised.',
  ),
  maxBudgetPerBatch: setting(
    contextInt(1, BUDGET_MAXIMUM_LIMIT),
    DEFAULT_CONFIG.MAX_BUDGET_PER_BATCH,
    'comparisons',
    'Largest budget of one batch (MAX_BUDGET_PER_BATCH), the most LLM calls a batch can cost (twice with judge_both_orders): a larger `budget` is a 400 naming `budget`, a default budget is cut to it.',
  ),
  apiRateLimit: setting(
    configInt('API_RATE_LIMIT_PER_SECOND'),
    DEFAULT_CONFIG.API_RATE_LIMIT_PER_SECOND,
    'requests per second',
    'Steady request rate of the HTTP API stage (API_RATE_LIMIT_PER_SECOND); past it and the burst, API Gateway answers 429 before any function runs.',
  ),
  apiBurstLimit: setting(
    configInt('API_BURST_LIMIT'),
    DEFAULT_CONFIG.API_BURST_LIMIT,
    'requests',
    'Burst of the HTTP API stage (API_BURST_LIMIT): requests accepted at once above the steady rate.',
  ),
  maxBatchesInFlightPerPrincipal: setting(
    configInt('MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL'),
    DEFAULT_CONFIG.MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL,
    'batches',
    'Most batches one caller (IAM principal) may have running at once (MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL): one more is a 429 naming the limit.',
  ),
  maxEssaysInFlight: setting(
    configInt('MAX_ESSAYS_IN_FLIGHT'),
    DEFAULT_CONFIG.MAX_ESSAYS_IN_FLIGHT,
    'essays',
    "Most essays of all callers' running batches together (MAX_ESSAYS_IN_FLIGHT): a batch that would pass it is a 429 naming the limit. At least maxEssaysPerBatch.",
  ),
  logLevel: setting(
    z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']),
    'INFO',
    'level',
    'POWERTOOLS_LOG_LEVEL of every function.',
  ),
  logRetentionDays: setting(
    z.coerce
      .number()
      .int()
      .refine((days) => [1, 3, 5, 7, 14, 30, 60, 90, 180, 365].includes(days), {
        message: 'one of 1, 3, 5, 7, 14, 30, 60, 90, 180, 365',
      }),
    30,
    'days',
    'Retention of the function and API access log groups.',
  ),
} as const;

export type SettingName = keyof typeof SETTINGS_SPEC;
export type DeploymentSettings = {
  [K in SettingName]: z.output<(typeof SETTINGS_SPEC)[K]['schema']>;
};

/** A bad `-c NAME=VALUE`; names the setting so the deployer can fix it. */
export class SettingsError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message);
    this.name = 'SettingsError';
  }
}

/** Resolves every setting from a context lookup (`node.tryGetContext`), falling back to defaults. */
export function resolveSettings(lookup: (name: string) => unknown): DeploymentSettings {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS_SPEC) as SettingName[]) {
    const spec = SETTINGS_SPEC[name];
    const raw = lookup(name) ?? spec.default;
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) {
      const detail = parsed.error.issues[0]?.message ?? 'invalid value';
      throw new SettingsError(name, `invalid context value for ${name}: ${detail}`);
    }
    out[name] = parsed.data;
  }
  const settings = out as DeploymentSettings;
  checkProviderSecrets(settings);
  checkJudgeEndpoints(settings);
  checkInFlightCaps(settings);
  return settings;
}

/** A batch of the largest size must fit under the in-flight total, or it could never start. */
function checkInFlightCaps(settings: DeploymentSettings): void {
  if (settings.maxEssaysInFlight < settings.maxEssaysPerBatch) {
    throw new SettingsError(
      'maxEssaysInFlight',
      `maxEssaysInFlight (${settings.maxEssaysInFlight}) is below maxEssaysPerBatch (${settings.maxEssaysPerBatch}): a batch of the largest size could never start`,
    );
  }
}

const COMPATIBLE_PROVIDER = 'openai-compatible';

/**
 * OpenAI-compatible servers are named endpoints, each with its own secret or none: allowing the
 * provider needs at least one endpoint, endpoints need the provider, and every endpoint secret and
 * every batch-capable endpoint names a configured endpoint.
 */
function checkJudgeEndpoints(settings: DeploymentSettings): void {
  const names = Object.keys(settings.judgeEndpoints);
  const allowed = settings.allowedProviders.includes(COMPATIBLE_PROVIDER);
  if (allowed && names.length === 0) {
    throw new SettingsError(
      'judgeEndpoints',
      `provider "${COMPATIBLE_PROVIDER}" is allowed but no endpoint is named (add name=https://host/v1 to judgeEndpoints)`,
    );
  }
  if (!allowed && names.length > 0) {
    throw new SettingsError(
      'judgeEndpoints',
      `endpoints are named but allowedProviders does not allow "${COMPATIBLE_PROVIDER}"`,
    );
  }
  for (const endpoint of endpointSecretMap(settings).keys()) {
    if (!names.includes(endpoint)) {
      throw new SettingsError(
        'judgeEndpointSecrets',
        `a secret is given for endpoint "${endpoint}", which judgeEndpoints does not name`,
      );
    }
  }
  for (const endpoint of settings.judgeBatchEndpoints) {
    if (!names.includes(endpoint)) {
      throw new SettingsError(
        'judgeBatchEndpoints',
        `endpoint "${endpoint}" is declared batch-capable but judgeEndpoints does not name it`,
      );
    }
  }
}

/** The secrets of the endpoints that take provider batches (what provider-batches may read). */
export function batchEndpointSecretMap(settings: DeploymentSettings): Map<string, string> {
  return new Map(
    [...endpointSecretMap(settings)].filter(([endpoint]) =>
      settings.judgeBatchEndpoints.includes(endpoint),
    ),
  );
}

/** Endpoint name → secret name, from the `judgeEndpointSecrets` list. */
export function endpointSecretMap(settings: DeploymentSettings): Map<string, string> {
  return new Map(
    settings.judgeEndpointSecrets.map((pair) => {
      const eq = pair.indexOf('=');
      return [pair.slice(0, eq), pair.slice(eq + 1)] as const;
    }),
  );
}

/**
 * The mock judge needs no key; OpenAI-compatible servers have a key per named endpoint
 * (judgeEndpointSecrets), never one shared by all; every other real provider needs exactly one
 * secret, and vice versa.
 */
function checkProviderSecrets(settings: DeploymentSettings): void {
  const secrets = providerSecretMap(settings);
  if (secrets.has(COMPATIBLE_PROVIDER)) {
    throw new SettingsError(
      'providerSecrets',
      `"${COMPATIBLE_PROVIDER}" keys are per endpoint: name them in judgeEndpointSecrets (endpoint=secretName)`,
    );
  }
  for (const provider of settings.allowedProviders) {
    if (provider !== MOCK_PROVIDER && provider !== COMPATIBLE_PROVIDER && !secrets.has(provider)) {
      throw new SettingsError(
        'providerSecrets',
        `provider "${provider}" is allowed but has no API key secret (add ${provider}=<secret name> to providerSecrets)`,
      );
    }
  }
  for (const provider of secrets.keys()) {
    if (!settings.allowedProviders.includes(provider)) {
      throw new SettingsError(
        'providerSecrets',
        `a secret is given for provider "${provider}", which allowedProviders does not allow`,
      );
    }
  }
}

/** Provider name → secret name, from the `providerSecrets` list. */
export function providerSecretMap(settings: DeploymentSettings): Map<string, string> {
  return new Map(
    settings.providerSecrets.map((pair) => {
      const eq = pair.indexOf('=');
      return [pair.slice(0, eq), pair.slice(eq + 1)] as const;
    }),
  );
}
