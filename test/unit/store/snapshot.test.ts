import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { BATCH_ID, metaItem, NOW, settingsItem, storeHarness } from '#test/helpers/store-fakes.ts';

const cmp = (iteration: number, index: number, extra: Record<string, unknown> = {}) => ({
  iteration,
  a: index,
  b: index + 1,
  status: 'COMPLETED',
  winner: 'A',
  kind: 'coverage',
  attempt: 1,
  ...extra,
});

describe('loadSnapshot', () => {
  it('returns counters, config and the comparisons of committed waves only', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(GetCommand).resolves({
      Item: metaItem({
        current_iteration: 2,
        submitted_comparisons: 3,
        total_comparisons: 3,
        completed_comparisons: 2,
        failed_comparisons: 1,
      }),
    });
    h.ddb
      .on(GetCommand, { Key: { pk: `BATCH#${BATCH_ID}`, sk: 'SETTINGS' } })
      .resolves({ Item: settingsItem({ config: { MAX_ITERATIONS: 7 } }) });
    // No packed verdicts yet: wave 1 is read from its items like the latest wave, 2. Wave 3 was
    // written by an interrupted planWave and is not committed.
    h.ddb.on(QueryCommand).resolves({ Items: [] });
    const wave = (iteration: number, items: Record<string, unknown>[]) =>
      h.ddb
        .on(QueryCommand, {
          ExpressionAttributeValues: {
            ':pk': `BATCH#${BATCH_ID}`,
            ':prefix': `CMP#00000${iteration}-`,
          },
        })
        .resolves({ Items: items });
    wave(1, [cmp(1, 0)]);
    wave(2, [
      cmp(2, 1, { status: 'FAILED', winner: undefined, failure_kind: 'timeout' }),
      cmp(2, 2, { kind: 'resample', resample_pass: 1 }),
    ]);
    wave(3, [cmp(3, 0, { status: 'PENDING', winner: undefined })]);

    // Act
    const snapshot = await h.store.loadSnapshot(BATCH_ID);

    // Assess
    expect(snapshot?.counters).toEqual({
      submitted_comparisons: 3,
      completed_comparisons: 2,
      failed_comparisons: 1,
    });
    expect(snapshot?.currentIteration).toBe(2);
    expect(snapshot?.config.MAX_ITERATIONS).toBe(7);
    expect(snapshot?.comparisons).toHaveLength(3);
    expect(snapshot?.comparisons[1]).toEqual({
      a: 1,
      b: 2,
      status: 'FAILED',
      failureKind: 'timeout',
      kind: 'coverage',
      iteration: 2,
      attempt: 1,
    });
    expect(snapshot?.comparisons[2]).toMatchObject({ kind: 'resample', resamplePass: 1 });
    expect(snapshot?.previousScores).toBeNull();
    const comparisonQueries = h.ddb
      .commandCalls(QueryCommand)
      .map((call) => call.args[0].input)
      .filter((input) => String(input.ExpressionAttributeValues?.[':prefix']).startsWith('CMP#'));
    expect(comparisonQueries.map((query) => query.ConsistentRead)).toEqual([true, true]);
  });

  it('returns null for an unknown batch', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(GetCommand).resolves({});

    // Act
    const snapshot = await h.store.loadSnapshot(BATCH_ID);

    // Assess
    expect(snapshot).toBeNull();
    expect(h.ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });
});

describe('saveScores and previous scores', () => {
  it('round-trips scores as Float32 and reads the latest evaluation BEFORE the current iteration', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(PutCommand).resolves({});
    await h.store.saveScores(BATCH_ID, 2, [0.5, -0.25, 1 / 3], NOW);
    const saved = h.ddb.commandCalls(PutCommand)[0]!.args[0].input.Item!;
    // Stored at an odd offset, as a decoded binary may be, to prove alignment is handled.
    const unaligned = new Uint8Array(new ArrayBuffer(13), 1, 12);
    unaligned.set(saved.scores as Uint8Array);
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ current_iteration: 3 }) });
    h.ddb
      .on(GetCommand, { Key: { pk: `BATCH#${BATCH_ID}`, sk: 'SETTINGS' } })
      .resolves({ Item: settingsItem() });
    h.ddb.on(QueryCommand).resolves({ Items: [] });
    h.ddb
      .on(QueryCommand, { ScanIndexForward: false })
      .resolves({ Items: [{ ...saved, scores: unaligned }] });

    // Act
    const snapshot = await h.store.loadSnapshot(BATCH_ID);

    // Assess
    expect(saved.sk).toBe('SCORES#000002');
    expect(Array.from(snapshot?.previousScores ?? [])).toEqual([0.5, -0.25, Math.fround(1 / 3)]);
    const scoresQuery = h.ddb
      .commandCalls(QueryCommand)
      .find((call) => call.args[0].input.ScanIndexForward === false);
    expect(scoresQuery?.args[0].input.ExpressionAttributeValues).toMatchObject({
      ':first': 'SCORES#000000',
      ':last': 'SCORES#000002',
    });
    expect(scoresQuery?.args[0].input.Limit).toBe(1);
  });
});
