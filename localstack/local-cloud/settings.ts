/**
 * Settings of the local cloud (not engine defaults: those live in shared/domain/config.ts). Each has
 * its name, unit and meaning; the environment variable named in `env` overrides it.
 */

interface LocalSetting {
  readonly default: number | string;
  readonly unit: string;
  readonly env?: string;
  readonly description: string;
}

export const LOCAL_CLOUD_SETTINGS = {
  region: {
    default: 'us-east-1',
    unit: 'AWS region',
    env: 'CJ_LOCAL_REGION',
    description: 'Region the local resources, ARNs and function environments use.',
  },
  accountId: {
    default: '123456789012',
    unit: 'AWS account id',
    description: "moto_server's fixed default account; ARNs and queue URLs are built with it.",
  },
  stage: {
    default: 'dev',
    unit: 'name',
    env: 'CJ_STAGE',
    description:
      'Stage whose template (cdk.out/CjEngine-<stage>.template.json) the local cloud runs.',
  },
  motoReadyTimeoutMs: {
    default: 30_000,
    unit: 'ms',
    description: 'How long to wait for a fresh moto_server to answer (a cold start takes ~4 s).',
  },
  readyTimeoutMs: {
    default: 90_000,
    unit: 'ms',
    description: 'How long startLocalCloud waits for the background process to report ready.',
  },
  stopTimeoutMs: {
    default: 10_000,
    unit: 'ms',
    description: 'Grace period after SIGTERM before the process group is killed with SIGKILL.',
  },
  pollWaitSeconds: {
    default: 10,
    unit: 's',
    description:
      'SQS long-poll wait of a standard-queue poller (Lambda uses 20; shorter keeps a graceful stop short).',
  },
  fifoIdleDelayMs: {
    default: 200,
    unit: 'ms',
    description:
      'Pause between empty short polls of a FIFO queue: moto spins while a long poll waits on a locked message group, so FIFO queues are short-polled.',
  },
  defaultPollers: {
    default: 2,
    unit: 'concurrent batches',
    description:
      'Concurrent pollers (and so invocations) per event source mapping without ScalingConfig.MaximumConcurrency.',
  },
  maxInstancesPerFunction: {
    default: 4,
    unit: 'worker threads',
    description:
      'Most warm instances of one function without reserved concurrency (the machine has 2 cores shared by many).',
  },
  defaultTimeoutSeconds: {
    default: 3,
    unit: 's',
    description: "Function timeout when the template gives none (Lambda's default).",
  },
  defaultBatchSize: {
    default: 10,
    unit: 'messages',
    description:
      "Event source mapping batch size when the template gives none (Lambda's default for SQS).",
  },
  scheduleIntervalOverrideSeconds: {
    default: 0,
    unit: 's',
    env: 'CJ_LOCAL_SCHEDULE_INTERVAL_S',
    description:
      'When > 0, every scheduled function runs at this interval instead of its schedule.',
  },
  roleSessionSeconds: {
    default: 3_600,
    unit: 's',
    env: 'CJ_LOCAL_ROLE_SESSION_S',
    description:
      "Lifetime of each function's temporary role credentials (sts:AssumeRole DurationSeconds; AWS allows 900 up to the role's maximum, 3600 by default).",
  },
  roleRenewBeforeSeconds: {
    default: 600,
    unit: 's',
    env: 'CJ_LOCAL_ROLE_RENEW_BEFORE_S',
    description:
      "Role credentials are renewed this long before they expire; an instance whose credentials would expire within its function's timeout is retired, as Lambda never runs an environment past its credentials.",
  },
  chaos: {
    default: '',
    unit: 'chaos spec',
    env: 'CJ_LOCAL_CHAOS',
    description:
      'Faults `cj local start` injects when it is given no --chaos (docs/local-cloud.md, "Chaos"); empty = none.',
  },
  httpIntegrationTimeoutMs: {
    default: 30_000,
    unit: 'ms',
    description: "API Gateway's integration timeout: a slower function gets a 503.",
  },
} as const satisfies Record<string, LocalSetting>;

export type LocalSettingName = keyof typeof LOCAL_CLOUD_SETTINGS;

/** The setting's value: its environment override when set, its default otherwise. */
export function localSetting<K extends LocalSettingName>(
  name: K,
  env: Readonly<Record<string, string | undefined>> = process.env,
): (typeof LOCAL_CLOUD_SETTINGS)[K]['default'] {
  const spec: LocalSetting = LOCAL_CLOUD_SETTINGS[name];
  const raw = spec.env ? env[spec.env] : undefined;
  if (raw === undefined || raw.trim() === '') return spec.default as never;
  if (typeof spec.default === 'number') {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) {
      throw new Error(`${spec.env} must be a non-negative number, got "${raw}"`);
    }
    return value as never;
  }
  return raw.trim() as never;
}
