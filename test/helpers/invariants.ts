/**
 * The counter invariants of docs/engine-rules.md, asserted on every state snapshot the integration tests read:
 * completed + failed ≤ submitted, total_comparisons == submitted, submitted ≤ budget,
 * pending == submitted − completed − failed, counters never decrease, and pending == 0 at the end.
 */
import { expect } from 'vitest';
import type { BatchState } from '#cli/api.ts';

const COUNTERS = ['submitted_comparisons', 'completed_comparisons', 'failed_comparisons'] as const;

export function assertCounterInvariants(
  state: BatchState,
  options: { final?: boolean } = {},
): void {
  const where = `batch ${state.batch_id} (${state.status})`;
  const { submitted_comparisons: submitted, completed_comparisons: completed } = state;
  const failed = state.failed_comparisons;
  for (const name of COUNTERS) {
    expect(
      Number.isInteger(state[name]) && state[name] >= 0,
      `${where}: ${name} = ${state[name]}`,
    ).toBe(true);
  }
  expect(completed + failed, `${where}: completed + failed <= submitted`).toBeLessThanOrEqual(
    submitted,
  );
  expect(state.total_comparisons, `${where}: total_comparisons == submitted`).toBe(submitted);
  expect(submitted, `${where}: submitted <= total_budget`).toBeLessThanOrEqual(state.total_budget);
  expect(state.pending_callbacks, `${where}: pending == submitted - completed - failed`).toBe(
    submitted - completed - failed,
  );
  if (options.final) {
    expect(state.pending_callbacks, `${where}: no pending callbacks at the end`).toBe(0);
  }
}

/** Counters never decrease between two snapshots of the same batch. */
export function assertCountersNeverDecrease(before: BatchState, after: BatchState): void {
  for (const name of COUNTERS) {
    expect(after[name], `batch ${after.batch_id}: ${name} decreased`).toBeGreaterThanOrEqual(
      before[name],
    );
  }
}
