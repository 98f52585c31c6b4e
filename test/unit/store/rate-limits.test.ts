import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { FakeTable } from '#bench/support/fake-table.ts';
import { admit, type RateLimiterState } from '#domain/rate-limit.ts';
import { rateLimitKey } from '#store/keys.ts';
import { dynamoRateLimits } from '#store/rate-limits.ts';
import { Table } from '#store/table.ts';
import { conditionFailed, documentClient, TABLE, throttled } from '#test/helpers/store-fakes.ts';

const OPTIONS = {
  utilization: 1,
  burst: 1,
  backoffFactor: 0.5,
  minFactor: 0.1,
  recoveryMs: 10_000,
  activeWindowMs: 10_000,
  maxWaitMs: 0,
  reserveAheadMs: 0,
};

function harness() {
  const client = documentClient();
  const ddb = mockClient(client);
  const sleeps: number[] = [];
  const table = new Table({
    client,
    tableName: TABLE,
    retry: {
      maxAttempts: 3,
      baseDelayMs: 10,
      maxDelayMs: 100,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
  });
  return { ddb, sleeps, limits: dynamoRateLimits(table) };
}

const admitAt = (now: number) => (state: RateLimiterState) => {
  const result = admit(
    state,
    { batchId: 'b1', tokens: 0, now },
    { requestsPerMinute: 60 },
    OPTIONS,
  );
  return { state: result.state, result };
};

describe('dynamoRateLimits', () => {
  it('creates the record on first use and paces later admissions from the stored state', async () => {
    // Prepare
    const h = harness();
    const fake = new FakeTable().attach(h.ddb);
    // Act
    const first = await h.limits.updateRateLimit('openai', admitAt(1000));
    const second = await h.limits.updateRateLimit('openai', admitAt(1500));
    const other = await h.limits.updateRateLimit('anthropic', admitAt(1500));
    // Assess
    expect(first.admitted).toBe(true);
    expect(second).toMatchObject({ admitted: false, waitMs: 500, reason: 'requests' });
    expect(other.admitted).toBe(true);
    const { pk, sk } = rateLimitKey('openai') as { pk: string; sk: string };
    expect(fake.get(pk, sk)).toMatchObject({ version: 2 });
  });

  it('writes only if nobody wrote in between: the first put is conditional on absence, later ones on the version read', async () => {
    // Prepare
    const h = harness();
    h.ddb
      .on(GetCommand)
      .resolvesOnce({})
      .resolves({ Item: { version: 4, state: undefined } });
    h.ddb.on(PutCommand).resolves({});
    // Act
    await h.limits.updateRateLimit('openai', admitAt(0));
    await h.limits.updateRateLimit('openai', admitAt(0));
    // Assess
    const puts = h.ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(puts[0]).toMatchObject({
      ConditionExpression: 'attribute_not_exists(#version)',
      Item: { ...rateLimitKey('openai'), version: 1 },
    });
    expect(puts[1]).toMatchObject({
      ConditionExpression: '#version = :version',
      ExpressionAttributeValues: { ':version': 4 },
      Item: { version: 5 },
    });
    expect(h.ddb.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({
      ConsistentRead: true,
    });
  });

  it('on a lost race reads again, re-applies the change to the fresher state and backs off with jitter', async () => {
    // Prepare
    const h = harness();
    h.ddb
      .on(GetCommand)
      .resolvesOnce({ Item: { version: 1, state: undefined } })
      .resolves({ Item: { version: 2, state: undefined } });
    h.ddb.on(PutCommand).rejectsOnce(conditionFailed()).resolves({});
    const seen: number[] = [];
    // Act
    await h.limits.updateRateLimit('openai', (state) => {
      seen.push(state.requestTat);
      return { state: { ...state, requestTat: 1 }, result: null };
    });
    // Assess
    expect(seen).toHaveLength(2);
    expect(h.ddb.commandCalls(PutCommand)[1]?.args[0].input).toMatchObject({
      ExpressionAttributeValues: { ':version': 2 },
    });
    expect(h.sleeps).toEqual([2.5]);
  });

  it('writes nothing when the change leaves the state as it was (a booked slot taken)', async () => {
    // Prepare
    const h = harness();
    const fake = new FakeTable().attach(h.ddb);
    await h.limits.updateRateLimit('openai', admitAt(1000));
    const puts = h.ddb.commandCalls(PutCommand).length;
    // Act
    const result = await h.limits.updateRateLimit('openai', (state) => ({ state, result: 'same' }));
    // Assess
    expect(result).toBe('same');
    expect(h.ddb.commandCalls(PutCommand)).toHaveLength(puts);
    const { pk, sk } = rateLimitKey('openai') as { pk: string; sk: string };
    expect(fake.get(pk, sk)).toMatchObject({ version: 1 });
  });

  it('retries throttling like every store call, and surfaces other errors', async () => {
    // Prepare
    const h = harness();
    h.ddb.on(GetCommand).rejectsOnce(throttled()).resolves({});
    h.ddb.on(PutCommand).rejects(new Error('boom'));
    // Act + Assess
    await expect(h.limits.updateRateLimit('openai', admitAt(0))).rejects.toThrow('boom');
    expect(h.ddb.commandCalls(GetCommand)).toHaveLength(2);
  });

  it('gives up after 20 lost races in a row, naming the limiter', async () => {
    // Prepare
    const h = harness();
    h.ddb.on(GetCommand).resolves({});
    h.ddb.on(PutCommand).rejects(conditionFailed());
    // Act + Assess
    await expect(h.limits.updateRateLimit('openai', admitAt(0))).rejects.toThrow(
      'rate limiter openai: lost 20 races in a row',
    );
  });
});
