/**
 * The judge step: essays come from the table, exactly one callback per request (verdict or failure
 * with a reason), in-process retries then redelivery, a failure callback on the last delivery,
 * the mock's duplicated and dropped callbacks, neutral labels, and no essay text in any message.
 */
import { describe, expect, it } from 'vitest';
import type { JudgeProvider, JudgeRequest, JudgeResult } from '#shared/judges/port.ts';
import { buildPrompt } from '#shared/judges/prompt.ts';
import { createBatch } from '#shared/workflow/api.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import { processComparisonRequest, RetryLaterError } from '#shared/workflow/judge.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import {
  CrashError,
  createPipeline,
  deliverOne,
  ESSAY_TEXT_MARKER,
  type Pipeline,
  testEssays,
} from '#test/helpers/pipeline.ts';

/** A 2-essay batch with its single comparison request taken off the queue. */
async function oneRequest(
  p: Pipeline,
  judge: Record<string, unknown> = { provider: 'mock', profile: 'default' },
) {
  await createBatch(
    p.deps,
    {
      essays: testEssays(2),
      judge,
      config: { RESAMPLING_ENABLED: false },
    },
    TEST_CALLER,
  );
  await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
  const [message] = p.queues.comparison.splice(0);
  return message!.body;
}

/** A provider that answers from a script and records what it was shown. */
function scriptedProvider(script: Array<JudgeResult | Error>) {
  const seen: JudgeRequest[] = [];
  const provider: JudgeProvider = {
    name: 'scripted',
    judge: async (request) => {
      seen.push(request);
      const next = script.length > 1 ? script.shift() : script[0];
      if (next instanceof Error) throw next;
      if (!next) throw new Error('script exhausted');
      return next;
    },
  };
  return { provider, seen };
}

const rateLimited: JudgeResult = {
  outcome: 'failure',
  kind: 'rate_limited',
  reason: 'http_429',
  retryable: true,
};

describe('processComparisonRequest', () => {
  it('judges the stored essays and sends one verdict callback without essay text', async () => {
    // Prepare
    const p = createPipeline();
    const request = await oneRequest(p);

    // Act
    const outcome = await processComparisonRequest(p.deps, request, 1);

    // Assess
    expect(outcome).toBe('verdict');
    expect(p.sent.callback).toEqual([
      expect.objectContaining({
        v: 1,
        batch_id: request.batch_id,
        comparison_id: request.comparison_id,
        outcome: 'verdict',
        winner: expect.stringMatching(/^[AB]$/),
      }),
    ]);
    const everything = JSON.stringify([p.sent, p.telemetry.logs]);
    expect(everything).not.toContain(ESSAY_TEXT_MARKER);
  });

  it('shows the provider the essays in request order as A and B, with their text from the table', async () => {
    // Prepare
    const p = createPipeline();
    const request = await oneRequest(p);
    const { provider, seen } = scriptedProvider([{ outcome: 'verdict', winner: 'B' }]);
    p.deps.providerFor = () => provider;

    // Act
    await processComparisonRequest(p.deps, request, 1);

    // Assess
    expect(seen).toHaveLength(1);
    expect(seen[0]!.essayA.text).toContain(`${ESSAY_TEXT_MARKER} ${request.a}:`);
    expect(seen[0]!.essayB.text).toContain(`${ESSAY_TEXT_MARKER} ${request.b}:`);
    expect(p.sent.callback[0]).toMatchObject({ outcome: 'verdict', winner: 'B' });
  });

  it('never tells the judge which essays are anchors: no grade, id or label in the request', async () => {
    // Prepare: both essays are anchors, with distinctive grade labels.
    const p = createPipeline();
    const essays = testEssays(2).map((essay, index) => ({
      ...essay,
      anchor_grade: index === 0 ? 'GRADE-DISTINCTION' : 'GRADE-PASS',
    }));
    await createBatch(
      p.deps,
      {
        essays,
        grade_scale: ['GRADE-PASS', 'GRADE-DISTINCTION'],
        config: { RESAMPLING_ENABLED: false },
      },
      TEST_CALLER,
    );
    await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t));
    const [message] = p.queues.comparison.splice(0);
    const { provider, seen } = scriptedProvider([{ outcome: 'verdict', winner: 'A' }]);
    p.deps.providerFor = () => provider;

    // Act
    await processComparisonRequest(p.deps, message!.body, 1);

    // Assess: what the provider saw and the queue message carry no anchor or grade; the prompt an
    // LLM adapter builds from it (texts, assignment, rubric) carries no grade, anchor or essay id.
    expect(seen).toHaveLength(1);
    const shown = JSON.stringify([seen[0], message!.body]);
    expect(shown).not.toMatch(/GRADE-|anchor/i);
    const prompt = JSON.stringify(
      buildPrompt({
        essayA: seen[0]!.essayA.text,
        essayB: seen[0]!.essayB.text,
        justificationMaxWords: 50,
      }),
    );
    for (const secret of ['GRADE-', 'anchor', essays[0]!.id, essays[1]!.id]) {
      expect(prompt).not.toContain(secret);
    }
  });

  it('retries a retryable failure in process, then succeeds with one callback', async () => {
    // Prepare
    const p = createPipeline();
    const request = await oneRequest(p);
    const { provider, seen } = scriptedProvider([
      rateLimited,
      new Error('socket hang up'),
      { outcome: 'verdict', winner: 'A' },
    ]);
    p.deps.providerFor = () => provider;

    // Act
    await processComparisonRequest(p.deps, request, 1);

    // Assess
    expect(seen).toHaveLength(3);
    expect(p.judgeSleeps).toHaveLength(2);
    expect(p.sent.callback).toEqual([expect.objectContaining({ outcome: 'verdict' })]);
  });

  it('leaves a still-failing request to redelivery, and sends a failure on the last delivery', async () => {
    // Prepare
    const p = createPipeline();
    const request = await oneRequest(p);
    const { provider } = scriptedProvider([rateLimited]);
    p.deps.providerFor = () => provider;
    const last = p.deps.config.QUEUE_MAX_RECEIVE_COUNT - 1;

    // Act
    const early = processComparisonRequest(p.deps, request, last - 1);
    await expect(early).rejects.toBeInstanceOf(RetryLaterError);
    const callbacksAfterEarly = p.sent.callback.length;
    const final = await processComparisonRequest(p.deps, request, last);

    // Assess
    expect(callbacksAfterEarly).toBe(0);
    expect(final).toBe('failure');
    expect(p.sent.callback).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        failure_kind: 'rate_limited',
        reason: 'http_429',
      }),
    ]);
  });

  it('sends a non-retryable failure at once, with its reason', async () => {
    // Prepare
    const p = createPipeline();
    const request = await oneRequest(p);
    const { provider, seen } = scriptedProvider([
      {
        outcome: 'failure',
        kind: 'malformed_answer',
        reason: 'unparseable_answer',
        retryable: false,
      },
    ]);
    p.deps.providerFor = () => provider;

    // Act
    await processComparisonRequest(p.deps, request, 1);

    // Assess
    expect(seen).toHaveLength(1);
    expect(p.sent.callback).toEqual([
      expect.objectContaining({ outcome: 'failure', failure_kind: 'malformed_answer' }),
    ]);
  });

  it('sends each callback 1 + duplicate_callbacks times for a mock batch', async () => {
    // Prepare
    const p = createPipeline();
    const request = await oneRequest(p, {
      provider: 'mock',
      profile: 'default',
      duplicate_callbacks: 1,
    });

    // Act
    await processComparisonRequest(p.deps, request, 1);

    // Assess
    expect(p.sent.callback).toHaveLength(2);
    expect(new Set(p.sent.callback.map((c) => JSON.stringify(c))).size).toBe(1);
  });

  it('sends no callback at all when the mock drops it (the sweeper times it out)', async () => {
    // Prepare
    const p = createPipeline();
    const request = await oneRequest(p, { provider: 'mock', profile: 'default', drop_rate: 1 });

    // Act
    const outcome = await processComparisonRequest(p.deps, request, 1);

    // Assess
    expect(outcome).toBe('dropped');
    expect(p.sent.callback).toHaveLength(0);
    expect(p.telemetry.lines('judge_callback_dropped_by_mock')).toHaveLength(1);
  });

  it('answers a request of a cancelled batch with a failure, without calling the provider', async () => {
    // Prepare
    const p = createPipeline();
    const request = await oneRequest(p);
    await p.store.cancelBatch(request.batch_id, p.clock.now);
    const { provider, seen } = scriptedProvider([{ outcome: 'verdict', winner: 'A' }]);
    p.deps.providerFor = () => provider;

    // Act
    await processComparisonRequest(p.deps, request, 1);

    // Assess
    expect(seen).toHaveLength(0);
    expect(p.sent.callback).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        failure_kind: 'invalid_request',
        reason: 'batch_not_running',
      }),
    ]);
  });

  it('answers a request past its deadline with a timeout failure', async () => {
    // Prepare
    const p = createPipeline();
    const request = await oneRequest(p);
    p.advance(p.deps.config.COMPARISON_DEADLINE_SECONDS * 1000 + 1);

    // Act
    await processComparisonRequest(p.deps, request, 1);

    // Assess
    expect(p.sent.callback).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        failure_kind: 'timeout',
        reason: 'deadline_passed',
      }),
    ]);
  });

  it('sends the callback on redelivery after a crash at any external call', async () => {
    // Prepare
    const probe = createPipeline();
    const probeRequest = await oneRequest(probe);
    const before = probe.externalCalls();
    await processComparisonRequest(probe.deps, probeRequest, 1);
    const calls = probe.externalCalls() - before;
    expect(calls).toBe(2); // BatchGetItem (batch, comparison, essays, settings), SendMessage

    for (let k = 1; k <= calls; k++) {
      const p = createPipeline();
      const request = await oneRequest(p);
      p.crashAtCall(k);

      // Act
      await expect(processComparisonRequest(p.deps, request, 1)).rejects.toBeInstanceOf(CrashError);
      await processComparisonRequest(p.deps, request, 2);

      // Assess: the seeded mock answers the redelivery identically
      expect(p.sent.callback, `crash at call ${k}`).toHaveLength(1);
    }
  });
});
