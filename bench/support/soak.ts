/**
 * The chaos soak (docs/local-cloud.md, "Chaos"): many batches at once on a local cloud of its own
 * started with fault injection, the function host SIGKILLed and restarted on a timer, then every
 * promise checked from the table and the event capture queue: each batch terminal, its counters
 * equal to its comparison items, one outcome event, nothing left counted in flight once every
 * batch ended, and the provider called about once per comparison. The judge is the OpenAI-compatible adapter against a local fake server, so provider
 * calls are counted where they arrive and a crash can land before or after one.
 */

import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type FakeLlmServer, startFakeLlmServer } from '#bench/support/fake-llm-server.ts';
import { isSuccess, isTerminal } from '#domain/types.ts';
import {
  CHAOS_LOG,
  countFaults,
  type LocalCloudInfo,
  parseChaos,
  restartFunctionHost,
  startLocalCloud,
  stopLocalCloud,
  stopLocalCloudOnExit,
} from '#localstack/local-cloud/index.ts';
import { inFlightDeploymentKey } from '#store/keys.ts';

export interface SoakOptions {
  batches: number;
  essays: number;
  /** Comparisons per essay: each batch's budget is ceil(essays · perEssay / 2). */
  perEssay: number;
  /** Chaos spec (chaos.ts); `seed` and `redelivery_s` default to the soak's seed and 2 s. */
  chaos: string;
  seed: number;
  /** SIGKILL and restart the function host this often (0 = never). */
  killHostEverySeconds: number;
  /** At most this many host kills (Infinity = as many as the timer fires). */
  maxHostKills: number;
  /**
   * The first kill as soon as a batch has comparisons both answered and pending (certain to land
   * mid-run however fast the batches are), the timer's from then on; otherwise the timer's only.
   */
  firstKillMidRun?: boolean;
  /** The batches' COMPARISON_DEADLINE_SECONDS: how long a dropped callback is waited for. */
  deadlineSeconds: number;
  timeoutSeconds: number;
  /** Schedule (sweeper) interval of the soak's local cloud. */
  scheduleIntervalSeconds: number;
  /** Progress lines (stderr); silent when not given. */
  progress?: (line: string) => void;
}

export interface SoakReport {
  batches: number;
  terminal: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  stuck: number;
  counter_mismatches: number;
  duplicate_counts: number;
  events_per_batch_min: number;
  events_per_batch_max: number;
  provider_calls_per_comparison: number;
  /**
   * 1 + (judge_crash_records + inflight_released + dropped callbacks) / comparisons: one call per
   * comparison plus one re-run for every message a crash or a host kill may have cut off after its
   * provider call, and for every callback lost after it (a copy of the request that comes back
   * when the holder's lease ends judges it again rather than leaving it to time out).
   */
  provider_calls_per_comparison_bound: number;
  /** provider_calls_per_comparison <= its bound. */
  provider_calls_within_bound: boolean;
  wall_s: number;
  /** moto_server's peak resident memory (VmHWM), MB; null where /proc is not readable. */
  moto_peak_rss_mb: number | null;
  faults_injected: {
    crash: number;
    throttle: number;
    conflict: number;
    duplicate: number;
    drop: number;
    host_kills: number;
  };
  details: {
    chaos: string;
    essays: number;
    per_essay: number;
    budget_per_batch: number;
    comparisons: number;
    provider_calls: number;
    /**
     * Messages in judge invocations a crash killed: each may have called the provider before the
     * crash, so 1 + this / comparisons bounds provider calls per comparison with crash re-runs.
     */
    judge_crash_records: number;
    /** Messages a killed host had received, made visible again by its successor: re-runs too. */
    inflight_released: number;
    /** 1 + (judge_crash_records + inflight_released + faults_injected.drop) / comparisons. */
    provider_calls_per_comparison_bound: number;
    /**
     * Duplicated and stale triggers the continuation met: a trigger for a wave already planned
     * (`resumed_wave`, which sends only requests never sent) or for an iteration already past.
     */
    stale_triggers: number;
    /** Requests those triggers sent again (0: a wave is sent once). */
    requests_resent: number;
    /** Requests the judge found already answered and did not send to the provider. */
    judge_skipped: number;
    /**
     * Copies of a request that met another delivery's live lease, called nothing and were re-sent
     * to come back when it ends (docs/judges.md): duplicates of a request being judged or whose
     * callback is not recorded yet, and redeliveries of a crashed holder's messages.
     */
    judge_copies_held_back: number;
    /** Comparisons failed with `timeout`: dropped callbacks, and requests still queued at the deadline. */
    timed_out: number;
    /** Terminal outcomes: status, and the failure reason of a FAILED batch. */
    statuses: Record<string, number>;
    /** Batches that broke a promise, with what broke (empty when all held). */
    problems: Array<{ batch_id: string; problem: string }>;
  };
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

/** The fake judge picks a winner from a hash of the prompt: deterministic, no ranking needed. */
function hashedWinner(promptText: string) {
  const byte = createHash('sha256').update(promptText).digest()[0] ?? 0;
  return { kind: 'answer', winner: byte % 2 === 0 ? 'A' : 'B', confidence: 3 } as const;
}

function soakEssays(batch: number, count: number) {
  return Array.from({ length: count }, (_, index) => {
    const id = `s${String(batch).padStart(3, '0')}-${String(index).padStart(4, '0')}`;
    return { id, text: `Soak essay ${id}: a short synthetic text about chaos. `.repeat(4) };
  });
}

/** Retries what a killed host, a crash or a throttle makes fail for a moment. */
async function withRetries<T>(
  what: string,
  attempt: () => Promise<T>,
  forMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 4_000)) {
    try {
      return await attempt();
    } catch (error) {
      if ((error as { final?: boolean }).final) throw error;
      if (Date.now() > deadline) throw new Error(`${what}: ${(error as Error).message}`);
      await sleep(delay);
    }
  }
}

async function createBatch(
  apiUrl: string,
  body: Record<string, unknown>,
  idempotencyKey: string,
): Promise<string> {
  return withRetries('create batch', async () => {
    const response = await fetch(`${apiUrl}batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (response.status >= 500) throw new Error(`HTTP ${response.status}`);
    if (!response.ok) {
      // A 4xx is the soak's own mistake: retrying would not help, say it at once.
      throw Object.assign(new Error(`create batch: HTTP ${response.status} ${text}`), {
        final: true,
      });
    }
    return (JSON.parse(text) as { batch_id: string }).batch_id;
  });
}

interface Meta {
  status: string;
  failure_reason?: string | null;
  submitted_comparisons: number;
  completed_comparisons: number;
  failed_comparisons: number;
  total_budget: number;
}

interface Tally {
  items: number;
  completed: number;
  failed: number;
  pending: number;
  timedOut: number;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const say = options.progress ?? (() => {});
  const chaos = parseChaos(
    `seed=${options.seed},redelivery_s=2,${options.chaos}`.replace(/,$/, ''),
  );
  const chaosSpec = `${options.chaos},seed=${chaos.seed},redelivery_s=${chaos.redeliverySeconds}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'cj-soak-'));
  const server: FakeLlmServer = await startFakeLlmServer({
    dialect: 'openai',
    respond: (request) => hashedWinner(request.promptText),
  });
  let info: LocalCloudInfo | undefined;
  let killer: NodeJS.Timeout | undefined;
  const unguard = stopLocalCloudOnExit({ stateDir });
  try {
    info = await startLocalCloud({
      stateDir,
      chaos: chaosSpec,
      scheduleIntervalSeconds: options.scheduleIntervalSeconds,
      functionEnv: { ALLOWED_PROVIDERS: 'mock,openai-compatible' },
    });
    const cloud = info;
    say(`local cloud ready (${cloud.apiUrl}), chaos ${chaosSpec}`);
    const aws = {
      endpoint: cloud.endpoint,
      region: cloud.region,
      credentials: cloud.credentials,
    };
    const table = DynamoDBDocumentClient.from(new DynamoDBClient(aws));
    const sqs = new SQSClient(aws);
    const tableName = cloud.outputs.TableName ?? '';
    const budget = Math.ceil((options.essays * options.perEssay) / 2);
    const started = performance.now();

    let hostKills = 0;
    let restarting: Promise<unknown> = Promise.resolve();
    const killHost = () => {
      if (hostKills >= options.maxHostKills) return;
      hostKills += 1;
      say(`host kill ${hostKills}`);
      restarting = restartFunctionHost({ stateDir }).catch((error: Error) =>
        say(`restart failed: ${error.message}`),
      );
    };
    const startKillTimer = () => {
      killer = setInterval(killHost, options.killHostEverySeconds * 1000);
    };
    const killMidRun = options.killHostEverySeconds > 0 && options.firstKillMidRun === true;
    if (options.killHostEverySeconds > 0 && !killMidRun) startKillTimer();

    const judge = {
      provider: 'openai-compatible',
      model: 'fake-soak-model',
      base_url: `${server.origin}/v1`,
    };
    const batchIds = await Promise.all(
      Array.from({ length: options.batches }, (_, batch) =>
        createBatch(
          cloud.apiUrl,
          {
            essays: soakEssays(batch, options.essays),
            budget,
            judge,
            config: { COMPARISON_DEADLINE_SECONDS: options.deadlineSeconds },
          },
          `soak-${options.seed}-${batch}-${randomUUID()}`,
        ),
      ),
    );
    say(`${batchIds.length} batches created`);

    const readMeta = async (batchId: string) =>
      withRetries(`read ${batchId}`, async () => {
        const { Item } = await table.send(
          new GetCommand({
            TableName: tableName,
            Key: { pk: `BATCH#${batchId}`, sk: 'META' },
            ConsistentRead: true,
          }),
        );
        if (!Item) throw new Error(`no META for ${batchId}`);
        return Item as unknown as Meta;
      });

    const deadline = Date.now() + options.timeoutSeconds * 1000;
    const finals = new Map<string, Meta>();
    let lastReport = 0;
    while (finals.size < batchIds.length && Date.now() < deadline) {
      for (const batchId of batchIds) {
        if (finals.has(batchId)) continue;
        const meta = await readMeta(batchId);
        if (isTerminal(meta.status)) finals.set(batchId, meta);
        const answered = meta.completed_comparisons + meta.failed_comparisons;
        if (
          killMidRun &&
          hostKills === 0 &&
          meta.status === 'RUNNING' &&
          answered > 0 &&
          answered < meta.submitted_comparisons
        ) {
          killHost();
          startKillTimer();
        }
      }
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        say(
          `${finals.size}/${batchIds.length} terminal after ${((performance.now() - started) / 1000).toFixed(0)} s`,
        );
      }
      if (finals.size < batchIds.length) await sleep(1_000);
    }
    const wallS = (performance.now() - started) / 1000;
    if (killer) clearInterval(killer);
    await restarting;

    // Events: the outcome event may follow the terminal status by a redelivery or a sweep.
    const captureUrl = Object.values(cloud.state.eventCaptureQueues)[0] ?? '';
    const events = new Map<string, number>();
    const eventsDeadline = Date.now() + 60_000;
    let quietSince = Date.now();
    while (Date.now() < eventsDeadline) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: captureUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      for (const message of Messages) {
        const event = JSON.parse(message.Body ?? '{}') as { detail?: { batch_id?: string } };
        const batchId = event.detail?.batch_id;
        if (batchId) events.set(batchId, (events.get(batchId) ?? 0) + 1);
      }
      if (Messages.length > 0) {
        quietSince = Date.now();
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: captureUrl,
            Entries: Messages.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle ?? '',
            })),
          }),
        );
      }
      const allSeen = [...finals.keys()].every((batchId) => (events.get(batchId) ?? 0) > 0);
      // Once every terminal batch has its event, wait a little longer for a second one.
      if (allSeen && Date.now() - quietSince > 8_000) break;
    }

    const problems: SoakReport['details']['problems'] = [];
    let counterMismatches = 0;
    let duplicateCounts = 0;
    let comparisons = 0;
    let timedOut = 0;
    const statuses: Record<string, number> = {};
    for (const batchId of batchIds) {
      const meta = finals.get(batchId) ?? (await readMeta(batchId));
      const outcome = meta.failure_reason ? `${meta.status} ${meta.failure_reason}` : meta.status;
      statuses[outcome] = (statuses[outcome] ?? 0) + 1;
      if (!finals.has(batchId))
        problems.push({ batch_id: batchId, problem: `stuck ${meta.status}` });
      const tally = await tallyComparisons(table, tableName, batchId);
      comparisons += tally.items;
      timedOut += tally.timedOut;
      const broken: string[] = [];
      if (meta.submitted_comparisons !== tally.items) {
        broken.push(`submitted ${meta.submitted_comparisons} != ${tally.items} items`);
      }
      if (meta.completed_comparisons !== tally.completed) {
        broken.push(`completed ${meta.completed_comparisons} != ${tally.completed} items`);
      }
      if (meta.failed_comparisons !== tally.failed) {
        broken.push(`failed ${meta.failed_comparisons} != ${tally.failed} items`);
      }
      if (
        finals.has(batchId) &&
        meta.completed_comparisons + meta.failed_comparisons !== meta.submitted_comparisons
      ) {
        broken.push('completed + failed != submitted');
      }
      if (meta.submitted_comparisons > meta.total_budget) broken.push('submitted > budget');
      duplicateCounts +=
        Math.max(0, meta.completed_comparisons - tally.completed) +
        Math.max(0, meta.failed_comparisons - tally.failed);
      if (broken.length > 0) {
        counterMismatches += 1;
        problems.push({ batch_id: batchId, problem: broken.join('; ') });
      }
      const eventCount = events.get(batchId) ?? 0;
      if (finals.has(batchId) && eventCount !== 1) {
        problems.push({ batch_id: batchId, problem: `${eventCount} outcome events` });
      }
    }
    // Every batch ended: each was released exactly once, so nothing is left in flight.
    if (finals.size === batchIds.length) {
      const { Item: inFlight } = await table.send(
        new GetCommand({
          TableName: tableName,
          Key: inFlightDeploymentKey(),
          ConsistentRead: true,
        }),
      );
      const left = {
        batches: Number(inFlight?.batches ?? 0),
        essays: Number(inFlight?.essays ?? 0),
      };
      if (!inFlight) {
        problems.push({ batch_id: '*', problem: 'no in-flight counter: no batch was counted' });
      } else if (left.batches !== 0 || left.essays !== 0) {
        problems.push({
          batch_id: '*',
          problem: `in flight after every batch ended: ${left.batches} batches, ${left.essays} essays`,
        });
      }
    }
    const eventCounts = batchIds.map((batchId) => events.get(batchId) ?? 0);
    // No chaos log when every rate is 0 (nothing was injected): a soak without faults is a baseline.
    const chaosLog = existsSync(join(cloud.state.logDir, CHAOS_LOG))
      ? readFileSync(join(cloud.state.logDir, CHAOS_LOG), 'utf8')
      : '';
    const faults = countFaults(chaosLog);
    const judgeCrashRecords = judgeCrashes(chaosLog);
    const providerCalls = server.requests.length;
    const motoPeakRssMb = peakResidentMb(cloud.state.motoPid);
    const released = inflightReleased(readFileSync(join(cloud.state.logDir, 'daemon.log'), 'utf8'));
    const triggers = staleTriggers(logOf(cloud.state.logDir, 'continuation'));
    const judgeLog = logOf(cloud.state.logDir, 'judge');
    const judgeSkipped = countLines(judgeLog, '"judge_request_skipped"');
    const heldBack = countLines(judgeLog, '"judge_request_claimed_elsewhere"');
    const perComparison = comparisons > 0 ? round(providerCalls / comparisons, 4) : 0;
    const bound =
      comparisons > 0
        ? round(1 + (judgeCrashRecords + released + faults.drop) / comparisons, 4)
        : 0;
    const finalMetas = [...finals.values()];
    table.destroy();
    sqs.destroy();
    return {
      batches: batchIds.length,
      terminal: finals.size,
      succeeded: finalMetas.filter((meta) => isSuccess(meta.status)).length,
      failed: finalMetas.filter((meta) => meta.status === 'FAILED').length,
      cancelled: finalMetas.filter((meta) => meta.status === 'CANCELLED').length,
      stuck: batchIds.length - finals.size,
      counter_mismatches: counterMismatches,
      duplicate_counts: duplicateCounts,
      events_per_batch_min: Math.min(...eventCounts),
      events_per_batch_max: Math.max(...eventCounts),
      provider_calls_per_comparison: perComparison,
      provider_calls_per_comparison_bound: bound,
      provider_calls_within_bound: perComparison <= bound,
      wall_s: round(wallS, 1),
      moto_peak_rss_mb: motoPeakRssMb,
      faults_injected: {
        crash: faults.crash,
        throttle: faults.throttle,
        conflict: faults.conflict,
        duplicate: faults.duplicate,
        drop: faults.drop,
        host_kills: faults.host_kill,
      },
      details: {
        chaos: chaosSpec,
        essays: options.essays,
        per_essay: options.perEssay,
        budget_per_batch: budget,
        comparisons,
        provider_calls: providerCalls,
        judge_crash_records: judgeCrashRecords,
        inflight_released: released,
        provider_calls_per_comparison_bound: bound,
        stale_triggers: triggers.stale,
        requests_resent: triggers.resent,
        judge_skipped: judgeSkipped,
        judge_copies_held_back: heldBack,
        timed_out: timedOut,
        statuses,
        problems,
      },
    };
  } finally {
    if (killer) clearInterval(killer);
    await stopLocalCloud({ stateDir }).catch(() => {});
    unguard();
    await server.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** A process's peak resident set (Linux /proc VmHWM) in MB, or null when it cannot be read. */
export function peakResidentMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Math.round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/** Counts a batch's comparison items by status (the truth its counters must equal). */
async function tallyComparisons(
  table: DynamoDBDocumentClient,
  tableName: string,
  batchId: string,
): Promise<Tally> {
  const tally: Tally = { items: 0, completed: 0, failed: 0, pending: 0, timedOut: 0 };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await withRetries(`query ${batchId}`, () =>
      table.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :cmp)',
          ExpressionAttributeValues: { ':pk': `BATCH#${batchId}`, ':cmp': 'CMP#' },
          ProjectionExpression: '#status, failure_kind',
          ExpressionAttributeNames: { '#status': 'status' },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      ),
    );
    for (const item of page.Items ?? []) {
      tally.items += 1;
      if (item.status === 'COMPLETED') tally.completed += 1;
      else if (item.status === 'FAILED') {
        tally.failed += 1;
        if (item.failure_kind === 'timeout') tally.timedOut += 1;
      } else tally.pending += 1;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return tally;
}

/** Records of the judge invocations chaos crashed (see SoakReport.details.judge_crash_records). */
function judgeCrashes(log: string): number {
  let records = 0;
  for (const line of log.split('\n')) {
    if (!line.includes('"fault":"crash"')) continue;
    try {
      const entry = JSON.parse(line) as { function?: string; records?: number };
      if (entry.function === 'judge') records += entry.records ?? 1;
    } catch {
      // A line cut by a SIGKILL.
    }
  }
  return records;
}

/** Messages made visible again by restarted hosts (their `inflight_released` lines). */
function inflightReleased(log: string): number {
  let released = 0;
  for (const line of log.split('\n')) {
    if (!line.includes('"inflight_released"')) continue;
    try {
      released += Number((JSON.parse(line) as { released?: number }).released ?? 0);
    } catch {
      // A line cut by a SIGKILL.
    }
  }
  return released;
}

/** A function's log, or nothing when it never ran. */
function logOf(logDir: string, name: string): string {
  try {
    return readFileSync(join(logDir, `${name}.log`), 'utf8');
  } catch {
    return '';
  }
}

function countLines(log: string, marker: string): number {
  return log.split('\n').filter((line) => line.includes(marker)).length;
}

/** Triggers for a wave already planned or an iteration already past, and what they re-sent. */
function staleTriggers(log: string): { stale: number; resent: number } {
  let stale = 0;
  let resent = 0;
  for (const line of log.split('\n')) {
    if (line.includes('"continuation_resumed_wave"')) {
      try {
        resent += Number((JSON.parse(line) as { resent?: number }).resent ?? 0);
        stale += 1;
      } catch {
        // A line cut by a SIGKILL.
      }
    } else if (line.includes('"stale_trigger"')) {
      stale += 1;
    }
  }
  return { stale, resent };
}
