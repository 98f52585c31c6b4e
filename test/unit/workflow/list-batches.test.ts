/**
 * `GET /batches` (listBatches) on the real store over the in-memory table: only the caller's
 * batches, newest first, pages that follow their cursor without gaps or repeats, the status
 * filter, and 400s naming the parameter for a bad limit, status, cursor or an unknown parameter.
 */
import { describe, expect, it } from 'vitest';
import type { BatchList } from '#messages/state.ts';
import { type Caller, cancelBatch, createBatch } from '#shared/workflow/api.ts';
import { listBatches } from '#shared/workflow/batch-list.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import { httpFailureOf } from '#test/helpers/http-failure.ts';
import { createPipeline, type Pipeline, testEssays } from '#test/helpers/pipeline.ts';

const OTHER = { id: 'arn:aws:iam::123456789012:user/someone-else' };

/** Creates `count` batches a second apart as `caller`; their ids, oldest first. */
async function createBatches(p: Pipeline, count: number, caller = TEST_CALLER): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index++) {
    const created = await createBatch(p.deps, { essays: testEssays(2) }, caller);
    ids.push((created.body as { batch_id: string }).batch_id);
    p.advance(1000);
  }
  return ids;
}

async function list(p: Pipeline, query: Record<string, string> = {}, caller: Caller = TEST_CALLER) {
  return (await listBatches(p.deps, caller, query)).body as BatchList;
}

describe('listBatches', () => {
  it("lists only the caller's batches, newest first, as summaries with their counters", async () => {
    // Prepare
    const p = createPipeline();
    const mine = await createBatches(p, 3);
    await createBatches(p, 2, OTHER);

    // Act
    const page = await list(p);

    // Assess
    expect(page.batches.map((batch) => batch.batch_id)).toEqual([...mine].reverse());
    expect(page.next_cursor).toBeUndefined();
    expect(page.batches[0]).toMatchObject({ status: 'RUNNING', essay_count: 2 });
    expect(page.batches[0]).not.toHaveProperty('processing_metadata');
  });

  it('pages with a small limit: every batch once, in order, and no cursor after the last', async () => {
    // Prepare
    const p = createPipeline();
    const ids = await createBatches(p, 5);
    const seen: string[] = [];
    const cursors: (string | undefined)[] = [];

    // Act
    let cursor: string | undefined;
    do {
      const page = await list(p, { limit: '2', ...(cursor ? { cursor } : {}) });
      seen.push(...page.batches.map((batch) => batch.batch_id));
      cursor = page.next_cursor;
      cursors.push(cursor);
    } while (cursor !== undefined);

    // Assess
    expect(seen).toEqual([...ids].reverse());
    expect(cursors).toHaveLength(3);
    expect(cursors.at(-1)).toBeUndefined();
  });

  it('filters by status, reading on past batches of other statuses', async () => {
    // Prepare
    const p = createPipeline();
    const ids = await createBatches(p, 6);
    for (const id of [ids[0], ids[2]]) await cancelBatch(p.deps, String(id), TEST_CALLER, {});

    // Act
    const cancelled = await list(p, { status: 'CANCELLED', limit: '1' });
    const rest = await list(p, {
      status: 'CANCELLED',
      limit: '1',
      cursor: String(cancelled.next_cursor),
    });
    const running = await list(p, { status: 'RUNNING' });

    // Assess
    expect(cancelled.batches.map((batch) => batch.batch_id)).toEqual([ids[2]]);
    expect(rest.batches.map((batch) => batch.batch_id)).toEqual([ids[0]]);
    expect(rest.next_cursor).toBeUndefined();
    expect(running.batches.map((batch) => batch.batch_id)).toEqual(
      [ids[5], ids[4], ids[3], ids[1]].map(String),
    );
  });

  it("gives an admin every batch, newest first, whoever's it is", async () => {
    // Prepare
    const p = createPipeline();
    const mine = await createBatches(p, 2);
    const theirs = await createBatches(p, 2, OTHER);

    // Act
    const page = await list(p, {}, { id: 'arn:aws:iam::123456789012:role/ops', admin: true });
    const firstTwo = await list(
      p,
      { limit: '2' },
      { id: 'arn:aws:iam::123456789012:role/ops', admin: true },
    );

    // Assess
    expect(page.batches.map((batch) => batch.batch_id)).toEqual([...mine, ...theirs].reverse());
    expect(firstTwo.batches.map((batch) => batch.batch_id)).toEqual([...theirs].reverse());
    expect(firstTwo.next_cursor).toBeDefined();
  });

  it('answers an empty page to a caller with no batches', async () => {
    // Prepare
    const p = createPipeline();
    await createBatches(p, 2);

    // Act
    const page = await list(p, {}, OTHER);

    // Assess
    expect(page).toEqual({ v: 1, batches: [] });
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ status: 'DONE' }, 'status'],
    [{ cursor: 'not-a-cursor' }, 'cursor'],
    [{ cursor: Buffer.from('r1:5').toString('base64url') }, 'cursor'],
    [{ owner: 'arn:aws:iam::123456789012:user/someone-else' }, 'owner'],
  ])('refuses %o with a 400 naming %s', async (query, field) => {
    // Prepare
    const p = createPipeline();

    // Act
    const response = await httpFailureOf(listBatches(p.deps, TEST_CALLER, query));

    // Assess
    expect(response).toMatchObject({ status: 400, body: { field } });
  });
});
