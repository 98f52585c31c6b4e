/**
 * Environment variables of the Lambda functions, validated with zod. Each function reads only the
 * variables it needs (`readEnv(['TABLE_NAME', ...])`), so a missing one fails at cold start with a
 * message naming it instead of a confusing error on the first request.
 */
import * as z from 'zod';
import { CONFIG_SPEC } from '#domain/config.ts';

const nonEmpty = z.string().trim().min(1);

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
  PROVIDER_RATE_LIMITS: z
    .string()
    .default('{}')
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not JSON' });
        return z.NEVER;
      }
    })
    .pipe(CONFIG_SPEC.PROVIDER_RATE_LIMITS.schema),
  /**
   * The deployment's named OpenAI-compatible endpoints (JSON of the JUDGE_ENDPOINTS setting,
   * `{"local-llama":"https://host/v1"}`); none unless set.
   */
  JUDGE_ENDPOINTS: z
    .string()
    .default('{}')
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not JSON' });
        return z.NEVER;
      }
    })
    .pipe(CONFIG_SPEC.JUDGE_ENDPOINTS.schema),
  /**
   * `true` only on the local cloud (the user's own machine), which sets it: a batch may then give
   * its OpenAI-compatible judge a raw base_url to a loopback address. The stack never sets it.
   */
  ALLOW_LOOPBACK_BASE_URLS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((raw) => raw === 'true'),
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
