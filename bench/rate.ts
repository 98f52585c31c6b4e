/**
 * `npm run -s bench:rate -- --rpm R [--tpm T] [--batches B] [--duration-s S] [--concurrency C]
 *   [--latency-ms L] [--tokens K] [--json]`
 *
 * The shared provider rate limiter against a fake provider that enforces R requests (and T tokens)
 * per minute (bench/support/fake-rate-limit.ts), in real time (BENCHMARKS.md, "Provider rate
 * limits"). C judge workers take comparison requests from one queue; every batch has a backlog
 * larger than the run can judge, batch 1's queued first. The queue hands out the batches' messages
 * in turn, as an SQS fair queue does with MessageGroupId = batch id (it serves quiet tenants first
 * when one tenant holds most in-flight messages); within a batch, in order. Each request asks the limiter (the pure logic of
 * shared/domain/rate-limit.ts, its state in the DynamoDB adapter shared/store/rate-limits.ts on
 * the in-memory table); a refused one goes back to the end of the queue, delayed by the wait the
 * limiter computed (the judge re-sends it with DelaySeconds); an admitted one calls the provider
 * (L ms); a 429 slows the limiter down and re-queues the request after its retry-after.
 *
 * Prints the provider's accepted requests per minute over the measured window (after the first
 * 10 % of the run), its share of the configured RPM, the share of calls answered 429, and each
 * batch's share of the accepted calls.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { booleanFlag, checkedNumberFlag, type FlagSpecs, parseArgs } from '#cli/args.ts';
import { UsageError } from '#cli/errors.ts';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import {
  admit,
  onAnswered,
  onRateLimited,
  type RateLimit,
  rateLimiterOptions,
} from '#domain/rate-limit.ts';
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
  tokens: { type: 'number', valueName: 'K', description: 'tokens per call (default 1300)' },
  json: { type: 'boolean', description: 'print one JSON object' },
};

interface Message {
  batch: number;
  availableAt: number;
}

/** Per-batch FIFO lists handed out in turn (a fair queue with one message group per batch). */
class FairQueue {
  private readonly groups: Message[][] = [];
  private next = 0;

  push(message: Message): void {
    while (this.groups.length < message.batch) this.groups.push([]);
    (this.groups[message.batch - 1] as Message[]).push(message);
  }

  /** The next group's earliest message (within a group, in order). */
  pop(): Message | undefined {
    for (let k = 0; k < this.groups.length; k++) {
      const group = this.groups[(this.next + k) % this.groups.length] as Message[];
      if (group.length === 0) continue;
      this.next = (this.next + k + 1) % this.groups.length;
      return group.shift();
    }
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(argv: readonly string[]): Promise<number> {
  let options: {
    rpm: number;
    tpm: number | undefined;
    batches: number;
    durationMs: number;
    concurrency: number;
    latencyMs: number;
    tokens: number;
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
      tokens: checkedNumberFlag(args, 'tokens', (v) => v >= 0, 'a number >= 0') ?? 1300,
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
  const store = dynamoRateLimits(
    new Table({
      client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
      tableName: 'bench',
    }),
  );
  const limit: RateLimit = {
    requestsPerMinute: options.rpm,
    ...(options.tpm === undefined ? {} : { tokensPerMinute: options.tpm }),
  };
  const limiterOptions = rateLimiterOptions(DEFAULT_CONFIG);
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
    for (let k = 0; k < backlog; k++) queue.push({ batch, availableAt: start });
  }
  const accepted = new Map<number, number>();
  let measuredAccepted = 0;
  let measuredLimited = 0;
  let refusals = 0;
  let storeUpdates = 0;

  const update = <R>(change: Parameters<typeof store.updateRateLimit<R>>[1]): Promise<R> => {
    storeUpdates++;
    return store.updateRateLimit('fake', change);
  };

  const worker = async (): Promise<void> => {
    while (Date.now() < end) {
      const message = queue.pop();
      if (!message) return;
      const wait = message.availableAt - Date.now();
      if (wait > 0) await sleep(Math.min(wait, end - Date.now()));
      if (Date.now() >= end) return;
      const decision = await update((state) => {
        const result = admit(
          state,
          {
            batchId: String(message.batch),
            tokens: options.tokens,
            now: Date.now(),
            maxWaitMs: DEFAULT_CONFIG.RATE_LIMIT_MAX_WAIT_MS,
          },
          limit,
          limiterOptions,
        );
        return { state: result.state, result };
      });
      if (!decision.admitted) {
        refusals++;
        queue.push({ batch: message.batch, availableAt: Date.now() + decision.waitMs });
        continue;
      }
      if (decision.waitMs > 0) await sleep(decision.waitMs);
      const now = Date.now();
      if (now >= end) return;
      const answer = provider.take(options.tokens, now);
      const measured = now >= measureFrom;
      if (!answer.ok) {
        if (measured) measuredLimited++;
        await update((state) => ({
          state: onRateLimited(state, Date.now(), answer.retryAfterMs, limiterOptions),
          result: null,
        }));
        queue.push({ batch: message.batch, availableAt: Date.now() + answer.retryAfterMs });
        continue;
      }
      if (measured) {
        measuredAccepted++;
        accepted.set(message.batch, (accepted.get(message.batch) ?? 0) + 1);
      }
      await sleep(options.latencyMs);
      if (decision.state.factor < 1) {
        await update((state) => ({ state: onAnswered(state, limiterOptions), result: null }));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));

  const minutes = (end - measureFrom) / 60_000;
  const achieved = measuredAccepted / minutes;
  const output = {
    rpm: options.rpm,
    tpm: options.tpm ?? null,
    batches: options.batches,
    duration_s: options.durationMs / 1000,
    concurrency: options.concurrency,
    achieved_rpm: Math.round(achieved * 10) / 10,
    achieved_share_of_rpm: Math.round((achieved / options.rpm) * 1000) / 1000,
    calls: measuredAccepted + measuredLimited,
    answered_429: measuredLimited,
    share_429:
      Math.round((measuredLimited / Math.max(1, measuredAccepted + measuredLimited)) * 10_000) /
      10_000,
    per_batch_share: Object.fromEntries(
      Array.from({ length: options.batches }, (_, i) => [
        `batch_${i + 1}`,
        Math.round(((accepted.get(i + 1) ?? 0) / Math.max(1, measuredAccepted)) * 1000) / 1000,
      ]),
    ),
    limiter_refusals: refusals,
    limiter_store_updates: storeUpdates,
    limiter_item_bytes: JSON.stringify(fakeTable.items.values().next().value ?? {}).length,
  };
  process.stdout.write(
    options.json ? `${JSON.stringify(output)}\n` : `${JSON.stringify(output, null, 2)}\n`,
  );
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
