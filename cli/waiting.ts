/** Polls a batch until it reaches a terminal status or the time is up. */

import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminal } from '#domain/types.ts';
import type { ApiClient, BatchState } from './api.ts';

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
  /** Called with every state read, including the last one. */
  onState?: (state: BatchState) => void;
}

export interface WaitOutcome {
  state: BatchState;
  timedOut: boolean;
}

export async function waitForBatch(
  client: ApiClient,
  batchId: string,
  options: WaitOptions,
): Promise<WaitOutcome> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const state = await client.getBatch(batchId);
    options.onState?.(state);
    if (isTerminal(state.status)) return { state, timedOut: false };
    const left = deadline - Date.now();
    if (left <= 0) return { state, timedOut: true };
    await sleep(Math.min(options.pollMs, left));
  }
}
