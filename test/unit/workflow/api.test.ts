/**
 * The HTTP API operations: create (inline and paged), add essays, start, get, results, cancel and
 * mock mode — status codes, `{error, field, message}` bodies naming the field, the state JSON, and
 * the continuation trigger that starting a batch sends.
 */

import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { encodeResultsCursor } from '#messages/api.ts';
import type { BatchResults } from '#messages/state.ts';
import {
  addEssays,
  cancelBatch,
  createBatch,
  getBatch,
  getResults,
  mockMode,
  startBatch,
} from '#shared/workflow/api.ts';
import { processCallback } from '#shared/workflow/callback.ts';
import { runContinuation } from '#shared/workflow/continuation.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import { httpFailureOf } from '#test/helpers/http-failure.ts';
import {
  CrashError,
  createPipeline,
  deliverOne,
  type Pipeline,
  testEssays,
} from '#test/helpers/pipeline.ts';

const idOf = (result: { body: unknown }) => (result.body as { batch_id: string }).batch_id;

/** The in-flight counts on the pipeline's table: the test caller's batches, all essays. */
function inFlightOf(p: Pipeline): { batches: number; essays: number } {
  const own = p.table.get(`INFLIGHT#PRINCIPAL#${TEST_CALLER.id}`, 'COUNTER');
  const deployment = p.table.get('INFLIGHT#DEPLOYMENT', 'COUNTER');
  return { batches: Number(own?.batches ?? 0), essays: Number(deployment?.essays ?? 0) };
}

async function runToCompletion(p: Pipeline): Promise<void> {
  for (let step = 0; step < 200; step++) {
    if ((await deliverOne(p, 'continuation', (t) => runContinuation(p.deps, t))) !== 'empty')
      continue;
    const request = p.queues.comparison.shift();
    if (!request) return;
    await processCallback(p.deps, {
      v: 1,
      batch_id: request.body.batch_id,
      comparison_id: request.body.comparison_id,
      outcome: 'verdict',
      winner: 'A',
    });
  }
}

describe('HTTP API operations', () => {
  it('creates an inline batch: 201 with the state JSON, and a start trigger', async () => {
    // Prepare
    const p = createPipeline();

    // Act
    const result = await createBatch(p.deps, { essays: testEssays(4), budget: 20 }, TEST_CALLER);

    // Assess
    expect(result.status).toBe(201);
    expect(result.body).toEqual({
      v: 1,
      batch_id: 'batch-0001',
      status: 'RUNNING',
      failure_reason: null,
      essay_count: 4,
      essays_stored: 4,
      submitted_comparisons: 0,
      completed_comparisons: 0,
      failed_comparisons: 0,
      pending_callbacks: 0,
      total_comparisons: 0,
      total_budget: 20,
      current_iteration: 0,
      resampling_pass_count: 0,
      completion_denominator: 6,
      processing_metadata: {},
      grade_scale: null,
      created_at: p.clock.now.toISOString(),
      updated_at: p.clock.now.toISOString(),
      finalized_at: null,
    });
    expect(p.sent.continuation).toEqual([
      expect.objectContaining({
        body: { v: 1, batch_id: 'batch-0001', iteration: 0, cause: 'batch_started' },
        dedupId: 'batch-0001:0',
      }),
    ]);
  });

  it.each([
    [{ essays: testEssays(1) }, 'essays'],
    [{ essays: [...testEssays(2), testEssays(1)[0]] }, 'essays[2].id'],
    [{ essays: testEssays(3), budget: 0 }, 'budget'],
    [{ essays: testEssays(3), config: { NO_SUCH_SETTING: 1 } }, 'config.NO_SUCH_SETTING'],
    [{ essays: testEssays(3), judge: { provider: 'mock', profile: 'nope' } }, 'judge.profile'],
    [{ essays: testEssays(3), v: 2 }, 'v'],
  ])('rejects %j with 400 naming %s', async (body, field) => {
    // Prepare
    const p = createPipeline();

    // Act
    const response = await httpFailureOf(createBatch(p.deps, body, TEST_CALLER));

    // Assess
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'validation_error', field });
    expect(p.sent.continuation).toHaveLength(0);
  });

  it('rejects a provider this deployment does not allow with 400 on judge.provider', async () => {
    // Prepare
    const p = createPipeline({ allowedProviders: ['openai'] });

    // Act
    const response = await httpFailureOf(
      createBatch(
        p.deps,
        {
          essays: testEssays(3),
          judge: { provider: 'mock', profile: 'default' },
        },
        TEST_CALLER,
      ),
    );

    // Assess
    expect(response).toEqual({
      status: 400,
      body: expect.objectContaining({ error: 'validation_error', field: 'judge.provider' }),
    });
  });

  it('runs the paged flow: start is 409 until every essay is stored, then 202 with a trigger', async () => {
    // Prepare
    const p = createPipeline();
    const created = await createBatch(p.deps, { essay_count: 4 }, TEST_CALLER);
    const batchId = idOf(created);
    const essays = testEssays(4);

    // Act
    const early = await httpFailureOf(startBatch(p.deps, batchId, TEST_CALLER, {}));
    const page1 = await addEssays(p.deps, batchId, TEST_CALLER, {
      offset: 0,
      essays: essays.slice(0, 2),
    });
    const retried = await addEssays(p.deps, batchId, TEST_CALLER, {
      offset: 0,
      essays: essays.slice(0, 2),
    });
    const gap = await httpFailureOf(
      addEssays(p.deps, batchId, TEST_CALLER, { offset: 3, essays: essays.slice(3) }),
    );
    await addEssays(p.deps, batchId, TEST_CALLER, { offset: 2, essays: essays.slice(2) });
    const started = await startBatch(p.deps, batchId, TEST_CALLER, {});

    // Assess
    expect(created).toMatchObject({
      status: 201,
      body: { status: 'PENDING_ESSAYS', essays_stored: 0 },
    });
    expect(early).toEqual({
      status: 409,
      body: expect.objectContaining({ error: 'conflict', field: 'essays' }),
    });
    expect(page1.body).toMatchObject({ outcome: 'stored', essays_stored: 2 });
    expect(retried.body).toMatchObject({ outcome: 'already_stored', essays_stored: 2 });
    expect(gap).toMatchObject({ status: 409, body: { field: 'offset' } });
    expect(started).toMatchObject({ status: 202, body: { status: 'RUNNING', essays_stored: 4 } });
    expect(p.sent.continuation.map((t) => t.body.cause)).toEqual(['batch_started']);
  });

  it('checks anchor grades of a paged batch: each page against the scale, two grades at start', async () => {
    // Prepare: a paged batch of 4 with a scale, and one without.
    const p = createPipeline();
    const batchId = idOf(
      await createBatch(p.deps, { essay_count: 4, grade_scale: ['C', 'B', 'A'] }, TEST_CALLER),
    );
    const plain = idOf(await createBatch(p.deps, { essay_count: 2 }, TEST_CALLER));
    const essays = testEssays(4);
    const anchored = (index: number, grade: string) => ({ ...essays[index]!, anchor_grade: grade });

    // Act
    const unknown = await httpFailureOf(
      addEssays(p.deps, batchId, TEST_CALLER, {
        offset: 0,
        essays: [essays[0]!, anchored(1, 'A*')],
      }),
    );
    const noScale = await httpFailureOf(
      addEssays(p.deps, plain, TEST_CALLER, { offset: 0, essays: [anchored(0, 'A'), essays[1]!] }),
    );
    await addEssays(p.deps, batchId, TEST_CALLER, {
      offset: 0,
      essays: [anchored(0, 'B'), essays[1]!],
    });
    await addEssays(p.deps, batchId, TEST_CALLER, {
      offset: 2,
      essays: [anchored(2, 'B'), essays[3]!],
    });
    const oneGrade = await httpFailureOf(startBatch(p.deps, batchId, TEST_CALLER, {}));

    // Assess
    expect(unknown).toMatchObject({
      status: 400,
      body: { error: 'validation_error', field: 'essays[1].anchor_grade' },
    });
    expect(noScale).toMatchObject({ status: 400, body: { field: 'grade_scale' } });
    expect(oneGrade).toMatchObject({
      status: 400,
      body: {
        field: 'essays',
        message: expect.stringMatching(/at least two distinct grades/),
      },
    });
    expect((await getBatch(p.deps, batchId, TEST_CALLER)).body).toMatchObject({
      status: 'PENDING_ESSAYS',
    });
    expect(p.sent.continuation).toHaveLength(0);
  });

  it('starts a paged batch whose pages carry anchors of two grades', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = idOf(
      await createBatch(p.deps, { essay_count: 4, grade_scale: ['C', 'A'] }, TEST_CALLER),
    );
    const essays = testEssays(4).map((essay, index) =>
      index === 0
        ? { ...essay, anchor_grade: 'A' }
        : index === 3
          ? { ...essay, anchor_grade: 'C' }
          : essay,
    );
    await addEssays(p.deps, batchId, TEST_CALLER, { offset: 0, essays: essays.slice(0, 2) });
    await addEssays(p.deps, batchId, TEST_CALLER, { offset: 2, essays: essays.slice(2) });

    // Act
    const started = await startBatch(p.deps, batchId, TEST_CALLER, {});

    // Assess
    expect(started).toMatchObject({
      status: 202,
      body: { status: 'RUNNING', grade_scale: ['C', 'A'] },
    });
  });

  it('answers 404 for an unknown batch on every route', async () => {
    // Prepare
    const p = createPipeline();

    // Act
    const responses = await Promise.all([
      httpFailureOf(getBatch(p.deps, 'missing', TEST_CALLER)),
      httpFailureOf(getResults(p.deps, 'missing', TEST_CALLER)),
      httpFailureOf(startBatch(p.deps, 'missing', TEST_CALLER, {})),
      httpFailureOf(cancelBatch(p.deps, 'missing', TEST_CALLER, {})),
      httpFailureOf(
        addEssays(p.deps, 'missing', TEST_CALLER, { offset: 0, essays: testEssays(1) }),
      ),
    ]);

    // Assess
    for (const response of responses) {
      expect(response).toEqual({
        status: 404,
        body: { error: 'not_found', field: 'id', message: 'batch missing not found' },
      });
    }
  });

  it('serves results only once the batch is finalized', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = idOf(
      await createBatch(
        p.deps,
        { essays: testEssays(3), config: { RESAMPLING_ENABLED: false } },
        TEST_CALLER,
      ),
    );
    const early = await httpFailureOf(getResults(p.deps, batchId, TEST_CALLER));

    // Act
    await runToCompletion(p);
    const results = await getResults(p.deps, batchId, TEST_CALLER);

    // Assess
    expect(early).toMatchObject({ status: 409, body: { field: 'status' } });
    const body = results.body as { status: string; essays: Array<{ id: string; rank: number }> };
    expect(body.status).toMatch(/^COMPLETE_/);
    expect(body.essays.map((e) => e.rank)).toEqual([1, 2, 3]);
    expect(new Set(body.essays.map((e) => e.id))).toEqual(new Set(testEssays(3).map((e) => e.id)));
  });

  it('serves results in pages that follow their cursors, best first, and refuses a bad page query naming the field', async () => {
    // Prepare: a finished 5-essay batch
    const p = createPipeline();
    const batchId = idOf(
      await createBatch(
        p.deps,
        { essays: testEssays(5), config: { RESAMPLING_ENABLED: false } },
        TEST_CALLER,
      ),
    );
    await runToCompletion(p);
    const whole = (await getResults(p.deps, batchId, TEST_CALLER)).body as BatchResults;

    // Act: pages of 2, each from the previous page's cursor
    const pages: BatchResults[] = [];
    let cursor: string | undefined;
    do {
      const query = cursor === undefined ? { limit: '2' } : { limit: '2', cursor };
      const page = (await getResults(p.deps, batchId, TEST_CALLER, query)).body as BatchResults;
      pages.push(page);
      cursor = page.next_cursor;
    } while (cursor !== undefined);
    const refusals = await Promise.all([
      httpFailureOf(getResults(p.deps, batchId, TEST_CALLER, { limit: '0' })),
      httpFailureOf(
        getResults(p.deps, batchId, TEST_CALLER, {
          limit: String(DEFAULT_CONFIG.RESULTS_PAGE_ROWS + 1),
        }),
      ),
      httpFailureOf(getResults(p.deps, batchId, TEST_CALLER, { limit: 'ten' })),
      httpFailureOf(getResults(p.deps, batchId, TEST_CALLER, { cursor: 'not-a-cursor' })),
      httpFailureOf(getResults(p.deps, batchId, TEST_CALLER, { cursor: encodeResultsCursor(6) })),
      httpFailureOf(getResults(p.deps, batchId, TEST_CALLER, { page: '2' })),
    ]);

    // Assess
    expect(whole.total).toBe(5);
    expect(whole.next_cursor).toBeUndefined();
    expect(pages.map((page) => page.essays.length)).toEqual([2, 2, 1]);
    expect(pages.every((page) => page.total === 5)).toBe(true);
    expect(pages.flatMap((page) => page.essays)).toEqual(whole.essays);
    expect(whole.essays.map((essay) => essay.rank)).toEqual([1, 2, 3, 4, 5]);
    expect(
      refusals.map((refusal) => [refusal.status, (refusal.body as { field: string }).field]),
    ).toEqual([
      [400, 'limit'],
      [400, 'limit'],
      [400, 'limit'],
      [400, 'cursor'],
      [400, 'cursor'],
      [400, 'page'],
    ]);
  });

  it('cancels once: 200 CANCELLED with one event; again 200 without a second; a finished batch is 409', async () => {
    // Prepare
    const p = createPipeline();
    const running = idOf(await createBatch(p.deps, { essays: testEssays(4) }, TEST_CALLER));
    const finished = idOf(
      await createBatch(
        p.deps,
        { essays: testEssays(2), config: { RESAMPLING_ENABLED: false } },
        TEST_CALLER,
      ),
    );
    p.queues.continuation.splice(0, 1); // the running batch's start trigger: it stays unplanned
    await runToCompletion(p);

    // Act
    const first = await cancelBatch(p.deps, running, TEST_CALLER, {});
    const second = await cancelBatch(p.deps, running, TEST_CALLER, {});
    const finishedCancel = await httpFailureOf(cancelBatch(p.deps, finished, TEST_CALLER, {}));

    // Assess
    expect(first).toMatchObject({ status: 200, body: { status: 'CANCELLED' } });
    expect(second).toMatchObject({ status: 200, body: { status: 'CANCELLED' } });
    expect(p.events.filter((e) => e.batch_id === running)).toEqual([
      expect.objectContaining({ status: 'CANCELLED' }),
    ]);
    expect(finishedCancel).toMatchObject({ status: 409, body: { error: 'conflict' } });
  });

  it('lists the allowed providers and the mock profiles', () => {
    // Act
    const result = mockMode({ allowedProviders: ['mock'] });

    // Assess
    const body = result.body as {
      allowed_providers: string[];
      mock_profiles: Array<{ name: string }>;
    };
    expect(body.allowed_providers).toEqual(['mock']);
    expect(body.mock_profiles.map((profile) => profile.name)).toEqual(
      expect.arrayContaining(['eng5_lower5_gpt51_low', 'flaky_half', 'always_fail']),
    );
  });
  it('a client retry after a crash at any call of start sends the start trigger (deduplicated)', async () => {
    // Prepare
    const pagedBatch = async (p: Pipeline) => {
      const batchId = idOf(await createBatch(p.deps, { essay_count: 2 }, TEST_CALLER));
      await addEssays(p.deps, batchId, TEST_CALLER, { offset: 0, essays: testEssays(2) });
      return batchId;
    };
    const probe = createPipeline();
    const probeId = await pagedBatch(probe);
    const before = probe.externalCalls();
    await startBatch(probe.deps, probeId, TEST_CALLER, {});
    const calls = probe.externalCalls() - before;
    // GetItem META (whose batch?), GetItem (settings: a grade scale?), GetItem META, GetItem × 2
    // (the in-flight counters), TransactWriteItems (start + count), GetItem META, SendMessage
    expect(calls).toBe(8);

    for (let k = 1; k <= calls; k++) {
      const p = createPipeline();
      const batchId = await pagedBatch(p);
      p.crashAtCall(k);

      // Act
      await expect(startBatch(p.deps, batchId, TEST_CALLER, {})).rejects.toBeInstanceOf(CrashError);
      const retried = await startBatch(p.deps, batchId, TEST_CALLER, {});

      // Assess
      expect(retried.body, `crash at call ${k}`).toMatchObject({ status: 'RUNNING' });
      expect(
        p.queues.continuation.map((m) => m.dedupId),
        `crash at call ${k}`,
      ).toEqual([`${batchId}:0`]);
      expect(inFlightOf(p), `crash at call ${k}`).toEqual({ batches: 1, essays: 2 });
    }
  });

  it('a client retry after a crash at any call of cancel publishes the cancellation exactly once', async () => {
    // Prepare
    const probe = createPipeline();
    const probeId = idOf(await createBatch(probe.deps, { essays: testEssays(3) }, TEST_CALLER));
    const start = probe.callLog.length;
    await cancelBatch(probe.deps, probeId, TEST_CALLER, {});
    const probeCalls = probe.callLog.slice(start);
    // META (whose batch?), META read, cancel + release (one transaction), the event, its mark,
    // META, settings
    expect(probeCalls).toEqual([
      'Get',
      'Get',
      'TransactWrite',
      'PutEvents',
      'Update',
      'Get',
      'Get',
    ]);
    const calls = probeCalls.length;
    const markCall = probeCalls.indexOf('PutEvents') + 2; // 1-based: the call right after publishing

    for (let k = 1; k <= calls; k++) {
      const p = createPipeline();
      const batchId = idOf(await createBatch(p.deps, { essays: testEssays(3) }, TEST_CALLER));
      p.crashAtCall(k);

      // Act
      await expect(cancelBatch(p.deps, batchId, TEST_CALLER, {})).rejects.toBeInstanceOf(
        CrashError,
      );
      const retried = await cancelBatch(p.deps, batchId, TEST_CALLER, {});

      // Assess
      expect(retried, `crash at call ${k}`).toMatchObject({
        status: 200,
        body: { status: 'CANCELLED' },
      });
      // Only a crash between publishing and marking publishes twice (consumers dedupe by batch_id).
      expect(p.events.length, `crash at call ${k}`).toBe(k === markCall ? 2 : 1);
      expect(p.events.every((e) => e.batch_id === batchId && e.status === 'CANCELLED')).toBe(true);
      expect(inFlightOf(p), `crash at call ${k}`).toEqual({ batches: 0, essays: 0 });
    }
  });
  it('a create retried with the same Idempotency-Key after a crash at any call makes one batch and one trigger', async () => {
    // Prepare
    const body = { essays: testEssays(3) };
    const probe = createPipeline();
    const before = probe.externalCalls();
    await createBatch(probe.deps, body, TEST_CALLER, 'client-request-1');
    const calls = probe.externalCalls() - before;
    // GetItem (key lookup), GetItem × 2 (in-flight counters), BatchWriteItem (essays),
    // TransactWriteItems (META, SETTINGS, counters), SendMessage
    expect(calls).toBe(6);

    for (let k = 1; k <= calls; k++) {
      const p = createPipeline();
      p.crashAtCall(k);

      // Act
      await expect(
        createBatch(p.deps, body, TEST_CALLER, 'client-request-1'),
      ).rejects.toBeInstanceOf(CrashError);
      const retried = await createBatch(p.deps, body, TEST_CALLER, 'client-request-1');
      const again = await createBatch(p.deps, body, TEST_CALLER, 'client-request-1');

      // Assess
      const batchId = idOf(retried);
      expect(idOf(again), `crash at call ${k}`).toBe(batchId);
      expect(again.status).toBe(200);
      const metas = [...p.table.items.values()].filter((item) => item.sk === 'META');
      expect(metas, `crash at call ${k}`).toHaveLength(1);
      expect(inFlightOf(p), `crash at call ${k}`).toEqual({ batches: 1, essays: 3 });
      expect(
        p.queues.continuation.map((m) => m.dedupId),
        `crash at call ${k}`,
      ).toEqual([`${batchId}:0`]);
    }
  });

  it('answers a create or start past an in-flight cap with 429 naming the limit; an ended batch frees its place', async () => {
    // Prepare: two batches per caller, 10 essays in flight in all
    const p = createPipeline();
    const deps = { ...p.deps, inFlightCaps: { maxBatchesPerPrincipal: 2, maxEssaysInFlight: 10 } };
    const first = idOf(await createBatch(deps, { essays: testEssays(3) }, { id: 'alice' }));
    await createBatch(deps, { essays: testEssays(3) }, { id: 'alice' });
    const paged = idOf(await createBatch(deps, { essay_count: 2 }, { id: 'bob' }));
    await addEssays(deps, paged, { id: 'bob' }, { offset: 0, essays: testEssays(2) });

    // Act
    const third = await httpFailureOf(
      createBatch(deps, { essays: testEssays(2) }, { id: 'alice' }),
    );
    const pagedThird = await httpFailureOf(createBatch(deps, { essay_count: 2 }, { id: 'alice' }));
    const tooManyEssays = await httpFailureOf(
      createBatch(deps, { essays: testEssays(5) }, { id: 'bob' }),
    );
    await startBatch(deps, paged, { id: 'bob' }, {});
    const afterStart = await httpFailureOf(
      createBatch(deps, { essays: testEssays(3) }, { id: 'carol' }),
    );
    await cancelBatch(deps, first, { id: 'alice' }, {});
    const accepted = await createBatch(deps, { essays: testEssays(3) }, { id: 'alice' });

    // Assess
    expect(third).toEqual({
      status: 429,
      body: {
        error: 'too_many_in_flight',
        field: 'batches_in_flight',
        message: expect.stringContaining('this caller has 2 batches in flight'),
        limit: 'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL',
        max: 2,
        in_flight: 2,
        requested: 1,
      },
    });
    expect(pagedThird).toMatchObject({ status: 429, body: { field: 'batches_in_flight' } });
    expect(tooManyEssays).toMatchObject({
      status: 429,
      body: { limit: 'MAX_ESSAYS_IN_FLIGHT', max: 10, in_flight: 6, requested: 5 },
    });
    expect(afterStart).toMatchObject({
      status: 429,
      body: { field: 'essays_in_flight', in_flight: 8, requested: 3 },
    });
    expect(accepted.status).toBe(201);
    expect(p.queues.continuation).toHaveLength(4);
  });

  it('answers a start past a cap with 429 and leaves the batch to be started later', async () => {
    // Prepare
    const p = createPipeline();
    const deps = { ...p.deps, inFlightCaps: { maxBatchesPerPrincipal: 1, maxEssaysInFlight: 100 } };
    const paged = idOf(await createBatch(deps, { essay_count: 2 }, { id: 'alice' }));
    await addEssays(deps, paged, { id: 'alice' }, { offset: 0, essays: testEssays(2) });
    const running = idOf(await createBatch(deps, { essays: testEssays(2) }, { id: 'alice' }));

    // Act
    const refused = await httpFailureOf(startBatch(deps, paged, { id: 'alice' }, {}));
    const stillPending = await getBatch(deps, paged, { id: 'alice' });
    await cancelBatch(deps, running, { id: 'alice' }, {});
    const started = await startBatch(deps, paged, { id: 'alice' }, {});

    // Assess
    expect(refused).toMatchObject({
      status: 429,
      body: { limit: 'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL', max: 1, in_flight: 1 },
    });
    expect(stillPending.body).toMatchObject({ status: 'PENDING_ESSAYS' });
    expect(started).toMatchObject({ status: 202, body: { status: 'RUNNING' } });
  });

  it('rejects an empty or oversized Idempotency-Key with 400 naming it', async () => {
    // Prepare
    const p = createPipeline();

    // Act
    const empty = await httpFailureOf(
      createBatch(p.deps, { essays: testEssays(2) }, TEST_CALLER, ''),
    );
    const long = await httpFailureOf(
      createBatch(p.deps, { essays: testEssays(2) }, TEST_CALLER, 'k'.repeat(129)),
    );

    // Assess
    for (const response of [empty, long]) {
      expect(response).toMatchObject({ status: 400, body: { field: 'idempotency-key' } });
    }
  });
});
