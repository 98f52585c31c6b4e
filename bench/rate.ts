/**
 * `npm run -s bench:rate -- --rpm R [--tpm T] [--batches B] [--duration-s S] [--concurrency C]
 *   [--latency-ms L] [--jitter-ms J] [--tokens K] [--pacing limiter|queue] [--json]`
 *
 * The shared provider rate limiter against a fake provider that enforces R requests (and T tokens)
 * per minute (bench/support/fake-rate-limit.ts), in real time (BENCHMARKS.md, "Provider rate
 * limits"). C judge workers take comparison requests from one queue, as the judge function's
 * pollers do; every batch has a backlog larger than the run can judge, queued at the start. The
 * queue delivers only visible messages (a deferred one from its delay on), the batches' in turn, as
 * an SQS fair queue does with MessageGroupId = batch id. Each request takes its slot through the
 * judge's own pacing (shared/workflow/judge-pacing.ts: the pure logic of shared/domain/rate-limit.ts,
 * its state in the DynamoDB adapter shared/store/rate-limits.ts on the in-memory table): a request
 * admitted sleeps until its slot and calls the provider, J ms of network jitter at most later (L ms
 * of latency); a deferred one goes back to the queue delayed by whole seconds as the judge sends it
 * (DelaySeconds), carrying its booked slot if it has one; a 429 slows the limiter down and
 * re-queues the request after its retry-after. `--pacing queue` takes the limiter away: the C
 * workers alone pace the calls (concurrency × latency), as SQS-driven pacing would.
 *
 * Prints the provider's accepted requests per minute over the measured window (after the first
 * 10 % of the run), its share of the configured RPM (and the tokens per minute and share of the
 * TPM with --tpm), the share of calls answered 429, each batch's share of the accepted calls, the
 * limiter's refusals per accepted call (deferrals the called requests went through) and the
 * limiter's store reads and writes per accepted call (every request's, the backlog's that the run
 * never reached included).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  booleanFlag,
  checkedNumberFlag,
  choiceFlag,
  type FlagSpecs,
  parseArgs,
} from '#cli/args.ts';
import { UsageError } from '#cli/errors.ts';
import { DEFAULT_CONFIG, type EngineConfig } from '#domain/config.ts';
import type { Reservation } from '#domain/rate-limit.ts';
import {
  type PacedCall,
  type PacingDeps,
  reportAnswer,
  takeSlot,
} from '#shared/workflow/judge-pacing.ts';
import { dynamoRateLimits } from '#store/rate-limits.ts';
import { Table } from '#store/table.ts';
import { FakeProviderLimit } from './support/fake-rate-limit.ts';
import { FakeTable } from './support/fake-table.ts';

const FLAGS: FlagSpecs = {
  rpm: { type: 'number', valueName: 'R', description: 'provider requests per minute (required)' },
  tpm: { type: 'number', valueName: 'T', description: 'provider tokens per minute' },
  batches: { type: 'number', valueName: 'B', description: 'batches sharing the limit (default 1)' },
  'duration-s': { type: 'number', valueName: 'S', description: 'seconds to run (default 60)' },
  concurrency: { type: 'number', valueName: 'C', description: 'judge workers (default 25)' },
  'latency-ms': { type: 'number', valueName: 'L', description: 'provider latency (default 300)' },
  'jitter-ms': {
    type: 'number',
    valueName: 'J',
    description: 'each call reaches the provider up to J ms late, uniformly (default 0)',
  },
  tokens: { type: 'number', valueName: 'K', description: 'tokens per call (default 1300)' },
  pacing: {
    type: 'string',
    valueName: 'P',
    description:
      'limiter (default): the shared limiter; queue: none, the queue concurrency alone paces (SQS-driven pacing)',
  },
  json: { type: 'boolean', description: 'print one JSON object' },
};

interface Message {
  batch: number;
  /** Visible from this instant (ms). */
  availableAt: number;
  /** Limiter deferrals so far. */
  refusals: number;
  /** The slot booked for it, carried as the judge carries `rate_slot_at`. */
  reservation?: Reservation;
}

/**
 * Per-batch lists served in turn (a fair queue with one message group per batch), each handing out
 * its first visible message; a deferred message is invisible until its delay has passed.
 */
class FairQueue {
  private readonly groups: Message[][] = [];
  private next = 0;

  push(message: Message): void {
    while (this.groups.length < message.batch) this.groups.push([]);
    (this.groups[message.batch - 1] as Message[]).push(message);
  }

  /** The next group's first visible message, or the instant the next one becomes visible. */
  pop(now: number): Message | number {
    let earliest = Number.POSITIVE_INFINITY;
    for (let k = 0; k < this.groups.length; k++) {
      const index = (this.next + k) % this.groups.length;
      const group = this.groups[index] as Message[];
      const visible = group.findIndex((message) => message.availableAt <= now);
      if (visible >= 0) {
        this.next = (index + 1) % this.groups.length;
        return group.splice(visible, 1)[0] as Message;
      }
      for (const message of group) earliest = Math.min(earliest, message.availableAt);
    }
    return earliest;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(argv: readonly string[]): Promise<number> {
  let options: {
    rpm: number;
    tpm: number | undefined;
    batches: number;
    durationMs: number;
    concurrency: number;
    latencyMs: number;
    jitterMs: number;
    tokens: number;
    pacing: 'limiter' | 'queue';
    json: boolean;
  };
  try {
    const args = parseArgs(argv, FLAGS);
    const rpm = checkedNumberFlag(args, 'rpm', (v) => v > 0, 'a number > 0');
    if (rpm === undefined) throw new UsageError('--rpm', 'required');
    const int = (v: number) => Number.isInteger(v) && v >= 1;
    options = {
      rpm,
      tpm: checkedNumberFlag(args, 'tpm', (v) => v > 0, 'a number > 0'),
      batches: checkedNumberFlag(args, 'batches', int, 'an integer >= 1') ?? 1,
      durationMs: 1000 * (checkedNumberFlag(args, 'duration-s', (v) => v >= 5, '>= 5') ?? 60),
      concurrency: checkedNumberFlag(args, 'concurrency', int, 'an integer >= 1') ?? 25,
      latencyMs: checkedNumberFlag(args, 'latency-ms', (v) => v >= 0, 'a number >= 0') ?? 300,
      jitterMs: checkedNumberFlag(args, 'jitter-ms', (v) => v >= 0, 'a number >= 0') ?? 0,
      tokens: checkedNumberFlag(args, 'tokens', (v) => v >= 0, 'a number >= 0') ?? 1300,
      pacing: choiceFlag(args, 'pacing', ['limiter', 'queue'] as const) ?? 'limiter',
      json: booleanFlag(args, 'json'),
    };
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`bench:rate: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const fakeTable = new FakeTable();
  const ddb = mockClient(DynamoDBDocumentClient);
  fakeTable.attach(ddb);
  const config: EngineConfig = {
    ...DEFAULT_CONFIG,
    PROVIDER_RATE_LIMITS: {
      fake: {
        requests_per_minute: options.rpm,
        ...(options.tpm === undefined ? {} : { tokens_per_minute: options.tpm }),
      },
    },
  };
  const pacing: PacingDeps = {
    store: dynamoRateLimits(
      new Table({
        client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
        tableName: 'bench',
      }),
    ),
    config,
    now: () => new Date(),
    sleep,
  };
  const provider = new FakeProviderLimit({
    requestsPerMinute: options.rpm,
    ...(options.tpm === undefined ? {} : { tokensPerMinute: options.tpm }),
  });

  const start = Date.now();
  const end = start + options.durationMs;
  const measureFrom = start + options.durationMs * 0.1;
  // Each batch queues more than the whole run could judge, batch 1 first.
  const backlog = Math.ceil((options.rpm * options.durationMs) / 60_000) * 2;
  const queue = new FairQueue();
  for (let batch = 1; batch <= options.batches; batch++) {
    for (let k = 0; k < backlog; k++) queue.push({ batch, availableAt: start, refusals: 0 });
  }
  const accepted = new Map<number, number>();
  let measuredAccepted = 0;
  let measuredLimited = 0;
  let measuredRefusals = 0;
  let refusals = 0;

  const worker = async (): Promise<void> => {
    while (Date.now() < end) {
      const message = queue.pop(Date.now());
      if (typeof message === 'number') {
        // Nothing visible: poll again when the next message shows (or at the end).
        await sleep(Math.max(1, Math.min(message, end) - Date.now()));
        continue;
      }
      const call: PacedCall = {
        key: 'fake',
        batchId: String(message.batch),
        tokens: options.tokens,
        calls: 1,
      };
      // SQS-driven pacing: no limiter, the workers call as fast as the latency lets them.
      const slot =
        options.pacing === 'queue'
          ? ({ go: true } as const)
          : await takeSlot(pacing, call, message.reservation);
      if (slot === null) throw new Error('the fake provider is not paced');
      if (!slot.go) {
        // Deferred as the judge defers: whole seconds of DelaySeconds, the booked slot carried.
        refusals++;
        message.refusals++;
        message.availableAt = Date.now() + Math.ceil(slot.waitMs / 1000) * 1000;
        if (slot.reservation) message.reservation = slot.reservation;
        else delete message.reservation;
        queue.push(message);
        continue;
      }
      delete message.reservation;
      if (options.jitterMs > 0) await sleep(Math.random() * options.jitterMs);
      const now = Date.now();
      if (now >= end) return;
      const answer = provider.take(options.tokens, now);
      const measured = now >= measureFrom;
      if (!answer.ok) {
        if (measured) measuredLimited++;
        if (options.pacing === 'limiter')
          await reportAnswer(pacing, call, slot, {
            outcome: 'failure',
            kind: 'rate_limited',
            reason: 'http_429',
            retryable: true,
            retryAfterMs: answer.retryAfterMs,
          });
        message.availableAt = Date.now() + answer.retryAfterMs;
        queue.push(message);
        continue;
      }
      if (measured) {
        measuredAccepted++;
        measuredRefusals += message.refusals;
        accepted.set(message.batch, (accepted.get(message.batch) ?? 0) + 1);
      }
      await sleep(options.latencyMs);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));

  const minutes = (end - measureFrom) / 60_000;
  const achieved = measuredAccepted / minutes;
  const round = (value: number, places: number) => Math.round(value * 10 ** places) / 10 ** places;
  const perCall = (count: number) => round(count / Math.max(1, measuredAccepted), 2);
  // Store requests over the whole run, per call the provider accepted in it.
  const perAccepted = (count: number) => round(count / Math.max(1, provider.accepted), 2);
  const output = {
    rpm: options.rpm,
    tpm: options.tpm ?? null,
    batches: options.batches,
    duration_s: options.durationMs / 1000,
    concurrency: options.concurrency,
    jitter_ms: options.jitterMs,
    latency_ms: options.latencyMs,
    pacing: options.pacing,
    achieved_rpm: round(achieved, 1),
    achieved_share_of_rpm: round(achieved / options.rpm, 3),
    achieved_tpm: options.tpm === undefined ? null : Math.round(achieved * options.tokens),
    achieved_share_of_tpm:
      options.tpm === undefined ? null : round((achieved * options.tokens) / options.tpm, 3),
    calls: measuredAccepted + measuredLimited,
    answered_429: measuredLimited,
    share_429: round(measuredLimited / Math.max(1, measuredAccepted + measuredLimited), 4),
    per_batch_share: Object.fromEntries(
      Array.from({ length: options.batches }, (_, i) => [
        `batch_${i + 1}`,
        round((accepted.get(i + 1) ?? 0) / Math.max(1, measuredAccepted), 3),
      ]),
    ),
    refusals_per_call: perCall(measuredRefusals),
    limiter_refusals: refusals,
    limiter_reads_per_call: perAccepted(ddb.commandCalls(GetCommand).length),
    limiter_writes_per_call: perAccepted(ddb.commandCalls(PutCommand).length),
    limiter_item_bytes: JSON.stringify(fakeTable.items.values().next().value ?? {}).length,
  };
  process.stdout.write(
    options.json ? `${JSON.stringify(output)}\n` : `${JSON.stringify(output, null, 2)}\n`,
  );
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
