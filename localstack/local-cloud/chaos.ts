/**
 * Fault injection for soaks (off unless a chaos spec is given at start): the faults an SQS +
 * Lambda + DynamoDB pipeline meets in AWS, each drawn from one seeded stream and written as one
 * JSON line to `logs/chaos.log`, so a soak can count what it survived.
 *
 * - `crash`: an invocation's instance is killed at a random point (before or after one of its
 *   AWS or HTTP calls, or after the handler returned), as a timeout or an out-of-memory kill ends
 *   it; its messages return later (function-host.ts, lambda-runtime.mjs).
 * - `throttle` / `conflict`: a function's DynamoDB request is answered with
 *   ProvisionedThroughputExceededException / a transaction conflict, after its IAM check
 *   (moto_serialized.py).
 * - `duplicate`: a message a function processed is not deleted but delivered once more (sqs-poller.ts);
 *   `duplicate@<function>` sets the rate of one function's queue (a test that must meet stale
 *   continuation triggers duplicates every one of them, whatever the timing).
 * - `drop`: a callback never reaches the callback function (sqs-poller.ts).
 */
import { appendFileSync } from 'node:fs';
import { seededRandom } from '#domain/random.ts';

export const FAULT_KINDS = ['crash', 'throttle', 'conflict', 'duplicate', 'drop'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosSettings {
  /** Probability per invocation (crash), per DynamoDB request (throttle, conflict), per message (duplicate, drop). */
  readonly rates: Readonly<Record<FaultKind, number>>;
  readonly seed: number;
  /**
   * Seconds after which a message returns when an invocation failed on it or it was kept as a
   * duplicate; 0 = the queue's visibility timeout, as in AWS. A soak sets a few seconds so that
   * waiting out 720 s visibility timeouts does not dominate its wall time.
   */
  readonly redeliverySeconds: number;
  /** `duplicate@<function>`: the duplicate rate of that function's queue, instead of `duplicate`. */
  readonly duplicateByFunction: Readonly<Record<string, number>>;
}

/** The function whose queue loses `drop` messages: a dropped message is a callback never sent. */
export const DROP_TARGET_FUNCTION = 'callback';

const OPTION_KEYS = ['seed', 'redelivery_s'] as const;

export const NO_CHAOS: ChaosSettings = {
  rates: { crash: 0, throttle: 0, conflict: 0, duplicate: 0, drop: 0 },
  seed: 1,
  redeliverySeconds: 0,
  duplicateByFunction: {},
};

/** Function short names a rate may target (`duplicate@continuation`): lower-case words and dashes. */
const FUNCTION_NAME = /^[a-z][a-z0-9-]*$/;

export function chaosEnabled(settings: ChaosSettings): boolean {
  return (
    FAULT_KINDS.some((kind) => settings.rates[kind] > 0) ||
    Object.values(settings.duplicateByFunction).some((rate) => rate > 0)
  );
}

/**
 * Parses `crash=0.05,throttle=0.05,conflict=0.02,duplicate=0.3,drop=0.02[,duplicate@continuation=1]
 * [,seed=7][,redelivery_s=2]`; an unknown name or a bad value throws an error naming it. Unnamed
 * faults are off.
 */
export function parseChaos(spec: string): ChaosSettings {
  const rates: Record<FaultKind, number> = { ...NO_CHAOS.rates };
  let seed = NO_CHAOS.seed;
  let redeliverySeconds = NO_CHAOS.redeliverySeconds;
  const duplicateByFunction: Record<string, number> = {};
  for (const part of spec.split(',').map((item) => item.trim())) {
    if (part === '') continue;
    const [name = '', raw, ...rest] = part.split('=');
    const value = Number(raw);
    if (raw === undefined || rest.length > 0 || raw.trim() === '' || !Number.isFinite(value)) {
      throw new Error(`chaos: "${part}" must be NAME=NUMBER`);
    }
    const [kind = '', target, ...more] = name.split('@');
    if (target !== undefined) {
      if (kind !== 'duplicate' || more.length > 0 || !FUNCTION_NAME.test(target)) {
        throw new Error(`chaos: "${name}" must be duplicate@FUNCTION (a function's short name)`);
      }
      if (value < 0 || value > 1) throw new Error(`chaos: ${name} must be within 0..1, got ${raw}`);
      duplicateByFunction[target] = value;
    } else if ((FAULT_KINDS as readonly string[]).includes(name)) {
      if (value < 0 || value > 1) throw new Error(`chaos: ${name} must be within 0..1, got ${raw}`);
      rates[name as FaultKind] = value;
    } else if (name === 'seed') {
      if (!Number.isInteger(value) || value < 0) {
        throw new Error(`chaos: seed must be a non-negative integer, got ${raw}`);
      }
      seed = value;
    } else if (name === 'redelivery_s') {
      if (value < 0 || value > 43_200) {
        throw new Error(`chaos: redelivery_s must be within 0..43200, got ${raw}`);
      }
      redeliverySeconds = value;
    } else {
      throw new Error(
        `chaos: unknown name "${name}" (expected ${[...FAULT_KINDS, 'duplicate@FUNCTION', ...OPTION_KEYS].join(', ')})`,
      );
    }
  }
  return { rates, seed, redeliverySeconds, duplicateByFunction };
}

/** Refuses a `duplicate@<function>` that names no function of the stack, listing those it has. */
export function assertChaosTargets(
  settings: ChaosSettings,
  functionNames: readonly string[],
): void {
  for (const target of Object.keys(settings.duplicateByFunction)) {
    if (!functionNames.includes(target)) {
      throw new Error(
        `chaos: duplicate@${target} names no function of the stack (${functionNames.join(', ')})`,
      );
    }
  }
}

/** The spec parseChaos reads back (for state.json and a restart). */
export function formatChaos(settings: ChaosSettings): string {
  return [
    ...FAULT_KINDS.map((kind) => `${kind}=${settings.rates[kind]}`),
    ...Object.entries(settings.duplicateByFunction).map(
      ([target, rate]) => `duplicate@${target}=${rate}`,
    ),
    `seed=${settings.seed}`,
    `redelivery_s=${settings.redeliverySeconds}`,
  ].join(',');
}

/** Draws the faults of one function host and logs each one injected. */
export class Chaos {
  private readonly random: () => number;
  readonly counts: Record<FaultKind, number> = {
    crash: 0,
    throttle: 0,
    conflict: 0,
    duplicate: 0,
    drop: 0,
  };

  /**
   * `stream` separates the draws of successive hosts on one moto (a restart must not replay the
   * first host's faults).
   */
  constructor(
    readonly settings: ChaosSettings,
    private readonly logFile?: string,
    stream = 0,
  ) {
    this.random = seededRandom(settings.seed * 7919 + stream * 104_729 + 1);
  }

  get enabled(): boolean {
    return chaosEnabled(this.settings);
  }

  /**
   * True with the fault's probability (never when it is off); `target` is the function whose
   * message a `duplicate` is drawn for, which `duplicate@<function>` may give its own rate.
   */
  draw(kind: FaultKind, target?: string): boolean {
    const rate =
      (kind === 'duplicate' && target !== undefined
        ? this.settings.duplicateByFunction[target]
        : undefined) ?? this.settings.rates[kind];
    return rate > 0 && this.random() < rate;
  }

  /** A uniform number in [0, 1) from the same stream (where in an invocation to crash). */
  uniform(): number {
    return this.random();
  }

  record(kind: FaultKind, detail: Record<string, unknown>): void {
    this.counts[kind] += 1;
    if (!this.logFile) return;
    appendFileSync(
      this.logFile,
      `${JSON.stringify({ timestamp: new Date().toISOString(), fault: kind, ...detail })}\n`,
    );
  }
}

/** Counts per fault kind in a chaos log (JSON lines with a `fault` field). */
export function countFaults(text: string): Record<FaultKind | 'host_kill', number> {
  const counts: Record<FaultKind | 'host_kill', number> = {
    crash: 0,
    throttle: 0,
    conflict: 0,
    duplicate: 0,
    drop: 0,
    host_kill: 0,
  };
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const fault = (JSON.parse(line) as { fault?: unknown }).fault;
      if (typeof fault === 'string' && fault in counts) counts[fault as keyof typeof counts] += 1;
    } catch {
      // A line cut by a SIGKILL mid-write is not a fault record.
    }
  }
  return counts;
}

export const CHAOS_LOG = 'chaos.log';
