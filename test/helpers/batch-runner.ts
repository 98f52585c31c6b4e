/**
 * Runs a batch through the HTTP API to a terminal status, reading its state every `pollMs`, and
 * checks the counter invariants of docs/engine-rules.md on every snapshot (and that counters never decrease).
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient, BatchState, CreateBatchRequest } from '#cli/api.ts';
import { isTerminal } from '#domain/types.ts';
import { assertCounterInvariants, assertCountersNeverDecrease } from '#test/helpers/invariants.ts';

export interface BatchRun {
  batchId: string;
  final: BatchState;
  snapshots: BatchState[];
}

export interface RunOptions {
  pollMs?: number;
  timeoutMs?: number;
}

export async function followBatch(
  api: ApiClient,
  batchId: string,
  { pollMs = 250, timeoutMs = 180_000 }: RunOptions = {},
): Promise<BatchRun> {
  const snapshots: BatchState[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await api.getBatch(batchId);
    assertCounterInvariants(state);
    const previous = snapshots.at(-1);
    if (previous) assertCountersNeverDecrease(previous, state);
    snapshots.push(state);
    if (isTerminal(state.status)) {
      assertCounterInvariants(state, { final: true });
      return { batchId, final: state, snapshots };
    }
    if (Date.now() > deadline) {
      throw new Error(
        `batch ${batchId} still ${state.status} after ${timeoutMs} ms: ${JSON.stringify(state)}`,
      );
    }
    await sleep(pollMs);
  }
}

export async function runBatch(
  api: ApiClient,
  request: CreateBatchRequest,
  options: RunOptions = {},
): Promise<BatchRun> {
  const created = await api.createBatch(request);
  return followBatch(api, created.batch_id, options);
}
