/**
 * The judge step: essays come from the table, exactly one callback per request (verdict or failure
 * with a reason), in-process retries then redelivery, a failure callback on the last delivery,
 * the mock's duplicated and dropped callbacks, neutral labels, and no essay text in any message.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { JudgeProvider, JudgeRequest, JudgeResult } from '#shared/judges/port.ts';
import { buildPrompt } from '#shared/judges/prompt.ts';
import { createBatch } from '#shared/workflow/api.ts';
import { processCallback } from '#shared/workflow/callback.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import { processComparisonRequest, RetryLaterError } from '#shared/workflow/judge.ts';
import { runSweep } from '#shared/workflow/sweeper.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import {
  CrashError,
  createPipeline,
  deliverOne,
  ESSAY_TEXT_MARKER,
  metaOf,
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
    // BatchGetItem (batch, comparison, essays, settings), PutItem (the lease), SendMessage
    expect(calls).toBe(3);

    for (let k = 1; k <= calls; k++) {
      const p = createPipeline();
      const request = await oneRequest(p);
      p.crashAtCall(k);

      // Act: the same message delivered again after a crash (a delivery that returned is deleted)
      await expect(processComparisonRequest(p.deps, request, 1)).rejects.toBeInstanceOf(CrashError);
      const outcome = await processComparisonRequest(p.deps, request, 2);

      // Assess: the crash came before the lease was written or gave it back; the seeded mock
      // answers the redelivery identically
      expect(outcome, `crash at call ${k}`).toBe('verdict');
      expect(p.sent.callback, `crash at call ${k}`).toHaveLength(1);
    }
  });
});

/** A provider whose answers wait until the test lets them go; counts its calls. */
function gatedProvider(answer: JudgeResult) {
  let calls = 0;
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let called: () => void = () => undefined;
  const firstCall = new Promise<void>((resolve) => {
    called = resolve;
  });
  const provider: JudgeProvider = {
    name: 'gated',
    judge: async () => {
      calls += 1;
      called();
      await gate;
      return answer;
    },
  };
  return { provider, calls: () => calls, open, firstCall };
}

const claimMs = (p: Pipeline) => p.deps.config.JUDGE_CLAIM_SECONDS * 1000;

/** The claim item of a comparison, as stored. */
function claimOf(p: Pipeline, request: { batch_id: string; comparison_id: string }) {
  return p.table.get(`BATCH#${request.batch_id}`, `CLAIM#${request.comparison_id}`);
}

/** The delays of the comparison requests re-sent so far (SendMessage DelaySeconds). */
function resentDelays(p: Pipeline): number[] {
  return p.sqs
    .commandCalls(SendMessageCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.QueueUrl?.endsWith('/comparisons'))
    .map((input) => input.DelaySeconds ?? 0);
}

/** A holder that wrote its lease and was then killed: no provider answer, no release, no callback. */
async function crashedHolder(p: Pipeline, request: { batch_id: string; comparison_id: string }) {
  const claim = await p.deps.store.claimComparison(request.batch_id, request.comparison_id, {
    until: new Date(p.clock.now.getTime() + claimMs(p)),
    now: p.clock.now,
  });
  if (claim.outcome !== 'claimed') throw new Error('expected to claim');
  return claim.token;
}

describe('the lease before the provider call', () => {
  it('leases the comparison until now + JUDGE_CLAIM_SECONDS with one conditional write, then judges', async () => {
    // Prepare
    const p = createPipeline();
    const request = await oneRequest(p);
    const before = p.callLog.length;

    // Act
    const outcome = await processComparisonRequest(p.deps, request, 1);

    // Assess: one write more than without the lease, no read, nothing after the callback
    expect(outcome).toBe('verdict');
    expect(p.callLog.slice(before)).toEqual(['BatchGet', 'Put', 'SendMessage']);
    expect(claimOf(p, request)).toMatchObject({
      claimed_until: p.clock.now.getTime() + claimMs(p),
      claim_token: expect.any(String),
      claim_state: 'judging',
    });
    expect(p.sent.callback).toHaveLength(1);
  });

  it('sends a copy that meets a held lease back to the queue until the lease ends, without calling the provider', async () => {
    // Prepare: the first copy is inside its provider call (its callback not yet recorded)
    const p = createPipeline();
    const request = await oneRequest(p);
    const gated = gatedProvider({ outcome: 'verdict', winner: 'A' });
    p.deps.providerFor = () => gated.provider;
    const first = processComparisonRequest(p.deps, request, 1);
    await gated.firstCall;
    p.advance(30_000);

    // Act
    const copy = await processComparisonRequest(p.deps, request, 1);
    gated.open();
    const winner = await first;

    // Assess: one provider call, one callback; the copy is not lost but re-sent to return 1 s
    // after the lease's end (90 s of the 120 s lease remain)
    expect(copy).toBe('claimed_elsewhere');
    expect(winner).toBe('verdict');
    expect(gated.calls()).toBe(1);
    expect(p.sent.callback).toEqual([expect.objectContaining({ outcome: 'verdict' })]);
    expect(p.queues.comparison.map((message) => message.body)).toEqual([request]);
    expect(resentDelays(p)).toEqual([claimMs(p) / 1000 - 30 + 1]);
    expect(p.telemetry.lines('judge_request_claimed_elsewhere')).toEqual([
      expect.objectContaining({
        comparison_id: request.comparison_id,
        claimed_until: new Date(p.clock.now.getTime() - 30_000 + claimMs(p)).toISOString(),
        delay_s: claimMs(p) / 1000 - 30 + 1,
      }),
    ]);
  });

  it('skips the returning copy without a provider call or a write once the holder answered', async () => {
    // Prepare: the holder judged; a copy met its lease and was re-sent; the callback was recorded
    const p = createPipeline();
    const request = await oneRequest(p);
    await processComparisonRequest(p.deps, request, 1);
    p.advance(5_000);
    await processComparisonRequest(p.deps, request, 1);
    await deliverOne(p, 'callback', (callback) => processCallback(p.deps, callback));
    p.advance(claimMs(p));
    const { provider, seen } = scriptedProvider([{ outcome: 'verdict', winner: 'B' }]);
    p.deps.providerFor = () => provider;
    const before = p.callLog.length;

    // Act: the re-sent copy comes back after the lease
    const returned = await deliverOne(p, 'comparison', (body, count) =>
      processComparisonRequest(p.deps, body, count),
    );

    // Assess: the consistent read answers it; no lease write, no provider call, no callback
    expect(returned).toBe('ok');
    expect(p.telemetry.lines('judge_request_skipped')).toHaveLength(1);
    expect(p.callLog.slice(before)).toEqual(['BatchGet']);
    expect(seen).toHaveLength(0);
    expect(p.sent.callback).toHaveLength(1);
    expect(p.queues.comparison).toEqual([]);
  });

  it('skips an answered comparison before any lease is written', async () => {
    // Prepare: judged and its callback recorded
    const p = createPipeline();
    const request = await oneRequest(p);
    await processComparisonRequest(p.deps, request, 1);
    await deliverOne(p, 'callback', (callback) => processCallback(p.deps, callback));
    const before = p.callLog.length;
    const { provider, seen } = scriptedProvider([{ outcome: 'verdict', winner: 'B' }]);
    p.deps.providerFor = () => provider;

    // Act: a duplicate while the lease still runs
    const copy = await processComparisonRequest(p.deps, request, 2);

    // Assess
    expect(copy).toBe('skipped');
    expect(p.callLog.slice(before)).toEqual(['BatchGet']);
    expect(seen).toHaveLength(0);
    expect(p.sent.callback).toHaveLength(1);
  });

  it('takes over an expired lease and judges', async () => {
    // Prepare: a holder leased the comparison and vanished
    const p = createPipeline();
    const request = await oneRequest(p);
    const vanished = await crashedHolder(p, request);
    p.advance(claimMs(p) + 1);

    // Act
    const outcome = await processComparisonRequest(p.deps, request, 1);

    // Assess: a new lease, one callback
    expect(outcome).toBe('verdict');
    expect(p.sent.callback).toHaveLength(1);
    expect(claimOf(p, request)).toMatchObject({
      claim_state: 'judging',
      claimed_until: p.clock.now.getTime() + claimMs(p),
    });
    expect(claimOf(p, request)?.claim_token).not.toBe(vanished);
  });

  it('still judges the comparison when the holder crashed after leasing it', async () => {
    // Prepare: the holder leased and was killed; its message comes back 2 s later, as does an
    // SQS duplicate of the request
    const p = createPipeline();
    const request = await oneRequest(p);
    await crashedHolder(p, request);
    p.advance(2_000);
    p.queues.comparison.push(
      { body: request, raw: JSON.stringify(request), receiveCount: 1 },
      { body: request, raw: JSON.stringify(request), receiveCount: 0 },
    );
    const judge = (body: typeof request, count: number) =>
      processComparisonRequest(p.deps, body, count);
    const { provider, seen } = scriptedProvider([{ outcome: 'verdict', winner: 'A' }]);
    p.deps.providerFor = () => provider;

    // Act: both meet the live lease; then both re-sent copies return after it ended
    await deliverOne(p, 'comparison', judge);
    await deliverOne(p, 'comparison', judge);
    const heldBack = p.queues.comparison.length;
    p.advance(claimMs(p));
    await deliverOne(p, 'comparison', judge);
    await deliverOne(p, 'comparison', judge);
    await deliverOne(p, 'callback', (callback) => processCallback(p.deps, callback));

    // Assess: nothing was dropped while the lease held; one copy took it over and called the
    // provider once; the other found the new lease and was re-sent again; the comparison counts
    expect(heldBack).toBe(2);
    expect(seen).toHaveLength(1);
    expect(p.sent.callback).toEqual([expect.objectContaining({ outcome: 'verdict' })]);
    expect(metaOf(p, request.batch_id).completed_comparisons).toBe(1);
    expect(p.queues.comparison).toHaveLength(1);
    expect(p.errors).toEqual([]);
  });

  it('leaves a copy unacknowledged when re-sending it fails, so SQS delivers it again', async () => {
    // Prepare: a live lease; the copy's re-send (after BatchGet and the failed lease write) crashes
    const p = createPipeline();
    const request = await oneRequest(p);
    await crashedHolder(p, request);
    p.crashAtCall(3);

    // Act
    const copy = processComparisonRequest(p.deps, request, 1);

    // Assess
    await expect(copy).rejects.toBeInstanceOf(CrashError);
    expect(p.queues.comparison).toEqual([]);
  });

  it('times out a comparison whose holder vanished and whose request never came back', async () => {
    // Prepare: leased by an invocation that died; its message never comes back
    const p = createPipeline();
    const request = await oneRequest(p);
    await crashedHolder(p, request);
    p.advance(p.deps.config.COMPARISON_DEADLINE_SECONDS * 1000 + 60_000);

    // Act
    await runSweep(p.deps);

    // Assess: the batch counts it failed (timeout), exactly once
    const meta = metaOf(p, request.batch_id);
    expect(meta.failed_comparisons).toBe(1);
    expect(meta.completed_comparisons).toBe(0);
    expect(p.sent.callback).toEqual([]);
  });

  it('gives the lease up when it leaves the request to redelivery, so the next delivery judges at once', async () => {
    // Prepare: a provider that fails retryably on every in-process attempt, then answers
    const p = createPipeline();
    const request = await oneRequest(p);
    const attempts = p.deps.config.JUDGE_INPROCESS_ATTEMPTS;
    const { provider, seen } = scriptedProvider([
      ...Array.from({ length: attempts }, () => rateLimited),
      { outcome: 'verdict', winner: 'A' },
    ]);
    p.deps.providerFor = () => provider;
    await expect(processComparisonRequest(p.deps, request, 1)).rejects.toBeInstanceOf(
      RetryLaterError,
    );
    const released = claimOf(p, request);

    // Act: redelivered without waiting for the lease to end
    const outcome = await processComparisonRequest(p.deps, request, 2);

    // Assess
    expect(released).toMatchObject({ claim_state: 'released', claimed_until: 0 });
    expect(outcome).toBe('verdict');
    expect(seen).toHaveLength(attempts + 1);
    expect(p.sent.callback).toHaveLength(1);
    expect(claimOf(p, request)?.claimed_until).toBe(p.clock.now.getTime() + claimMs(p));
  });

  it('gives the lease up when sending the callback fails, and the redelivery sends it', async () => {
    // Prepare: the callback send (the call after BatchGet and the lease) crashes once
    const p = createPipeline();
    const request = await oneRequest(p);
    p.crashAtCall(3);
    await expect(processComparisonRequest(p.deps, request, 1)).rejects.toBeInstanceOf(CrashError);
    const released = claimOf(p, request);

    // Act
    const outcome = await processComparisonRequest(p.deps, request, 2);

    // Assess
    expect(released?.claimed_until).toBe(0);
    expect(outcome).toBe('verdict');
    expect(p.sent.callback).toHaveLength(1);
  });
});

describe('the lease when the store fails', () => {
  it('surfaces the error that stopped the judge, not the failed release after it', async () => {
    // Prepare: the callback send crashes, and the store cannot take the lease back either
    const p = createPipeline();
    const request = await oneRequest(p);
    const releases: string[] = [];
    p.deps.store.releaseClaim = async (_batchId, comparisonId) => {
      releases.push(comparisonId);
      throw new Error('store unavailable');
    };
    p.crashAtCall(3);

    // Act
    const outcome = processComparisonRequest(p.deps, request, 1);

    // Assess: the crash surfaces (SQS redelivers); the lease stays until it ends
    await expect(outcome).rejects.toBeInstanceOf(CrashError);
    expect(releases).toEqual([request.comparison_id]);
    expect(claimOf(p, request)?.claimed_until).toBe(p.clock.now.getTime() + claimMs(p));
  });
});
