import { BatchGetCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { batchPk, claimSk, comparisonSk, essaySk, META_SK, SETTINGS_SK } from '#store/keys.ts';
import { PK, SK } from '#store/table-schema.ts';
import {
  BATCH_ID,
  conditionFailed,
  metaItem,
  NOW,
  type StoreHarness,
  settingsItem,
  storeHarness,
  TABLE,
  throttled,
} from '#test/helpers/store-fakes.ts';

const COMPARISON_ID = '000001-000000';

const essayItem = (index: number) => ({
  [PK]: batchPk(BATCH_ID),
  [SK]: essaySk(index),
  index,
  id: `e${index}`,
  text: `essay body ${index}`,
});

const comparisonItem = (status: string) => ({
  [PK]: batchPk(BATCH_ID),
  [SK]: comparisonSk(COMPARISON_ID),
  status,
});

/** The sort keys each BatchGetItem asked for, one list per request. */
function requestedSortKeys(h: StoreHarness): string[][] {
  return h.ddb
    .commandCalls(BatchGetCommand)
    .map((call) => (call.args[0].input.RequestItems?.[TABLE]?.Keys ?? []).map((key) => key[SK]));
}

describe('loadJudgeContext', () => {
  it('serves the reads of records judged together with one request: each gets its own comparison, META asked once', async () => {
    // Prepare: three records of one invocation, started in the same turn
    const h = storeHarness();
    const otherComparison = '000001-000001';
    h.ddb.on(BatchGetCommand).resolves({
      Responses: {
        [TABLE]: [
          metaItem(),
          comparisonItem('PENDING'),
          { ...comparisonItem('COMPLETED'), [SK]: comparisonSk(otherComparison) },
          essayItem(0),
          essayItem(1),
          essayItem(2),
          settingsItem(),
        ],
      },
    });

    // Act
    const [first, second, third] = await Promise.all([
      h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [0, 1]),
      h.store.loadJudgeContext(BATCH_ID, otherComparison, [1, 2]),
      h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [0, 1]),
    ]);

    // Assess
    expect(h.ddb.commandCalls(BatchGetCommand)).toHaveLength(1);
    const keys = requestedSortKeys(h)[0] ?? [];
    expect(keys.filter((key) => key === META_SK)).toHaveLength(1);
    expect(new Set(keys).size).toBe(keys.length);
    expect(first?.comparisonStatus).toBe('PENDING');
    expect(second?.comparisonStatus).toBe('COMPLETED');
    expect([...(second?.essays.keys() ?? [])].sort()).toEqual([1, 2]);
    expect(third?.comparisonStatus).toBe('PENDING');
    expect([...(first?.essays.keys() ?? [])].sort()).toEqual([0, 1]);
  });

  it('fails every read of the turn when the shared request fails, and reads afresh in the next turn', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb
      .on(BatchGetCommand)
      .rejectsOnce(Object.assign(new Error('boom'), { name: 'ValidationException' }))
      .resolves({
        Responses: { [TABLE]: [metaItem(), comparisonItem('PENDING'), settingsItem()] },
      });

    // Act
    const together = await Promise.allSettled([
      h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [0, 1]),
      h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [0, 1]),
    ]);
    const later = await h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [0, 1]);

    // Assess
    expect(together.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(later.comparisonStatus).toBe('PENDING');
    expect(h.ddb.commandCalls(BatchGetCommand)).toHaveLength(2);
  });

  it('reads META, the comparison, each essay once and the settings in one consistent request', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(BatchGetCommand).resolves({
      Responses: {
        [TABLE]: [
          metaItem(),
          comparisonItem('PENDING'),
          essayItem(0),
          essayItem(1),
          settingsItem(),
        ],
      },
    });

    // Act
    const context = await h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [1, 0, 1]);

    // Assess
    const calls = h.ddb.commandCalls(BatchGetCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.RequestItems?.[TABLE]?.ConsistentRead).toBe(true);
    expect(requestedSortKeys(h)[0]).toEqual([
      META_SK,
      comparisonSk(COMPARISON_ID),
      essaySk(1),
      essaySk(0),
      SETTINGS_SK,
    ]);
    expect(context.batch?.status).toBe('RUNNING');
    expect(context.comparisonStatus).toBe('PENDING');
    expect([...context.essays.keys()].sort()).toEqual([0, 1]);
    expect(context.essays.get(1)?.text).toBe('essay body 1');
    expect(context.settings?.judge.provider).toBe('mock');
  });

  it('asks for the settings only once per batch: later reads use the ones it kept', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { [TABLE]: [metaItem(), settingsItem()] } })
      .resolves({ Responses: { [TABLE]: [metaItem()] } });

    // Act
    await h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [0, 1]);
    const second = await h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [0, 1]);

    // Assess
    const [first, later] = requestedSortKeys(h);
    expect(first).toContain(SETTINGS_SK);
    expect(later).not.toContain(SETTINGS_SK);
    expect(second.settings?.judge.provider).toBe('mock');
  });

  it('answers null and absent for what the table does not hold, and keeps no settings then', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { [TABLE]: [essayItem(0)] } })
      .resolves({ Responses: { [TABLE]: [] } });

    // Act
    const context = await h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [0, 1]);
    await h.store.loadJudgeContext(BATCH_ID, COMPARISON_ID, [0, 1]);

    // Assess
    expect(context.batch).toBeNull();
    expect(context.comparisonStatus).toBeNull();
    expect([...context.essays.keys()]).toEqual([0]);
    expect(context.settings).toBeNull();
    // A missing SETTINGS item is not remembered: the next read asks again.
    expect(requestedSortKeys(h)[1]).toContain(SETTINGS_SK);
  });
});

describe('claimComparison / releaseClaim', () => {
  const until = new Date(NOW.getTime() + 120_000);

  it('claims a lease with one conditional PutItem unless a lease that has not ended holds it', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(PutCommand).resolves({});

    // Act
    const claim = await h.store.claimComparison(BATCH_ID, COMPARISON_ID, { until, now: NOW });

    // Assess: one write, no read, and the holder's lease asked back should the condition fail
    expect(claim).toEqual({ outcome: 'claimed', token: expect.any(String) });
    expect(h.ddb.commandCalls(PutCommand)).toHaveLength(1);
    const input = h.ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      TableName: TABLE,
      Item: {
        [PK]: batchPk(BATCH_ID),
        [SK]: claimSk(COMPARISON_ID),
        claim_state: 'judging',
        claimed_until: until.getTime(),
        claim_token: claim.outcome === 'claimed' ? claim.token : '',
      },
      ConditionExpression: 'attribute_not_exists(#pk) OR #until < :now',
      ExpressionAttributeNames: { '#pk': PK, '#until': 'claimed_until' },
      ExpressionAttributeValues: { ':now': NOW.getTime() },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(h.ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('answers held with the end of the live lease, read from the failed condition, not a Get', async () => {
    // Prepare
    const h = storeHarness();
    const heldUntil = until.getTime() - 30_000;
    h.ddb.on(PutCommand).rejects(
      conditionFailed({
        claim_token: { S: 'someone-else' },
        claimed_until: { N: String(heldUntil) },
      }),
    );

    // Act
    const claim = await h.store.claimComparison(BATCH_ID, COMPARISON_ID, { until, now: NOW });

    // Assess
    expect(claim).toEqual({ outcome: 'held', claimedUntil: new Date(heldUntil) });
    expect(h.ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('assumes a whole lease from now when the failed condition carries no item', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(PutCommand).rejects(conditionFailed());

    // Act
    const claim = await h.store.claimComparison(BATCH_ID, COMPARISON_ID, { until, now: NOW });

    // Assess
    expect(claim).toEqual({ outcome: 'held', claimedUntil: until });
  });

  it('knows its own claim when a retried Put finds the first attempt committed', async () => {
    // Prepare: the first Put committed but its answer was lost (throttled), the retry fails its condition
    const h = storeHarness();
    let stored: Record<string, unknown> | undefined;
    h.ddb
      .on(PutCommand)
      .callsFakeOnce((input: { Item: Record<string, unknown> }) => {
        stored = input.Item;
        throw throttled();
      })
      .callsFake(() => {
        throw conditionFailed({
          claim_token: { S: String(stored?.claim_token) },
          claimed_until: { N: String(stored?.claimed_until) },
        });
      });

    // Act
    const claim = await h.store.claimComparison(BATCH_ID, COMPARISON_ID, { until, now: NOW });

    // Assess
    expect(claim).toEqual({ outcome: 'claimed', token: stored?.claim_token });
    expect(h.ddb.commandCalls(PutCommand)).toHaveLength(2);
  });

  it('surfaces an error that is not a failed condition', async () => {
    // Prepare
    const h = storeHarness({ maxAttempts: 1 });
    h.ddb.on(PutCommand).rejects(throttled());

    // Act / Assess
    await expect(
      h.store.claimComparison(BATCH_ID, COMPARISON_ID, { until, now: NOW }),
    ).rejects.toThrow();
  });

  it('releases only its own claim, and treats a claim taken over since as released', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(PutCommand).resolvesOnce({}).rejects(conditionFailed());

    // Act
    await h.store.releaseClaim(BATCH_ID, COMPARISON_ID, 'token-1', NOW);
    await h.store.releaseClaim(BATCH_ID, COMPARISON_ID, 'token-1', NOW);

    // Assess
    const inputs = h.ddb.commandCalls(PutCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs[0]).toMatchObject({
      Item: {
        [SK]: claimSk(COMPARISON_ID),
        claimed_until: 0,
        claim_token: 'token-1',
        claim_state: 'released',
      },
      ConditionExpression: '#token = :token',
      ExpressionAttributeNames: { '#token': 'claim_token' },
      ExpressionAttributeValues: { ':token': 'token-1' },
    });
  });
});
