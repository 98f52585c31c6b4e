/**
 * Collecting a provider batch's results: time and memory to read a results file of N lines (one
 * per request) from a local fake of each provider's batch API over loopback HTTP and map every line
 * to its callback (verdict decoded strictly, costed at the batch price) as the collector does —
 * streamed line by line — against reading the file whole, splitting it and mapping the same way.
 * Time comes from plain runs; memory from separate runs that force a garbage collection every
 * 1,000 lines and keep the largest live heap above the heap before the read (what a function must
 * hold, not garbage awaiting collection). Sizes and modes run interleaved, round by round.
 * Prints JSON. Usage: npm run bench:provider-batches -- [--sizes 10000,100000] [--rounds R]
 * (the script passes --expose-gc).
 */
import { parseArgs } from 'node:util';
import { startFakeBatchServer } from '#bench/support/fake-batch-server.ts';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { comparisonId } from '#messages/common.ts';
import { anthropicResultOutcome } from '#shared/judges/batch/anthropic-batch.ts';
import { parseJsonObject } from '#shared/judges/batch/jsonl.ts';
import { openAiResultOutcome } from '#shared/judges/batch/openai-batch.ts';
import type { ProviderBatchApi, ProviderBatchStatus } from '#shared/judges/batch/port.ts';
import { createProviderBatchApi } from '#shared/judges/batch/registry.ts';
import { buildPrompt } from '#shared/judges/prompt.ts';
import { resultCallback } from '#shared/workflow/provider-batch-collect.ts';
import type { JudgedBatch } from '#shared/workflow/provider-batch-deps.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    rounds: { type: 'string', default: '3' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const rounds = Number(values.rounds);
type Provider = 'openai' | 'anthropic';
const PROVIDERS: Provider[] = ['openai', 'anthropic'];
const MODEL: Record<Provider, string> = { openai: 'gpt-4o-mini', anthropic: 'claude-haiku-4-5' };

const PROMPT = buildPrompt({
  essayA: 'An essay.',
  essayB: 'Another essay.',
  justificationMaxWords: DEFAULT_CONFIG.JUDGE_JUSTIFICATION_MAX_WORDS,
});

interface Sample {
  ms: number;
  peakHeapMb: number;
  lines: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function heapMb(): number {
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

const GC_EVERY = 1_000;

/** Runs `read`, which calls `tick(lines)` as it goes; with `measure`, the live heap is sampled. */
async function run(
  measure: boolean,
  read: (tick: (lines: number) => void) => Promise<number>,
): Promise<Sample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (measure && !gc) throw new Error('run with --expose-gc (npm run bench:provider-batches)');
  gc?.();
  const base = heapMb();
  let peak = 0;
  const tick = (lines: number) => {
    if (measure && lines % GC_EVERY === 0) {
      gc?.();
      peak = Math.max(peak, heapMb() - base);
    }
  };
  const started = performance.now();
  const lines = await read(tick);
  return { ms: performance.now() - started, peakHeapMb: peak, lines };
}

function streamed(api: ProviderBatchApi, status: ProviderBatchStatus, batch: JudgedBatch) {
  return async (tick: (lines: number) => void): Promise<number> => {
    let lines = 0;
    for await (const line of api.results(status)) {
      if (line.customId !== null) {
        resultCallback({ config: DEFAULT_CONFIG }, batch, line.customId, line.outcome);
      }
      lines += 1;
      tick(lines);
    }
    return lines;
  };
}

/** The naive alternative: the whole file as one string, split, each line mapped the same way. */
function whole(
  provider: Provider,
  url: string,
  headers: Record<string, string>,
  batch: JudgedBatch,
) {
  return async (tick: (lines: number) => void): Promise<number> => {
    const text = await (await fetch(url, { headers })).text();
    const words = DEFAULT_CONFIG.JUDGE_JUSTIFICATION_MAX_WORDS;
    let lines = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const parsed = parseJsonObject(line);
      const customId = typeof parsed?.custom_id === 'string' ? parsed.custom_id : undefined;
      if (parsed && customId) {
        const outcome =
          provider === 'openai'
            ? openAiResultOutcome(parsed, words)
            : anthropicResultOutcome(parsed.result, words);
        resultCallback({ config: DEFAULT_CONFIG }, batch, customId, outcome);
      }
      lines += 1;
      tick(lines);
    }
    return lines;
  };
}

async function setUp(provider: Provider, size: number) {
  const server = await startFakeBatchServer({ dialect: provider });
  const api = await createProviderBatchApi(
    { provider, model: MODEL[provider] },
    {
      keys: { apiKey: async () => 'sk-bench' },
      openAiBaseUrl: `${server.origin}/v1`,
      anthropicBaseUrl: server.origin,
    },
  );
  const created = await api.create({
    submissionKey: `bench-${size}`,
    lines: (async function* () {
      for (let index = 0; index < size; index += 1) {
        yield api.requestLine(comparisonId(1, index), PROMPT);
      }
    })(),
  });
  const status = await api.retrieve(created.id);
  const source = status.resultSources[0] ?? '';
  const url = provider === 'openai' ? `${server.origin}/v1/files/${source}/content` : source;
  const headers: Record<string, string> =
    provider === 'openai'
      ? { authorization: 'Bearer sk-bench' }
      : { 'x-api-key': 'sk-bench', 'anthropic-version': '2023-06-01' };
  let fileBytes = 0;
  for await (const chunk of (await fetch(url, { headers }))
    .body as unknown as AsyncIterable<Uint8Array>) {
    fileBytes += chunk.length;
  }
  return { provider, server, api, status, url, headers, fileBytes };
}

const batch = {
  batch_id: 'bench',
  judge: { provider: 'openai', model: 'gpt-4o-mini', mode: 'provider_batch' },
} as unknown as JudgedBatch;

const report: Record<string, unknown>[] = [];
const setups = new Map<string, Awaited<ReturnType<typeof setUp>>>();
for (const provider of PROVIDERS) {
  for (const size of sizes) setups.set(`${provider}:${size}`, await setUp(provider, size));
}
interface Samples {
  streamed: Sample[];
  whole: Sample[];
  streamedMemory: Sample[];
  wholeMemory: Sample[];
}
const samples = new Map<string, Samples>();
for (let round = 0; round < rounds; round += 1) {
  for (const [key, setup] of setups) {
    const entry = samples.get(key) ?? {
      streamed: [],
      whole: [],
      streamedMemory: [],
      wholeMemory: [],
    };
    const stream = streamed(setup.api, setup.status, batch);
    const naive = whole(setup.provider, setup.url, setup.headers, batch);
    entry.streamed.push(await run(false, stream));
    entry.whole.push(await run(false, naive));
    entry.streamedMemory.push(await run(true, stream));
    entry.wholeMemory.push(await run(true, naive));
    samples.set(key, entry);
  }
}
for (const [key, setup] of setups) {
  const [provider, size] = key.split(':');
  const entry = samples.get(key);
  if (!entry) continue;
  const streamMs = median(entry.streamed.map((s) => s.ms));
  const stream = {
    median_ms: Math.round(streamMs),
    lines_per_second: Math.round(Number(size) / (streamMs / 1000)),
    median_peak_live_heap_mb: Number(
      median(entry.streamedMemory.map((s) => s.peakHeapMb)).toFixed(1),
    ),
  };
  const read = {
    median_ms: Math.round(median(entry.whole.map((s) => s.ms))),
    median_peak_live_heap_mb: Number(median(entry.wholeMemory.map((s) => s.peakHeapMb)).toFixed(1)),
  };
  report.push({
    provider,
    lines: Number(size),
    results_file_mb: Number((setup.fileBytes / 1024 / 1024).toFixed(1)),
    streamed: stream,
    whole_file: read,
    live_heap_ratio_whole_over_streamed: Number(
      (read.median_peak_live_heap_mb / Math.max(stream.median_peak_live_heap_mb, 0.1)).toFixed(1),
    ),
  });
  await setup.server.close();
}
console.log(JSON.stringify({ rounds, results: report }, null, 2));
