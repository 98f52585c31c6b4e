/**
 * Per-batch judge usage in processing_metadata: a whole batch judged in both orders through an LLM
 * adapter (in-memory pipeline, real HTTP to a local fake server) reports tokens, estimated cost and
 * the order-flip rate summed over the comparisons actually made.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_INPUT_TOKENS,
  FAKE_OUTPUT_TOKENS,
  type FakeLlmServer,
  type FakeReply,
  type RecordedRequest,
  startFakeLlmServer,
} from '#bench/support/fake-llm-server.ts';
import { createJudgeProvider } from '#shared/judges/registry.ts';
import { createBatch } from '#shared/workflow/api.ts';
import { processCallback } from '#shared/workflow/callback.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import { processComparisonRequest } from '#shared/workflow/judge.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import { llmChoice, llmOptions } from '#test/helpers/judge-factories.ts';
import {
  createPipeline,
  drain,
  metaOf,
  type Pipeline,
  reportOf,
  testEssays,
} from '#test/helpers/pipeline.ts';

let server: FakeLlmServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Every second comparison flips with the order (the model answers "A" both times). */
function positionBiasedOnEvenCalls(): (request: RecordedRequest) => FakeReply {
  let calls = 0;
  return () => {
    calls += 1;
    // Calls come in pairs (as planned, swapped): "A" twice is a flip, "A" then "B" agrees.
    const pair = Math.ceil(calls / 2);
    const second = calls % 2 === 0;
    if (pair % 2 === 0) return { kind: 'answer', winner: 'A', confidence: second ? 5 : 3 };
    return { kind: 'answer', winner: second ? 'B' : 'A', confidence: 4 };
  };
}

async function runBatch(p: Pipeline): Promise<string> {
  const created = (await createBatch(
    p.deps,
    {
      essays: testEssays(4),
      judge: llmChoice('openai', server as FakeLlmServer, { judge_both_orders: true }),
      config: { RESAMPLING_ENABLED: false },
    },
    TEST_CALLER,
  )) as { body: { batch_id: string } };
  await drain(p, {
    continuation: (t) => runContinuation(p.deps, t),
    judge: (request, receiveCount) => processComparisonRequest(p.deps, request, receiveCount),
    callback: (callback) => processCallback(p.deps, callback),
  });
  return created.body.batch_id;
}

describe('processing_metadata.judge_usage', () => {
  it('sums tokens, cost and order flips over the comparisons made', async () => {
    // Prepare
    server = await startFakeLlmServer({ dialect: 'openai', respond: positionBiasedOnEvenCalls() });
    const p = createPipeline({ allowedProviders: ['openai'] });
    p.deps.providerFor = (choice) =>
      createJudgeProvider(choice, llmOptions(server as FakeLlmServer));

    // Act
    const batchId = await runBatch(p);

    // Assess
    const meta = metaOf(p, batchId);
    const completed = meta.completed_comparisons as number;
    const usage = (reportOf(p, batchId) as { judge_usage: Record<string, unknown> }).judge_usage;
    expect(completed).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(2 * completed);
    const flips = Math.floor(completed / 2);
    expect(usage).toEqual({
      mode: 'sync',
      comparisons: completed,
      input_tokens: 2 * completed * FAKE_INPUT_TOKENS,
      output_tokens: 2 * completed * FAKE_OUTPUT_TOKENS,
      cost_usd: expect.closeTo(
        (2 * completed * (FAKE_INPUT_TOKENS * 0.15 + FAKE_OUTPUT_TOKENS * 0.6)) / 1e6,
        12,
      ),
      unpriced_comparisons: 0,
      both_orders_comparisons: completed,
      order_flips: flips,
      order_flip_rate: flips / completed,
      unverified_price_comparisons: 0,
    });
  });
});
