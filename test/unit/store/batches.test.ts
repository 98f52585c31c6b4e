import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  BATCH_ID,
  conditionFailed,
  metaItem,
  NOW,
  type StoreHarness,
  settingsItem,
  storeHarness,
  TABLE,
  transactionCanceled,
} from '#test/helpers/store-fakes.ts';

const essays = (count: number, from = 0) =>
  Array.from({ length: count }, (_, index) => ({
    id: `e${from + index}`,
    text: `essay body ${from + index}`,
  }));

const createInput = (withEssays: boolean) => ({
  batchId: BATCH_ID,
  ...(withEssays ? { essays: essays(3) } : {}),
  essayCount: 3,
  totalBudget: 10,
  config: { MIN_RESAMPLING_NET_SIZE: 5 },
  judge: { provider: 'mock' as const, profile: 'eng5_lower5_gpt51_low' },
  now: NOW,
  owner: 'arn:aws:iam::123456789012:user/cj-test',
});

/** The conditional puts of META and SETTINGS, in the one transaction that creates a batch. */
function createPuts(h: StoreHarness) {
  const entries = h.ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
  const puts = entries.map((entry) => entry.Put);
  return {
    meta: puts.find((put) => put?.Item?.sk === 'META'),
    settings: puts.find((put) => put?.Item?.sk === 'SETTINGS'),
  };
}

function writtenItems(h: StoreHarness) {
  return h.ddb
    .commandCalls(BatchWriteCommand)
    .flatMap((call) => call.args[0].input.RequestItems?.[TABLE] ?? [])
    .map((request) => request.PutRequest?.Item ?? {});
}

describe('createBatch', () => {
  let h: StoreHarness;
  beforeEach(() => {
    h = storeHarness();
  });

  it('stores inline essays and an id chunk first, then META RUNNING and indexed as active', async () => {
    // Prepare
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb.on(TransactWriteCommand).resolves({});

    // Act
    const result = await h.store.createBatch(createInput(true));

    // Assess
    expect(result.outcome).toBe('created');
    expect(writtenItems(h).map((item) => item.sk)).toEqual([
      'ESSAY#000000',
      'ESSAY#000001',
      'ESSAY#000002',
      'IDS#000000',
    ]);
    expect(writtenItems(h)[3]?.ids).toEqual(['e0', 'e1', 'e2']);
    const put = createPuts(h).meta!;
    expect(put.ConditionExpression).toBe('attribute_not_exists(#pk)');
    expect(put.ExpressionAttributeNames).toEqual({ '#pk': 'pk' });
    expect(put.Item).toMatchObject({
      sk: 'META',
      status: 'RUNNING',
      essays_stored: 3,
      submitted_comparisons: 0,
      total_budget: 10,
      gsi2pk: 'ACTIVE',
      gsi2sk: BATCH_ID,
    });
    expect(put.Item?.expires_at).toBe(Math.floor(NOW.getTime() / 1000) + 30 * 86_400);
  });

  it('creates a paged batch as PENDING_ESSAYS, not indexed as active', async () => {
    // Prepare
    h.ddb.on(TransactWriteCommand).resolves({});

    // Act
    const result = await h.store.createBatch(createInput(false));

    // Assess
    expect(result.outcome).toBe('created');
    expect(h.ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
    const item = createPuts(h).meta!.Item;
    expect(item).toMatchObject({ status: 'PENDING_ESSAYS', essays_stored: 0 });
    expect(item).not.toHaveProperty('gsi2pk');
  });

  it('answers exists when the batch id is taken', async () => {
    // Prepare
    h.ddb
      .on(TransactWriteCommand)
      .rejects(
        transactionCanceled({ Code: 'ConditionalCheckFailed' }, { Code: 'ConditionalCheckFailed' }),
      );

    // Act
    const result = await h.store.createBatch(createInput(false));

    // Assess
    expect(result).toEqual({ outcome: 'exists' });
  });

  it('keeps the request settings beside META, never on it: META holds counters and state only', async () => {
    // Prepare
    h.ddb.on(TransactWriteCommand).resolves({});

    // Act
    await h.store.createBatch(createInput(false));

    // Assess
    const { meta, settings } = createPuts(h);
    expect(settings?.ConditionExpression).toBe('attribute_not_exists(#pk)');
    expect(settings?.Item).toMatchObject({
      config: { MIN_RESAMPLING_NET_SIZE: 5 },
      judge: { provider: 'mock', profile: 'eng5_lower5_gpt51_low' },
    });
    expect(meta?.Item).not.toHaveProperty('config');
    expect(meta?.Item).not.toHaveProperty('judge');
    // 3 essays, a small net under MIN_RESAMPLING_NET_SIZE 5 with 4 passes: min(budget 10, 3 × 5).
    expect(meta?.Item?.completion_denominator).toBe(10);
  });
});

describe('putEssayPage', () => {
  let h: StoreHarness;
  beforeEach(() => {
    h = storeHarness();
  });

  it('writes the page, then advances essays_stored from the page offset under a condition', async () => {
    // Prepare
    h.ddb
      .on(GetCommand)
      .resolves({ Item: metaItem({ status: 'PENDING_ESSAYS', essay_count: 4, essays_stored: 2 }) });
    h.ddb.on(QueryCommand).resolves({ Items: [{ offset: 0, ids: ['e0', 'e1'] }] });
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb.on(UpdateCommand).resolves({});

    // Act
    const result = await h.store.putEssayPage(BATCH_ID, 2, essays(2, 2), NOW);

    // Assess
    expect(result).toEqual({ outcome: 'stored', essays_stored: 4 });
    expect(writtenItems(h).map((item) => item.sk)).toEqual([
      'ESSAY#000002',
      'ESSAY#000003',
      'IDS#000002',
    ]);
    const update = h.ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update.ConditionExpression).toBe(
      '#status = :pending_essays AND essays_stored = :offset',
    );
    expect(update.ExpressionAttributeValues).toMatchObject({ ':offset': 2, ':end': 4 });
  });

  it('treats a resent stored page as a no-op', async () => {
    // Prepare
    h.ddb
      .on(GetCommand)
      .resolves({ Item: metaItem({ status: 'PENDING_ESSAYS', essay_count: 4, essays_stored: 2 }) });

    // Act
    const result = await h.store.putEssayPage(BATCH_ID, 0, essays(2), NOW);

    // Assess
    expect(result).toEqual({ outcome: 'already_stored', essays_stored: 2 });
    expect(h.ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });

  it('rejects a page that skips ahead, or one that goes past essay_count', async () => {
    // Prepare
    h.ddb
      .on(GetCommand)
      .resolves({ Item: metaItem({ status: 'PENDING_ESSAYS', essay_count: 4, essays_stored: 2 }) });

    // Act
    const skipped = await h.store.putEssayPage(BATCH_ID, 3, essays(1, 3), NOW);
    const overflow = await h.store.putEssayPage(BATCH_ID, 2, essays(3, 2), NOW);

    // Assess
    expect(skipped).toEqual({ outcome: 'out_of_order', essays_stored: 2 });
    expect(overflow).toEqual({ outcome: 'too_many', essays_stored: 2 });
    expect(h.ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });

  it('rejects an id already stored by an earlier page, naming it', async () => {
    // Prepare
    h.ddb
      .on(GetCommand)
      .resolves({ Item: metaItem({ status: 'PENDING_ESSAYS', essay_count: 4, essays_stored: 2 }) });
    h.ddb.on(QueryCommand).resolves({ Items: [{ offset: 0, ids: ['e0', 'e1'] }] });

    // Act
    const result = await h.store.putEssayPage(
      BATCH_ID,
      2,
      [
        { id: 'e9', text: 'x' },
        { id: 'e1', text: 'y' },
      ],
      NOW,
    );

    // Assess
    expect(result).toEqual({ outcome: 'duplicate_id', id: 'e1', position: 1 });
    expect(h.ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });

  it('refuses pages for a batch that already started', async () => {
    // Prepare
    h.ddb
      .on(GetCommand)
      .resolves({ Item: metaItem({ status: 'RUNNING', essay_count: 4, essays_stored: 4 }) });

    // Act
    const result = await h.store.putEssayPage(BATCH_ID, 4, essays(1, 4), NOW);

    // Assess
    expect(result).toEqual({ outcome: 'not_accepting', status: 'RUNNING' });
  });

  it('reports already_stored when a concurrent retry of the same page advanced META first', async () => {
    // Prepare
    h.ddb
      .on(GetCommand)
      .resolvesOnce({
        Item: metaItem({ status: 'PENDING_ESSAYS', essay_count: 4, essays_stored: 2 }),
      })
      .resolves({ Item: metaItem({ status: 'PENDING_ESSAYS', essay_count: 4, essays_stored: 4 }) });
    h.ddb.on(QueryCommand).resolves({ Items: [] });
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const result = await h.store.putEssayPage(BATCH_ID, 2, essays(2, 2), NOW);

    // Assess
    expect(result).toEqual({ outcome: 'already_stored', essays_stored: 4 });
  });

  it.each([
    ['the batch vanished', null, { outcome: 'not_found' }],
    [
      'the batch started meanwhile',
      { status: 'RUNNING' as const, essays_stored: 2 },
      { outcome: 'not_accepting', status: 'RUNNING' },
    ],
    [
      'another page was counted first',
      { status: 'PENDING_ESSAYS' as const, essays_stored: 3 },
      { outcome: 'out_of_order', essays_stored: 3 },
    ],
  ])(
    'classifies a lost race on the META update from a fresh read: %s',
    async (_, latest, expected) => {
      // Prepare: META at 2 essays when the page is checked; the update's condition then fails.
      h.ddb
        .on(GetCommand)
        .resolvesOnce({
          Item: metaItem({ status: 'PENDING_ESSAYS', essay_count: 6, essays_stored: 2 }),
        })
        .resolves(latest === null ? {} : { Item: metaItem({ essay_count: 6, ...latest }) });
      h.ddb.on(QueryCommand).resolves({ Items: [] });
      h.ddb.on(BatchWriteCommand).resolves({});
      h.ddb.on(UpdateCommand).rejects(conditionFailed());

      // Act
      const result = await h.store.putEssayPage(BATCH_ID, 2, essays(2, 2), NOW);

      // Assess
      expect(result).toEqual(expected);
    },
  );
});

describe('startBatch', () => {
  let h: StoreHarness;
  beforeEach(() => {
    h = storeHarness();
  });

  it('starts only when every essay is stored (condition), indexing the batch as active', async () => {
    // Prepare
    h.ddb.on(UpdateCommand).resolves({ Attributes: metaItem({ status: 'RUNNING' }) });

    // Act
    const result = await h.store.startBatch(BATCH_ID, NOW);

    // Assess
    expect(result.outcome).toBe('started');
    const update = h.ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update.ConditionExpression).toBe(
      '#status = :pending_essays AND essays_stored = essay_count',
    );
    expect(update.ExpressionAttributeValues).toMatchObject({
      ':running': 'RUNNING',
      ':active_pk': 'ACTIVE',
    });
  });

  it('explains a refused start: essays missing, already started, not startable, not found', async () => {
    // Prepare
    h.ddb.on(UpdateCommand).rejects(conditionFailed());
    h.ddb
      .on(GetCommand)
      .resolvesOnce({ Item: metaItem({ status: 'PENDING_ESSAYS', essays_stored: 1 }) })
      .resolvesOnce({ Item: metaItem({ status: 'RUNNING' }) })
      .resolvesOnce({ Item: metaItem({ status: 'CANCELLED' }) })
      .resolves({});

    // Act
    const outcomes = [
      (await h.store.startBatch(BATCH_ID, NOW)).outcome,
      (await h.store.startBatch(BATCH_ID, NOW)).outcome,
      (await h.store.startBatch(BATCH_ID, NOW)).outcome,
      (await h.store.startBatch(BATCH_ID, NOW)).outcome,
    ];

    // Assess
    expect(outcomes).toEqual(['essays_missing', 'already_started', 'not_startable', 'not_found']);
  });
});

describe('cancelBatch', () => {
  let h: StoreHarness;
  beforeEach(() => {
    h = storeHarness();
  });

  it('cancels an uncounted batch with one update, conditioned on its still not being counted', async () => {
    // Prepare
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ status: 'PENDING_ESSAYS' }) });
    h.ddb.on(UpdateCommand).resolves({ Attributes: metaItem({ status: 'CANCELLED' }) });

    // Act
    const result = await h.store.cancelBatch(BATCH_ID, NOW);

    // Assess
    expect(result.outcome).toBe('cancelled');
    const update = h.ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update.ConditionExpression).toBe(
      '#status IN (:pending_essays, :running) AND attribute_not_exists(in_flight_principal)',
    );
    expect(update.UpdateExpression).toContain('REMOVE #active_pk, #active_sk');
    expect(h.ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('cancels a counted batch and releases its counts in one transaction, at the version read', async () => {
    // Prepare
    const counted = { in_flight_principal: 'arn:aws:iam::1:user/a', in_flight_essays: 5 };
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ ...counted, version: 7 }) });
    h.ddb.on(TransactWriteCommand).resolves({});

    // Act
    const result = await h.store.cancelBatch(BATCH_ID, NOW);

    // Assess
    expect(result).toMatchObject({
      outcome: 'cancelled',
      batch: { status: 'CANCELLED', version: 8, event_published: false },
    });
    const items = h.ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items).toHaveLength(3);
    expect(items[0]?.Update?.ConditionExpression).toBe(
      '#status IN (:pending_essays, :running) AND in_flight_principal = :in_flight_principal AND version = :read_version',
    );
    expect(items[0]?.Update?.ExpressionAttributeValues).toMatchObject({
      ':in_flight_principal': counted.in_flight_principal,
      ':read_version': 7,
    });
    expect(items[1]?.Update).toMatchObject({
      Key: { pk: 'INFLIGHT#PRINCIPAL#arn:aws:iam::1:user/a', sk: 'COUNTER' },
      UpdateExpression: 'ADD batches :minus_one',
      ExpressionAttributeValues: { ':minus_one': -1 },
    });
    expect(items[2]?.Update).toMatchObject({
      Key: { pk: 'INFLIGHT#DEPLOYMENT', sk: 'COUNTER' },
      ExpressionAttributeValues: { ':minus_essays': -5, ':minus_one': -1 },
    });
    // A release is never conditioned: it must not be able to block the batch from ending.
    expect(items[1]?.Update?.ConditionExpression).toBeUndefined();
    expect(items[2]?.Update?.ConditionExpression).toBeUndefined();
  });

  it('answers already_final for a finished batch and not_found for an unknown one', async () => {
    // Prepare
    h.ddb.on(UpdateCommand).rejects(conditionFailed());
    h.ddb
      .on(GetCommand)
      .resolvesOnce({ Item: metaItem({ status: 'FAILED' }) })
      .resolves({});

    // Act
    const finished = await h.store.cancelBatch(BATCH_ID, NOW);
    const unknown = await h.store.cancelBatch('nope', NOW);

    // Assess
    expect(finished.outcome).toBe('already_final');
    expect(unknown.outcome).toBe('not_found');
  });
});

describe('getBatch and getEssays', () => {
  it('reads META strongly consistently and strips keys and index attributes', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb
      .on(GetCommand)
      .resolves({ Item: { ...metaItem(), gsi2pk: 'ACTIVE', gsi2sk: BATCH_ID, expires_at: 1 } });

    // Act
    const batch = await h.store.getBatch(BATCH_ID);

    // Assess
    expect(batch).not.toHaveProperty('pk');
    expect(batch).not.toHaveProperty('gsi2pk');
    expect(batch).not.toHaveProperty('expires_at');
    expect(batch?.status).toBe('RUNNING');
    expect(h.ddb.commandCalls(GetCommand)[0]!.args[0].input.ConsistentRead).toBe(true);
  });

  it('batch-gets essays by index in calls of at most 100 keys, retrying unprocessed keys', async () => {
    // Prepare
    const h = storeHarness();
    const essayItem = (index: number) => ({
      pk: `BATCH#${BATCH_ID}`,
      sk: `ESSAY#${index}`,
      index,
      id: `e${index}`,
      text: 't',
    });
    h.ddb
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { [TABLE]: [essayItem(0)] },
        UnprocessedKeys: { [TABLE]: { Keys: [{ pk: `BATCH#${BATCH_ID}`, sk: 'ESSAY#000001' }] } },
      })
      .resolvesOnce({ Responses: { [TABLE]: [essayItem(1)] } })
      .resolves({ Responses: { [TABLE]: [] } });

    // Act
    const result = await h.store.getEssays(BATCH_ID, [
      0,
      1,
      1,
      ...Array.from({ length: 100 }, (_, i) => i + 2),
    ]);

    // Assess
    expect(result.get(0)?.id).toBe('e0');
    expect(result.get(1)?.id).toBe('e1');
    const keyCounts = h.ddb
      .commandCalls(BatchGetCommand)
      .map((call) => call.args[0].input.RequestItems?.[TABLE]?.Keys?.length);
    expect(keyCounts).toEqual([100, 1, 2]);
    expect(h.sleeps).toEqual([50]);
  });

  it('maps essay ids by index from the id chunks', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(QueryCommand).resolves({
      Items: [
        { offset: 0, ids: ['a', 'b'] },
        { offset: 2, ids: ['c'] },
      ],
    });

    // Act
    const ids = await h.store.getEssayIds(BATCH_ID);

    // Assess
    expect(ids).toEqual(['a', 'b', 'c']);
  });

  it('maps anchor grades by index from the id chunks (null for essays that are not anchors)', async () => {
    // Prepare: the first page has anchors, the second none.
    const h = storeHarness();
    h.ddb.on(QueryCommand).resolves({
      Items: [
        { offset: 0, ids: ['a', 'b'], anchor_grades: ['A', null] },
        { offset: 2, ids: ['c'] },
      ],
    });

    // Act
    const directory = await h.store.getEssayDirectory(BATCH_ID);

    // Assess
    expect(directory).toEqual({ ids: ['a', 'b', 'c'], anchorGrades: ['A', null, null] });
  });
});

describe('anchor grades and the grade scale', () => {
  it('keeps anchor grades in the id chunk only, never on the essay items the judge reads', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(BatchWriteCommand).resolves({});
    h.ddb.on(TransactWriteCommand).resolves({});
    const anchored = essays(3).map((essay, index) =>
      index === 1 ? essay : { ...essay, anchor_grade: index === 0 ? 'A' : 'C' },
    );

    // Act
    await h.store.createBatch({ ...createInput(false), essays: anchored, gradeScale: ['C', 'A'] });

    // Assess
    const items = writtenItems(h);
    for (const item of items.filter((i) => String(i.sk).startsWith('ESSAY#'))) {
      expect(item).not.toHaveProperty('anchor_grade');
      expect(JSON.stringify(item)).not.toMatch(/"(A|C)"/);
    }
    expect(items.find((i) => i.sk === 'IDS#000000')?.anchor_grades).toEqual(['A', null, 'C']);
    // The scale is a setting: in SETTINGS, not on the META item every callback rewrites.
    const { meta, settings } = createPuts(h);
    expect(settings?.Item).toMatchObject({ grade_scale: ['C', 'A'] });
    expect(meta?.Item).not.toHaveProperty('grade_scale');
  });
});

describe('getBatchView and getSettings', () => {
  it('reads META and the report in one query, and the settings once per function', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(QueryCommand).resolves({
      Items: [
        metaItem({ status: 'COMPLETE_STABLE' }),
        { pk: `BATCH#${BATCH_ID}`, sk: 'META#REPORT', processing_metadata: { waves: 4 } },
      ],
    });
    h.ddb.on(GetCommand).resolves({ Item: settingsItem({ config: { MAX_ITERATIONS: 9 } }) });

    // Act
    const view = await h.store.getBatchView(BATCH_ID);
    const first = await h.store.getSettings(BATCH_ID);
    const second = await h.store.getSettings(BATCH_ID);

    // Assess
    expect(view?.batch).toMatchObject({ status: 'COMPLETE_STABLE' });
    expect(view?.processingMetadata).toEqual({ waves: 4 });
    expect(h.ddb.commandCalls(QueryCommand)).toHaveLength(1);
    expect(first?.config).toEqual({ MAX_ITERATIONS: 9 });
    expect(second).toBe(first);
    expect(h.ddb.commandCalls(GetCommand)).toHaveLength(1);
  });

  it('answers null for a batch without META', async () => {
    // Prepare: no META and no settings (the settings are read beside the query)
    const h = storeHarness();
    h.ddb.on(QueryCommand).resolves({ Items: [] });
    h.ddb.on(GetCommand).resolves({});

    // Act
    const view = await h.store.getBatchView(BATCH_ID);

    // Assess
    expect(view).toBeNull();
  });

  it('shows META, the report and the grade scale of the settings (read once, then cached)', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(QueryCommand).resolves({
      Items: [
        metaItem({ status: 'COMPLETE_STABLE' }),
        { sk: 'META#REPORT', processing_metadata: { a: 1 } },
      ],
    });
    h.ddb.on(GetCommand).resolves({ Item: settingsItem({ grade_scale: ['C', 'B', 'A'] }) });

    // Act
    const view = await h.store.getBatchView(BATCH_ID);
    const again = await h.store.getBatchView(BATCH_ID);

    // Assess
    expect(view?.batch.status).toBe('COMPLETE_STABLE');
    expect(view?.processingMetadata).toEqual({ a: 1 });
    expect(view?.gradeScale).toEqual(['C', 'B', 'A']);
    expect(again?.gradeScale).toEqual(['C', 'B', 'A']);
    expect(h.ddb.commandCalls(GetCommand)).toHaveLength(1);
    expect(h.ddb.commandCalls(GetCommand)[0]!.args[0].input.Key).toMatchObject({ sk: 'SETTINGS' });
  });

  it('shows no grade scale for a batch without one, and no view for an unknown batch', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [metaItem()] })
      .resolves({ Items: [] });
    h.ddb.on(GetCommand).resolves({ Item: settingsItem() });

    // Act
    const view = await h.store.getBatchView(BATCH_ID);
    const unknown = await h.store.getBatchView('batch-unknown');

    // Assess
    expect(view?.gradeScale).toBeNull();
    expect(view?.processingMetadata).toEqual({});
    expect(unknown).toBeNull();
  });
});
