/**
 * `cj list` and `cj cancel` through real loopback HTTP against the fake API: the table and JSON of
 * the list, the status filter and limit passed to the API, cursors followed up to the limit, and
 * cancel's exit codes (0 cancelled or already cancelled, 3 for the API's 409 and 404, 2 for usage).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '#cli/main.ts';
import { captureIo } from '#test/helpers/cli-io.ts';
import { makeEssays } from '#test/helpers/essays.ts';
import { type FakeApi, startFakeApi } from '#test/helpers/fake-api.ts';
import { makeBatchState } from '#test/helpers/report-factories.ts';

let api: FakeApi | undefined;
let paged: Server | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
  await new Promise<void>((done) => (paged ? paged.close(() => done()) : done()));
  paged = undefined;
});

async function createTwo(options: Parameters<typeof startFakeApi>[0] = {}): Promise<FakeApi> {
  const fake = await startFakeApi(options);
  for (let index = 0; index < 2; index++) {
    const response = await fetch(`${fake.url}/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ essays: makeEssays(3), budget: 10 }),
    });
    expect(response.status).toBe(201);
  }
  return fake;
}

/** An API whose list comes one batch per page (cursor = the next index), recording each query. */
async function pagedApi(count: number): Promise<{ url: string; queries: URLSearchParams[] }> {
  const queries: URLSearchParams[] = [];
  paged = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://paged');
    queries.push(url.searchParams);
    const at = Number(url.searchParams.get('cursor') ?? '0');
    const body = {
      v: 1,
      batches: [makeBatchState({ batch_id: `b-${at}` })],
      ...(at + 1 < count ? { next_cursor: String(at + 1) } : {}),
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((done) => paged?.listen(0, '127.0.0.1', () => done()));
  return { url: `http://127.0.0.1:${(paged.address() as AddressInfo).port}`, queries };
}

describe('cj list', () => {
  it('prints one line per batch, newest first, and the same batches as JSON', async () => {
    // Prepare
    api = await createTwo();
    const table = captureIo({ CJ_API_URL: api.url });
    const json = captureIo({ CJ_API_URL: api.url });

    // Act
    const tableCode = await main(['list'], table);
    const jsonCode = await main(['list', '--json'], json);

    // Assess
    expect([tableCode, jsonCode]).toEqual([0, 0]);
    const lines = table.out().trim().split('\n');
    expect(lines[0]).toMatch(/^BATCH\s+STATUS\s+ESSAYS\s+DONE\s+PENDING\s+CREATED$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(['batch-2', 'batch-1']);
    const listed = JSON.parse(json.out()) as { batches: Array<{ batch_id: string }> };
    expect(listed.batches.map((batch) => batch.batch_id)).toEqual(['batch-2', 'batch-1']);
  });

  it('passes --status to the API and says when nothing matches', async () => {
    // Prepare
    api = await createTwo();
    const io = captureIo({ CJ_API_URL: api.url });

    // Act
    const code = await main(['list', '--status', 'CANCELLED'], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toBe('no batches\n');
    expect(api.requests.at(-1)?.path).toBe('/batches');
  });

  it('follows cursors until --limit batches, asking each page for no more than remain', async () => {
    // Prepare
    const server = await pagedApi(10);
    const io = captureIo({ CJ_API_URL: server.url });

    // Act
    const code = await main(['list', '--limit', '3', '--json'], io);

    // Assess
    expect(code).toBe(0);
    const listed = JSON.parse(io.out()) as { batches: Array<{ batch_id: string }> };
    expect(listed.batches.map((batch) => batch.batch_id)).toEqual(['b-0', 'b-1', 'b-2']);
    expect(server.queries.map((query) => query.get('limit'))).toEqual(['3', '2', '1']);
    expect(server.queries.map((query) => query.get('cursor'))).toEqual([null, '1', '2']);
  });

  it.each([
    [['list', '--limit', '0'], '--limit'],
    [['list', '--limit', '2.5'], '--limit'],
    [['list', '--status', 'DONE'], '--status'],
    [['list', 'extra'], 'extra'],
  ])('refuses %j with exit 2 naming %s', async (argv, subject) => {
    // Prepare
    const io = captureIo({ CJ_API_URL: 'http://127.0.0.1:9' });

    // Act
    const code = await main(argv, io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toContain(subject);
  });
});

describe('cj cancel', () => {
  it('cancels a running batch (exit 0, CANCELLED), and a second cancel is a no-op', async () => {
    // Prepare
    api = await createTwo({ finalStatus: null });
    const first = captureIo({ CJ_API_URL: api.url });
    const again = captureIo({ CJ_API_URL: api.url });

    // Act
    const firstCode = await main(['cancel', 'batch-1', '--json'], first);
    const againCode = await main(['cancel', 'batch-1'], again);

    // Assess
    expect([firstCode, againCode]).toEqual([0, 0]);
    expect(JSON.parse(first.out())).toMatchObject({ batch_id: 'batch-1', status: 'CANCELLED' });
    expect(again.out()).toMatch(/status\s+CANCELLED/);
    expect(api.batches.get('batch-2')?.status).toBe('RUNNING');
  });

  it("exits 3 with the API's answer for a finished or unknown batch, 2 without an id", async () => {
    // Prepare
    api = await createTwo({ step: 100 });
    await fetch(`${api.url}/batches/batch-1`); // one read finishes it (COMPLETE_STABLE)
    const finished = captureIo({ CJ_API_URL: api.url });
    const unknown = captureIo({ CJ_API_URL: api.url });
    const missing = captureIo({ CJ_API_URL: api.url });

    // Act
    const codes = [
      await main(['cancel', 'batch-1'], finished),
      await main(['cancel', 'nope'], unknown),
      await main(['cancel'], missing),
    ];

    // Assess
    expect(codes).toEqual([3, 3, 2]);
    expect(finished.err()).toContain('409');
    expect(unknown.err()).toContain('404');
    expect(missing.err()).toContain('<batch-id>');
  });
});
