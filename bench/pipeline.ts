/**
 * bench:pipeline — one batch end to end through the local cloud, with every AWS request counted.
 *
 *   npm run -s bench:pipeline -- --essays 120 --per-essay 10 --json
 *
 * Runs its own local cloud in-process (moto_server behind a counting proxy, the function host, the
 * pollers, the HTTP API), submits N synthetic essays with a budget of N·K/2 comparisons (K per
 * essay) to the mock judge, and waits for a terminal status. Prints throughput, AWS requests per
 * comparison and an AWS cost estimate per 1,000 comparisons (LLM cost excluded; prices and their
 * sources in bench/aws-prices.ts). Lambda GB-s come from local durations on this machine, which
 * are an upper bound of what Lambda would bill for the same work on a quiet host.
 */

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient } from '#cli/api.ts';
import { submitBatch } from '#cli/upload.ts';
import { waitForBatch } from '#cli/waiting.ts';
import { seededRandom } from '#domain/random.ts';
import { isTerminal } from '#domain/types.ts';
import { runLocalCloud } from '#localstack/local-cloud/local-cloud.ts';
import { startMotoServer } from '#localstack/local-cloud/moto-server.ts';
import {
  ensureSynth,
  localCloudPaths,
  templatePathFor,
} from '#localstack/local-cloud/supervisor.ts';
import { AWS_PRICES_USD } from './aws-prices.ts';
import { type RequestTally, startCountingProxy } from './request-counter.ts';

/** Functions that serve the benchmark's own status polling, not the pipeline. */
const CLIENT_POLLING_FUNCTIONS = new Set(['get-batch', 'get-results']);
const STATUS_POLL_MS = 500;

const { values } = parseArgs({
  options: {
    essays: { type: 'string', default: '120' },
    'per-essay': { type: 'string', default: '10' },
    'latency-ms': { type: 'string', default: '20' },
    profile: { type: 'string', default: 'default' },
    seed: { type: 'string', default: '1' },
    'timeout-s': { type: 'string', default: '900' },
    json: { type: 'boolean', default: false },
  },
});

function positiveNumber(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`bench:pipeline: --${name} must be a non-negative number, got "${raw}"\n`);
    process.exit(2);
  }
  return value;
}

const essayCount = positiveNumber('essays', values.essays);
const perEssay = positiveNumber('per-essay', values['per-essay']);
const latencyMs = positiveNumber('latency-ms', values['latency-ms']);
const seed = positiveNumber('seed', values.seed);
const timeoutS = positiveNumber('timeout-s', values['timeout-s']);
const budget = Math.ceil((essayCount * perEssay) / 2);

/** Deterministic latent qualities (mulberry32 + Box–Muller, SD 1.5 logits). */
function essays(count: number) {
  const random = seededRandom(0x9e3779b9 ^ seed);
  return Array.from({ length: count }, (_, i) => {
    const quality =
      1.5 * Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
    const id = `bench-${String(i).padStart(5, '0')}`;
    return { id, text: `Synthetic benchmark essay ${id}. `.repeat(20), metadata: { quality } };
  });
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

/**
 * Where the wall time went: seconds each function ran (summed over its invocations, which overlap),
 * seconds moto took to answer, by action (a long poll counts its wait; DynamoDB's include waiting
 * for moto's one-at-a-time lock), and the waves the batch took (each wave is a serial chain:
 * continuation → judge → callback → continuation).
 */
function profile(
  wallS: number,
  waves: number,
  busyMs: Record<string, number>,
  tally: RequestTally,
): Record<string, unknown> {
  const seconds = (entries: Array<[string, number]>) =>
    Object.fromEntries(
      entries.sort(([, a], [, b]) => b - a).map(([name, ms]) => [name, round(ms / 1000, 2)]),
    );
  const motoMs = Object.entries(tally.upstreamMsByAction);
  return {
    wall_s: round(wallS, 1),
    waves,
    wall_s_per_wave: round(wallS / Math.max(1, waves), 2),
    function_busy_s: seconds(Object.entries(busyMs)),
    moto_answer_s_by_service: seconds(
      Object.entries(
        motoMs.reduce<Record<string, number>>((by, [key, ms]) => {
          const service = key.slice(0, key.indexOf('.'));
          by[service] = (by[service] ?? 0) + ms;
          return by;
        }, {}),
      ),
    ),
    moto_answer_s_by_action: seconds(motoMs),
  };
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'cj-bench-'));
  const paths = localCloudPaths({ stateDir: workDir });
  const logDir = paths.logDir;
  mkdirSync(logDir, { recursive: true });
  const templatePath = templatePathFor(paths.root, process.env.CJ_STAGE ?? 'dev');
  ensureSynth(paths, templatePath);
  const moto = await startMotoServer();
  const proxy = await startCountingProxy(moto.endpoint);
  const cloud = await runLocalCloud({
    templatePath,
    endpoint: proxy.endpoint,
    credentials: moto.credentials,
    logDir,
  });
  const invocations: Record<string, number> = {};
  /** Summed invocation durations by function (status polling included): the profile's host part. */
  const busyMs: Record<string, number> = {};
  let gbSeconds = 0;
  let counting = false;
  cloud.host.on('invocation', ({ function: fn, result }) => {
    if (!counting) return;
    busyMs[fn.shortName] = (busyMs[fn.shortName] ?? 0) + result.durationMs;
    if (CLIENT_POLLING_FUNCTIONS.has(fn.shortName)) return;
    invocations[fn.shortName] = (invocations[fn.shortName] ?? 0) + 1;
    gbSeconds += (result.durationMs / 1000) * (fn.memoryMb / 1024);
  });
  try {
    const api = new ApiClient({ baseUrl: cloud.apiUrl });
    proxy.reset();
    counting = true;
    const started = performance.now();
    const { batchId } = await submitBatch(api, essays(essayCount), {
      budget,
      judge: { provider: 'mock', profile: values.profile as string, latency_ms: latencyMs, seed },
    });
    const { state, timedOut } = await waitForBatch(api, batchId, {
      timeoutMs: timeoutS * 1000,
      pollMs: STATUS_POLL_MS,
      onState: (s) => {
        if (!values.json) {
          process.stderr.write(
            `\r${s.status} ${s.completed_comparisons + s.failed_comparisons}/${s.total_budget}`,
          );
        }
      },
    });
    const wallS = (performance.now() - started) / 1000;
    counting = false;
    const tally = structuredClone(proxy.tally);
    if (timedOut || !isTerminal(state.status)) {
      throw new Error(`batch ${batchId} still ${state.status} after ${timeoutS} s`);
    }
    const comparisons = state.submitted_comparisons;
    const per = (value: number) => (comparisons > 0 ? value / comparisons : Number.NaN);
    const lambdaInvocations = Object.values(invocations).reduce((a, b) => a + b, 0);
    const perThousand = (usd: number) => per(usd) * 1000;
    const cost = {
      dynamodb: perThousand(
        (tally.dynamodbReadUnits * AWS_PRICES_USD.dynamodbPerMillionReadUnits +
          tally.dynamodbWriteUnits * AWS_PRICES_USD.dynamodbPerMillionWriteUnits) /
          1e6,
      ),
      sqs: perThousand(
        (tally.sqsStandardBilledRequests * AWS_PRICES_USD.sqsStandardPerMillionRequests +
          tally.sqsFifoBilledRequests * AWS_PRICES_USD.sqsFifoPerMillionRequests) /
          1e6,
      ),
      lambda: perThousand(
        (lambdaInvocations * AWS_PRICES_USD.lambdaPerMillionRequests) / 1e6 +
          gbSeconds * AWS_PRICES_USD.lambdaArmPerGbSecond,
      ),
      eventbridge: perThousand(
        (tally.eventBridgeEvents * AWS_PRICES_USD.eventBridgePerMillionEvents) / 1e6,
      ),
    };
    const total = cost.dynamodb + cost.sqs + cost.lambda + cost.eventbridge;
    const result = {
      comparisons,
      wall_s: round(wallS, 1),
      comparisons_per_s: round(comparisons / wallS, 2),
      dynamodb_requests_per_comparison: round(per(tally.requestsByService.dynamodb ?? 0), 2),
      sqs_requests_per_comparison: round(
        per((tally.requestsByService.sqs ?? 0) - tally.sqsEmptyReceives),
        2,
      ),
      lambda_invocations_per_comparison: round(per(lambdaInvocations), 3),
      est_aws_cost_usd_per_1k_comparisons: round(total, 5),
      details: {
        essays: essayCount,
        per_essay: perEssay,
        budget,
        status: state.status,
        judge_latency_ms: latencyMs,
        dynamodb_read_units_per_comparison: round(per(tally.dynamodbReadUnits), 2),
        dynamodb_write_units_per_comparison: round(per(tally.dynamodbWriteUnits), 2),
        sqs_billed_requests_per_comparison: round(
          per(tally.sqsStandardBilledRequests + tally.sqsFifoBilledRequests),
          2,
        ),
        sqs_empty_receives_per_comparison: round(per(tally.sqsEmptyReceives), 2),
        lambda_gb_s_per_comparison: round(per(gbSeconds), 4),
        cost_usd_per_1k_comparisons: Object.fromEntries(
          Object.entries(cost).map(([k, v]) => [k, round(v, 5)]),
        ),
        invocations_by_function: invocations,
        requests_by_action: tally.byAction,
        profile: profile(wallS, state.current_iteration, busyMs, tally),
        excluded:
          'LLM calls; API Gateway (client requests); CloudWatch logs and metrics; free tiers; empty SQS receives (idle polling is billed per minute of polling, not per comparison)',
      },
    };
    if (!values.json) process.stderr.write('\n');
    process.stdout.write(`${JSON.stringify(result, null, values.json ? undefined : 2)}\n`);
  } finally {
    await cloud.stop({ abort: true });
    await proxy.close();
    await moto.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:pipeline: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
