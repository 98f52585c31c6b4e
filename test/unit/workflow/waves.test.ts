import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { batchWavesSchema } from '#messages/waves.ts';
import type { ComparisonHistoryRow } from '#shared/workflow/store-records.ts';
import { getWaves, pendingTimeline, waveHistory } from '#shared/workflow/waves.ts';
import { TEST_CALLER } from '#test/helpers/events.ts';
import {
  BATCH_ID,
  batchMeta,
  metaItem,
  NOW,
  settingsItem,
  storeHarness,
} from '#test/helpers/store-fakes.ts';

const DEADLINE_S = 900;

/** An ISO instant `seconds` after NOW. */
function at(seconds: number): string {
  return new Date(NOW.getTime() + seconds * 1000).toISOString();
}

/** A comparison of a wave planned at `plannedS`, answered at `recordedS` (pending when absent). */
function row(
  iteration: number,
  plannedS: number,
  recordedS?: number,
  extra: Partial<ComparisonHistoryRow> = {},
): ComparisonHistoryRow {
  return {
    iteration,
    kind: 'coverage',
    status: recordedS === undefined ? 'PENDING' : 'COMPLETED',
    deadline: at(plannedS + DEADLINE_S),
    ...(recordedS === undefined ? {} : { recorded_at: at(recordedS) }),
    ...extra,
  };
}

describe('waveHistory', () => {
  it('sums each wave, dates it from its deadline, and draws pending callbacks over time', () => {
    // Prepare
    const batch = batchMeta({ current_iteration: 2, status: 'RUNNING' });
    const rows = [
      row(1, 1, 3),
      row(1, 1, 4),
      row(1, 1, 5, { status: 'FAILED', failure_kind: 'timeout' }),
      row(2, 6, 8, { kind: 'resample' }),
      row(2, 6),
      // Left by an interrupted planWave of iteration 3: never sent, not shown.
      row(3, 9),
    ];

    // Act
    const history = waveHistory(batch, {}, rows);

    // Assess
    expect(batchWavesSchema.parse(history)).toEqual(history);
    expect(history.waves).toEqual([
      {
        iteration: 1,
        kind: 'coverage',
        size: 3,
        completed: 2,
        failed: 1,
        timed_out: 1,
        pending: 0,
        planned_at: at(1),
        settled_at: at(5),
        decision: null,
        reason: null,
      },
      {
        iteration: 2,
        kind: 'resample',
        size: 2,
        completed: 1,
        failed: 0,
        timed_out: 0,
        pending: 1,
        planned_at: at(6),
        settled_at: null,
        decision: null,
        reason: null,
      },
    ]);
    expect(history.pending_timeline).toEqual([
      { at: at(1), pending: 3 },
      { at: at(3), pending: 2 },
      { at: at(4), pending: 1 },
      { at: at(5), pending: 0 },
      { at: at(6), pending: 2 },
      { at: at(8), pending: 1 },
    ]);
  });

  it('uses the batch overrides of COMPARISON_DEADLINE_SECONDS to date a wave', () => {
    // Prepare
    const batch = batchMeta({ current_iteration: 1 });
    const rows = [{ ...row(1, 0, 2), deadline: at(70) }];

    // Act
    const history = waveHistory(batch, { COMPARISON_DEADLINE_SECONDS: 60 }, rows);

    // Assess
    expect(history.waves[0]?.planned_at).toBe(at(10));
  });
});

describe('waveHistory of unusual rows', () => {
  it('counts timed-out failures and leaves a wave without a readable deadline undated', () => {
    // Prepare
    const batch = batchMeta({ current_iteration: 2, status: 'RUNNING' });
    const rows = [
      row(1, 0, 3, { status: 'FAILED', failure_kind: 'timeout' }),
      row(1, 0, 4, { status: 'FAILED', failure_kind: 'provider_error' }),
      row(2, 10, undefined, { deadline: 'not a date' }),
    ];

    // Act
    const history = waveHistory(batch, {}, rows);

    // Assess
    expect(history.waves[0]).toMatchObject({ size: 2, failed: 2, timed_out: 1, settled_at: at(4) });
    expect(history.waves[1]).toMatchObject({
      size: 1,
      pending: 1,
      planned_at: null,
      settled_at: null,
    });
    expect(history.pending_timeline.at(-1)).toEqual({ at: at(4), pending: 0 });
  });
});

describe('pendingTimeline', () => {
  it('thins to the limit keeping every wave start, every peak slice and the last point', () => {
    // Prepare: 3 waves of 400 requests each answered one by one.
    const steps = [0, 1000, 2000].flatMap((start) => [
      ...Array.from({ length: 400 }, () => ({ at: start, delta: 1, waveStart: true })),
      ...Array.from({ length: 400 }, (_, k) => ({
        at: start + 1 + k,
        delta: -1,
        waveStart: false,
      })),
    ]);

    // Act
    const points = pendingTimeline(steps, 50);

    // Assess
    expect(points.length).toBeLessThanOrEqual(50);
    expect(points.filter((p) => p.waveStart).map((p) => [p.at, p.pending])).toEqual([
      [0, 400],
      [1000, 400],
      [2000, 400],
    ]);
    expect(points.at(-1)).toMatchObject({ at: 2400, pending: 0 });
    expect(points.map((p) => p.at)).toEqual([...points.map((p) => p.at)].sort((x, y) => x - y));
  });
});

describe('getWaves on the DynamoDB store', () => {
  it('reads META, the settings and the comparison items, projected to the history', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(GetCommand).resolves({ Item: metaItem({ current_iteration: 1 }) });
    h.ddb
      .on(GetCommand, { Key: { sk: 'SETTINGS' } })
      .resolves({ Item: settingsItem({ config: { COMPARISON_DEADLINE_SECONDS: 60 } }) });
    h.ddb
      .on(QueryCommand)
      .resolves({ Items: [{ ...row(1, 0, 1), deadline: at(70) }, row(1, 0, 2)] });

    // Act
    const result = await getWaves({ store: h.store }, BATCH_ID, TEST_CALLER);

    // Assess
    expect(result.status).toBe(200);
    expect(result.body.waves[0]).toMatchObject({ iteration: 1, size: 2, completed: 2 });
    expect(result.body.waves[0]?.planned_at).toBe(at(10));
    const query = h.ddb.commandCalls(QueryCommand)[0]?.args[0].input;
    expect(query?.ConsistentRead).toBe(false);
    expect(query?.ProjectionExpression).not.toMatch(/\b(a|b|winner|judge_usage)\b/);
    expect(query?.ExpressionAttributeValues).toMatchObject({ ':prefix': 'CMP#' });
  });

  it('answers 404 for an unknown batch', async () => {
    // Prepare
    const h = storeHarness();
    h.ddb.on(GetCommand).resolves({});

    // Act
    const act = getWaves({ store: h.store }, 'nope', TEST_CALLER);

    // Assess
    await expect(act).rejects.toMatchObject({ status: 404, body: { field: 'id' } });
  });
});
