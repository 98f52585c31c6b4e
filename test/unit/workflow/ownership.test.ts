/**
 * Ownership (docs/security.md): a batch belongs to the principal that created it; only that
 * principal or an admin may read it, its results and waves, add essays, start or cancel it —
 * anyone else gets the same 404 as for a batch that does not exist. Ids are random, and an
 * Idempotency-Key maps to its batch per caller.
 */
import { describe, expect, it } from 'vitest';
import {
  addEssays,
  type Caller,
  cancelBatch,
  createBatch,
  getBatch,
  getResults,
  startBatch,
} from '#shared/workflow/api.ts';
import { getWaves } from '#shared/workflow/waves.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import { httpFailureOf } from '#test/helpers/http-failure.ts';
import { createPipeline, type Pipeline, testEssays } from '#test/helpers/pipeline.ts';

const OWNER: Caller = TEST_CALLER;
const STRANGER: Caller = { id: 'arn:aws:iam::123456789012:user/stranger' };
const ADMIN: Caller = { id: 'arn:aws:sts::123456789012:assumed-role/ops', admin: true };

const idOf = (result: { body: unknown }) => (result.body as { batch_id: string }).batch_id;

/** Every operation on one batch, as `caller`. */
function operations(p: Pipeline, batchId: string, caller: Caller) {
  return {
    get: () => getBatch(p.deps, batchId, caller),
    results: () => getResults(p.deps, batchId, caller),
    waves: () => getWaves(p.deps, batchId, caller),
    essays: () => addEssays(p.deps, batchId, caller, { offset: 0, essays: testEssays(2) }),
    start: () => startBatch(p.deps, batchId, caller, {}),
    cancel: () => cancelBatch(p.deps, batchId, caller, {}),
  };
}

describe('who may see a batch', () => {
  it("answers a stranger 404 on every operation, exactly as for a batch that doesn't exist", async () => {
    // Prepare
    const p = createPipeline();
    const batchId = idOf(await createBatch(p.deps, { essay_count: 2 }, OWNER));
    const theirs = operations(p, batchId, STRANGER);
    const missing = operations(p, 'no-such-batch', STRANGER);

    // Act
    const refused = await Promise.all(Object.values(theirs).map((call) => httpFailureOf(call())));
    const absent = await Promise.all(Object.values(missing).map((call) => httpFailureOf(call())));
    const state = await getBatch(p.deps, batchId, OWNER);

    // Assess
    for (const response of refused) {
      expect(response).toEqual({
        status: 404,
        body: { error: 'not_found', field: 'id', message: `batch ${batchId} not found` },
      });
    }
    expect(absent.map((response) => response.status)).toEqual(refused.map(() => 404));
    // Nothing the stranger asked for happened.
    expect(state.body).toMatchObject({ status: 'PENDING_ESSAYS', essays_stored: 0 });
    expect(p.events).toEqual([]);
  });

  it('lets the owner and an admin do everything', async () => {
    // Prepare
    const p = createPipeline();
    const batchId = idOf(await createBatch(p.deps, { essay_count: 2 }, OWNER));
    const ownerOps = operations(p, batchId, OWNER);
    const adminOps = operations(p, batchId, ADMIN);

    // Act
    const added = await ownerOps.essays();
    const started = await adminOps.start();
    const readByOwner = await ownerOps.get();
    const readByAdmin = await adminOps.get();
    const waves = await adminOps.waves();
    const cancelled = await adminOps.cancel();

    // Assess
    expect([added.status, started.status, readByOwner.status, readByAdmin.status]).toEqual([
      200, 202, 200, 200,
    ]);
    expect(waves.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED' });
  });
});

describe('batch ids and Idempotency-Keys', () => {
  it('gives random ids, one batch per caller and key, and the same batch to a retry', async () => {
    // Prepare
    const p = createPipeline();
    const body = { essays: testEssays(2) };

    // Act
    const first = await createBatch(p.deps, body, OWNER, 'client-key-1');
    const retried = await createBatch(p.deps, body, OWNER, 'client-key-1');
    const sameKeyOtherCaller = await createBatch(p.deps, body, STRANGER, 'client-key-1');
    const otherKey = await createBatch(p.deps, body, OWNER, 'client-key-2');

    // Assess
    expect([first.status, retried.status, sameKeyOtherCaller.status, otherKey.status]).toEqual([
      201, 200, 201, 201,
    ]);
    expect(idOf(retried)).toBe(idOf(first));
    expect(idOf(sameKeyOtherCaller)).not.toBe(idOf(first));
    expect(idOf(otherKey)).not.toBe(idOf(first));
    // The id comes from the id source, never from the key.
    expect([idOf(first), idOf(sameKeyOtherCaller), idOf(otherKey)]).toEqual([
      'batch-0001',
      'batch-0002',
      'batch-0003',
    ]);
    expect((await getBatch(p.deps, idOf(sameKeyOtherCaller), STRANGER)).status).toBe(200);
    expect((await httpFailureOf(getBatch(p.deps, idOf(first), STRANGER))).status).toBe(404);
  });

  it('answers the winner of two concurrent creates with one key to both', async () => {
    // Prepare
    const p = createPipeline();
    const body = { essays: testEssays(2) };

    // Act
    const [a, b] = await Promise.all([
      createBatch(p.deps, body, OWNER, 'race'),
      createBatch(p.deps, body, OWNER, 'race'),
    ]);

    // Assess
    expect(idOf(a)).toBe(idOf(b));
    expect([a.status, b.status].sort()).toEqual([200, 201]);
  });
});
