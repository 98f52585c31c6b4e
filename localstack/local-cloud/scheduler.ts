/**
 * Scheduled functions: every AWS::Events::Rule with a ScheduleExpression that targets a function
 * invokes it with EventBridge's "Scheduled Event" on its schedule, or at the interval given by
 * CJ_LOCAL_SCHEDULE_INTERVAL_S (tests shorten the sweeper's minute).
 */
import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import type { Chaos } from './chaos.ts';
import type { FunctionHost, InvokeResult } from './function-host.ts';

export interface ScheduleDefinition {
  ruleName: string;
  ruleArn: string;
  expression: string;
  functionId: string;
  /** The target's constant `Input`, when the rule gives one (sent instead of the event). */
  input?: unknown;
}

const SECONDS_PER_UNIT: Record<string, number> = {
  minute: 60,
  minutes: 60,
  hour: 3_600,
  hours: 3_600,
  day: 86_400,
  days: 86_400,
};
/** Cron schedules are not evaluated locally; they run at EventBridge's finest cron granularity. */
const CRON_FALLBACK_SECONDS = 60;

/** `rate(5 minutes)` → 300; `cron(...)` → 60 (see CRON_FALLBACK_SECONDS). */
export function scheduleIntervalSeconds(expression: string): number {
  const rate = /^rate\((\d+)\s+(minutes?|hours?|days?)\)$/.exec(expression.trim());
  if (rate) return Number(rate[1]) * (SECONDS_PER_UNIT[rate[2] ?? ''] ?? 60);
  if (/^cron\(.+\)$/.test(expression.trim())) return CRON_FALLBACK_SECONDS;
  throw new Error(`unsupported schedule expression "${expression}"`);
}

export function scheduledEvent(
  schedule: ScheduleDefinition,
  context: { accountId: string; region: string },
): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: context.accountId,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: context.region,
    resources: [schedule.ruleArn],
    detail: {},
  };
}

export class Scheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<InvokeResult>>();

  constructor(
    private readonly schedules: readonly ScheduleDefinition[],
    private readonly host: FunctionHost,
    private readonly context: {
      accountId: string;
      region: string;
      overrideSeconds: number;
      /** Faults to inject: a scheduled invocation may crash. */
      chaos?: Chaos | undefined;
    },
  ) {}

  start(): void {
    for (const schedule of this.schedules) {
      const seconds =
        this.context.overrideSeconds > 0
          ? this.context.overrideSeconds
          : scheduleIntervalSeconds(schedule.expression);
      this.timers.push(setInterval(() => this.fire(schedule), seconds * 1000));
    }
  }

  /** Invokes one schedule's function now (asynchronously, as EventBridge does). */
  fire(schedule: ScheduleDefinition): Promise<InvokeResult> {
    const event = schedule.input ?? scheduledEvent(schedule, this.context);
    // EventBridge invokes its Lambda targets asynchronously.
    const run = this.host.invoke(schedule.functionId, event, 'Event', {
      chaos: this.context.chaos,
    });
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled([...this.running]);
  }
}
