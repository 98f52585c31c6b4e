/**
 * `cj cancel` and `cj list` through the real CLI on the local cloud: two batches submitted, one
 * cancelled while its comparisons are in flight — it ends CANCELLED, its counters stop moving
 * (late callbacks count nowhere) and it gets exactly one outcome event — while the other runs to
 * its end; `cj list` shows both newest first with their statuses, `--status` filters, and a small
 * page size walks the list by cursor without gaps or repeats.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { BatchState, BatchSummary } from '#cli/api.ts';
import { main } from '#cli/main.ts';
import { captureIo } from '#test/helpers/cli-io.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { batchEventsWithin } from '#test/helpers/event-capture.ts';
import {
  eventCaptureQueue,
  integrationTarget,
  sqsClient,
} from '#test/helpers/integration-target.ts';

/** How long a cancelled batch is watched for moving counters and a second event. */
const QUIET_WINDOW_MS = 12_000;

describe('cj cancel and cj list', () => {
  it('cancels a running batch for good and lists both batches newest first', async () => {
    // Prepare: essays on disk, the CLI pointed at the local cloud, its event capture queue.
    const target = await integrationTarget();
    const sqs = sqsClient(target);
    const captureUrl = eventCaptureQueue(target);
    const dir = mkdtempSync(join(tmpdir(), 'cj-cancel-list-'));
    const essays = join(dir, 'essays.jsonl');
    writeFileSync(
      essays,
      `${makeEssays(8, { seed: 21 })
        .map((essay) => JSON.stringify(essay))
        .join('\n')}\n`,
    );
    const env = { CJ_API_URL: target.api.baseUrl };
    const cj = async (argv: string[]) => {
      const io = captureIo(env, { cwd: dir });
      const code = await main(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    const submit = async (latencyMs: string) => {
      const run = await cj(['submit', essays, '--json', '--mock-latency-ms', latencyMs]);
      expect(run.code, run.err).toBe(0);
      return (JSON.parse(run.out) as { batch_id: string }).batch_id;
    };

    // Act: a slow batch, then a quick one; cancel the slow one once callbacks are pending.
    const slow = await submit('2000');
    await sleep(20); // creation times a clear step apart
    const quick = await submit('10');
    const deadline = Date.now() + 60_000;
    let running: BatchState = await target.api.getBatch(slow);
    while (running.pending_callbacks === 0 && Date.now() < deadline) {
      await sleep(100);
      running = await target.api.getBatch(slow);
    }
    const cancel = await cj(['cancel', slow, '--json']);
    const cancelled = JSON.parse(cancel.out) as BatchState;
    const cancelAgain = await cj(['cancel', slow]);
    const events = await batchEventsWithin<{ batch_id?: string; status?: string }>(
      sqs,
      captureUrl,
      slow,
      QUIET_WINDOW_MS,
    );
    const later = await target.api.getBatch(slow);
    const wait = await cj(['wait', quick, '--json', '--timeout-s', '120']);
    const list = await cj(['list', '--json', '--limit', '100']);
    const table = await cj(['list', '--limit', '100']);
    const onlyCancelled = await cj(['list', '--status', 'CANCELLED', '--json', '--limit', '100']);
    const badStatus = await cj(['list', '--status', 'DONE']);
    // Page by page, one batch a page, until both are seen.
    const walked: BatchSummary[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await target.api.listBatchesPage({ limit: 1, ...(cursor ? { cursor } : {}) });
      walked.push(...page.batches);
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor && !walked.some((batch) => batch.batch_id === slow));

    // Assess: the cancel
    expect(running.status).toBe('RUNNING');
    expect(running.pending_callbacks).toBeGreaterThan(0);
    expect(cancel.code, cancel.err).toBe(0);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelAgain.code).toBe(0);
    expect(cancelAgain.out).toMatch(/status\s+CANCELLED/);
    const counters = (state: BatchState) => [
      state.status,
      state.submitted_comparisons,
      state.completed_comparisons,
      state.failed_comparisons,
    ];
    expect(counters(later)).toEqual(counters(cancelled));
    expect(events).toEqual([expect.objectContaining({ batch_id: slow, status: 'CANCELLED' })]);
    // The list
    expect(wait.code, wait.err).toBe(0);
    expect(list.code, list.err).toBe(0);
    const listed = (JSON.parse(list.out) as { batches: BatchSummary[] }).batches;
    const ids = listed.map((batch) => batch.batch_id);
    expect(ids.indexOf(quick)).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf(quick)).toBeLessThan(ids.indexOf(slow));
    expect(listed.find((batch) => batch.batch_id === slow)?.status).toBe('CANCELLED');
    expect(listed.find((batch) => batch.batch_id === quick)?.status).toMatch(/^COMPLETE_/);
    const created = listed.map((batch) => batch.created_at);
    expect(created).toEqual([...created].sort().reverse());
    expect(table.out).toMatch(new RegExp(`${quick}\\s+COMPLETE_`));
    expect(table.out).toMatch(new RegExp(`${slow}\\s+CANCELLED`));
    const cancelledIds = (JSON.parse(onlyCancelled.out) as { batches: BatchSummary[] }).batches.map(
      (batch) => batch.batch_id,
    );
    expect(cancelledIds).toContain(slow);
    expect(cancelledIds).not.toContain(quick);
    expect(badStatus.code).toBe(2);
    expect(badStatus.err).toContain('--status');
    const walkedIds = walked.map((batch) => batch.batch_id);
    expect(new Set(walkedIds).size).toBe(walkedIds.length);
    expect(walkedIds.indexOf(quick)).toBeLessThan(walkedIds.indexOf(slow));
    const walkedCreated = walked.map((batch) => batch.created_at);
    expect(walkedCreated).toEqual([...walkedCreated].sort().reverse());
    expect(pages).toBe(walkedIds.length);
  }, 240_000);
});
