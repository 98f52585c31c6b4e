/**
 * Environment variables of the Lambda functions, validated with zod. Each function reads only the
 * variables it needs (`readEnv(['TABLE_NAME', ...])`), so a missing one fails at cold start with a
 * message naming it instead of a confusing error on the first request.
 */
import * as z from 'zod';
import { BUDGET_MAXIMUM_LIMIT, CONFIG_SPEC, DEFAULT_CONFIG } from '#domain/config.ts';
import type { InFlightCaps } from '#domain/in-flight.ts';

const nonEmpty = z.string().trim().min(1);

/**
 * A deployment maximum from the environment: a whole number from `min` up to `max`, the config
 * default unless set.
 */
function deploymentMaximum(
  name: 'MAX_ESSAYS_PER_BATCH' | 'MAX_ESSAY_CHARS' | 'MAX_BUDGET_PER_BATCH',
  min: number,
  max: number = DEFAULT_CONFIG[name],
) {
  return z
    .string()
    .default(String(DEFAULT_CONFIG[name]))
    .transform((raw) => Number(raw))
    .pipe(z.number().int().min(min).max(max));
}

/** A whole-number deployment setting from the environment, checked by its config entry's schema. */
function configSetting(name: 'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL' | 'MAX_ESSAYS_IN_FLIGHT') {
  return z
    .string()
    .default(String(DEFAULT_CONFIG[name]))
    .transform((raw) => Number(raw))
    .pipe(CONFIG_SPEC[name].schema);
}

/** A setting passed as JSON in one variable (`unset`, `{}` by default, when unset), then checked by its schema. */
function jsonSetting<S extends z.ZodType>(schema: S, unset = '{}') {
  return z
    .string()
    .default(unset)
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

const ENV_SCHEMAS = {
  TABLE_NAME: nonEmpty,
  COMPARISON_QUEUE_URL: nonEmpty,
  CALLBACK_QUEUE_URL: nonEmpty,
  CONTINUATION_QUEUE_URL: nonEmpty,
  EVENT_BUS_NAME: nonEmpty,
  /** Comma list of judge providers this deployment accepts; `mock` unless set. */
  ALLOWED_PROVIDERS: z
    .string()
    .default('mock')
    .transform((raw) =>
      raw
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name.length > 0),
    ),
  /**
   * The deployment's provider rate limits (JSON of the PROVIDER_RATE_LIMITS setting, e.g.
   * `{"openai":{"requests_per_minute":500}}`); none unless set.
   */
  PROVIDER_RATE_LIMITS: jsonSetting(CONFIG_SPEC.PROVIDER_RATE_LIMITS.schema),
  /** The deployment's admins (ADMIN_PRINCIPALS, comma list of ARNs, docs/security.md); none unless set. */
  ADMIN_PRINCIPALS: z
    .string()
    .default('')
    .transform((raw) =>
      raw
        .split(',')
        .map((arn) => arn.trim())
        .filter((arn) => arn.length > 0),
    )
    .pipe(CONFIG_SPEC.ADMIN_PRINCIPALS.schema),
  /**
   * The deployment's named OpenAI-compatible endpoints (JSON of the JUDGE_ENDPOINTS setting,
   * `{"local-llama":"https://host/v1"}`); none unless set.
   */
  JUDGE_ENDPOINTS: jsonSetting(CONFIG_SPEC.JUDGE_ENDPOINTS.schema),
  /**
   * Which of those endpoints speak the OpenAI Batch API (JSON of the JUDGE_BATCH_ENDPOINTS
   * setting, `["local-llama"]`): only they take judge.mode provider_batch; none unless set.
   */
  JUDGE_BATCH_ENDPOINTS: jsonSetting(CONFIG_SPEC.JUDGE_BATCH_ENDPOINTS.schema, '[]'),
  /**
   * `true` only on the local cloud (the user's own machine), which sets it: a batch may then give
   * its OpenAI-compatible judge a raw base_url to a loopback address. The stack never sets it.
   */
  ALLOW_LOOPBACK_BASE_URLS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((raw) => raw === 'true'),
  /**
   * The deployment maxima a request is checked against (docs/deploy.md). Essays and characters may
   * only be lowered (their defaults are what the response and item limits allow); the budget may be
   * raised to the top of its range.
   */
  MAX_ESSAYS_PER_BATCH: deploymentMaximum('MAX_ESSAYS_PER_BATCH', 2),
  MAX_ESSAY_CHARS: deploymentMaximum('MAX_ESSAY_CHARS', 1),
  MAX_BUDGET_PER_BATCH: deploymentMaximum('MAX_BUDGET_PER_BATCH', 1, BUDGET_MAXIMUM_LIMIT),
  /** The in-flight caps (docs/deploy.md), within the ranges of their config entries. */
  MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL: configSetting('MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL'),
  MAX_ESSAYS_IN_FLIGHT: configSetting('MAX_ESSAYS_IN_FLIGHT'),
  /**
   * The caller of a request with no IAM context (docs/security.md): set only by the local cloud
   * (`arn:aws:iam::<account>:user/local-cli`); the stack never sets it, so in AWS such a request is
   * refused.
   */
  LOCAL_CALLER_PRINCIPAL: z.string().trim().min(1).optional(),
  STAGE: z.string().default('dev'),
  POWERTOOLS_SERVICE_NAME: z.string().default('cj-engine'),
  POWERTOOLS_METRICS_NAMESPACE: z.string().default('CjEngine'),
  POWERTOOLS_LOG_LEVEL: z.string().default('INFO'),
  /** Set by the local cloud (moto_server); the SDK reads it too, the SQS client needs to know. */
  AWS_ENDPOINT_URL: z.string().optional(),
} as const;

export type EnvName = keyof typeof ENV_SCHEMAS;
export type Env<K extends EnvName> = { [P in K]: z.output<(typeof ENV_SCHEMAS)[P]> };

export class EnvError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'EnvError';
  }
}

/** Reads and validates the named variables from `source` (the process environment by default). */
export function readEnv<K extends EnvName>(
  names: readonly K[],
  source: Readonly<Record<string, string | undefined>> = process.env,
): Env<K> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const parsed = ENV_SCHEMAS[name].safeParse(source[name]);
    if (!parsed.success) {
      throw new EnvError(name, `environment variable ${name} is missing or invalid`);
    }
    out[name] = parsed.data;
  }
  return out as Env<K>;
}

/** The deployment maxima (MAX_ESSAYS_PER_BATCH, MAX_ESSAY_CHARS, MAX_BUDGET_PER_BATCH) from `source`. */
export function limitsFromEnv(source: Readonly<Record<string, string | undefined>> = process.env): {
  maxEssaysPerBatch: number;
  maxEssayChars: number;
  maxBudgetPerBatch: number;
} {
  const env = readEnv(['MAX_ESSAYS_PER_BATCH', 'MAX_ESSAY_CHARS', 'MAX_BUDGET_PER_BATCH'], source);
  return {
    maxEssaysPerBatch: env.MAX_ESSAYS_PER_BATCH,
    maxEssayChars: env.MAX_ESSAY_CHARS,
    maxBudgetPerBatch: env.MAX_BUDGET_PER_BATCH,
  };
}

/** The in-flight caps (MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL, MAX_ESSAYS_IN_FLIGHT) from `source`. */
export function inFlightCapsFromEnv(
  source: Readonly<Record<string, string | undefined>> = process.env,
): InFlightCaps {
  const env = readEnv(['MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL', 'MAX_ESSAYS_IN_FLIGHT'], source);
  return {
    maxBatchesPerPrincipal: env.MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL,
    maxEssaysInFlight: env.MAX_ESSAYS_IN_FLIGHT,
  };
}
