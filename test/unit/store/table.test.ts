/**
 * The store's plumbing: the one "condition failed → re-read META → classify" helper, its no-re-read
 * variant, and that real errors still surface through both (after the bounded retries).
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { BatchMeta } from '#shared/workflow/store-records.ts';
import { Table } from '#store/table.ts';
import {
  BATCH_ID,
  conditionFailed,
  documentClient,
  metaItem,
  throttled,
} from '#test/helpers/store-fakes.ts';

const update = {
  UpdateExpression: 'SET updated_at = :now',
  ConditionExpression: '#status = :running',
  ExpressionAttributeNames: { '#status': 'status' },
  ExpressionAttributeValues: { ':now': 'x', ':running': 'RUNNING' },
  ReturnValues: 'ALL_NEW' as const,
};

describe('Table.updateMeta', () => {
  let ddb: ReturnType<typeof mockClient>;
  let table: Table;
  beforeEach(() => {
    const client = documentClient();
    ddb = mockClient(client);
    table = new Table({
      client,
      tableName: 'cj-test-table',
      retry: { maxAttempts: 2, sleep: async () => {}, random: () => 0 },
    });
  });

  it('answers from the written META when the condition holds, without a re-read', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({ Attributes: metaItem({ version: 7 }) });

    // Act
    const outcome = await table.updateMeta(
      BATCH_ID,
      update,
      (batch: BatchMeta | null) => ({ kind: 'updated', version: batch?.version }),
      () => ({ kind: 'classified', version: undefined }),
    );

    // Assess: the keys are stripped and the META key is the batch's.
    expect(outcome).toEqual({ kind: 'updated', version: 7 });
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.Key).toEqual({
      pk: `BATCH#${BATCH_ID}`,
      sk: 'META',
    });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('re-reads META strongly consistent when the condition fails and lets the caller classify', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: metaItem({ status: 'CANCELLED' }) });

    // Act
    const outcome = await table.updateMeta(
      BATCH_ID,
      update,
      () => 'updated',
      (latest) => `classified:${latest?.status}`,
    );

    // Assess
    expect(outcome).toBe('classified:CANCELLED');
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input.ConsistentRead).toBe(true);
  });

  it('classifies a batch that no longer exists from a null META', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({});

    // Act
    const outcome = await table.updateMeta(
      BATCH_ID,
      update,
      () => 'updated',
      (latest) => (latest === null ? 'not_found' : 'exists'),
    );

    // Assess
    expect(outcome).toBe('not_found');
  });

  it('lets any other error surface after the bounded retries, with no re-read', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(throttled());

    // Act
    const attempt = table.updateMeta(
      BATCH_ID,
      update,
      () => 'updated',
      () => 'classified',
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(2);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('updateMetaIf answers false on a failed condition without reading META again', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({});

    // Act
    const first = await table.updateMetaIf(BATCH_ID, update);
    const second = await table.updateMetaIf(BATCH_ID, update);

    // Assess
    expect([first, second]).toEqual([false, true]);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });
});

describe('Table settings cache', () => {
  it('keeps the settings it read, with the grade scale, and evicts the oldest past its bound', () => {
    // Prepare
    const table = new Table({ client: documentClient(), tableName: 'cj-test-table' });
    const item = (scale?: string[]) => ({
      config: { MAX_WAVES: 3 },
      judge: { provider: 'mock', profile: 'p' },
      ...(scale === undefined ? {} : { grade_scale: scale }),
    });

    // Act
    const first = table.rememberSettings('batch-0', item(['C', 'B']));
    for (let i = 1; i <= 64; i++) table.rememberSettings(`batch-${i}`, item());
    const missing = table.rememberSettings('batch-missing', null);

    // Assess
    expect(first).toEqual({ ...item(['C', 'B']) });
    expect(table.cachedSettings('batch-1')).toEqual(item());
    expect(table.cachedSettings('batch-1')).not.toHaveProperty('grade_scale');
    expect(table.cachedSettings('batch-64')).toBeDefined();
    expect(table.cachedSettings('batch-0')).toBeUndefined();
    expect(missing).toBeNull();
    expect(table.cachedSettings('batch-missing')).toBeUndefined();
  });
});
