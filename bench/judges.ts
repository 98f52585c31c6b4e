/**
 * LLM judge adapters against local fake servers (loopback HTTP): per-call time of the adapter
 * itself — request building, fetch, decoding, strict validation — without any model latency, for
 * each provider and for both-orders judging, and the prompt overhead in characters beyond the two
 * essays. Configurations run interleaved, round by round, so machine noise hits them alike.
 * Prints JSON. Usage: npm run bench:judges -- [--calls N] [--rounds R]
 */
import { parseArgs } from 'node:util';
import {
  type FakeLlmServer,
  preferEssayContaining,
  startFakeLlmServer,
} from '#bench/support/fake-llm-server.ts';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import type { JudgeChoice } from '#messages/api.ts';
import { createJudgeProvider } from '#shared/judges/registry.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '5' },
  },
});
const callsPerRound = Number(values.calls);
const rounds = Number(values.rounds);

/** About 500 words each, a typical school essay. */
const essayA = `ALPHA ${'The evidence supports a clear conclusion about the topic. '.repeat(55)}`;
const essayB = `BETA ${'Opinions differ and several points are listed here briefly. '.repeat(55)}`;

interface Config {
  name: string;
  dialect: 'openai' | 'anthropic';
  choice: (server: FakeLlmServer) => JudgeChoice;
}

const CONFIGS: Config[] = [
  {
    name: 'openai',
    dialect: 'openai',
    choice: () => ({ provider: 'openai', model: 'gpt-4o-mini' }),
  },
  {
    name: 'anthropic',
    dialect: 'anthropic',
    choice: () => ({ provider: 'anthropic', model: 'claude-sonnet-4-20250514' }),
  },
  {
    name: 'openai-compatible',
    dialect: 'openai',
    choice: (server) => ({
      provider: 'openai-compatible',
      model: 'local',
      base_url: `${server.origin}/v1`,
    }),
  },
  {
    name: 'openai-compatible, both orders',
    dialect: 'openai',
    choice: (server) => ({
      provider: 'openai-compatible',
      model: 'local',
      base_url: `${server.origin}/v1`,
      judge_both_orders: true,
    }),
  },
];

function median(sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const setups = await Promise.all(
    CONFIGS.map(async (config) => {
      const server = await startFakeLlmServer({
        dialect: config.dialect,
        respond: preferEssayContaining('ALPHA'),
      });
      const judge = createJudgeProvider(config.choice(server), {
        maxMockLatencyMs: 0,
        llm: {
          keys: { apiKey: async () => 'bench-key' },
          config: DEFAULT_CONFIG,
          openAiBaseUrl: `${server.origin}/v1`,
          anthropicBaseUrl: server.origin,
          // The fake server listens on loopback, as a local model server does on the local cloud.
          endpointPolicy: { endpoints: {}, allowLoopbackBaseUrls: true },
        },
      });
      return { config, server, judge, samples: [] as number[], failures: 0 };
    }),
  );
  const request = {
    essayA: { id: 'a', text: essayA },
    essayB: { id: 'b', text: essayB },
    key: { batchId: 'bench', comparisonId: '000001-000001', attempt: 1 },
  };
  for (const setup of setups) await setup.judge.judge(request); // warm-up
  for (let round = 0; round < rounds; round += 1) {
    for (const setup of setups) {
      for (let call = 0; call < callsPerRound; call += 1) {
        const started = performance.now();
        const result = await setup.judge.judge(request);
        setup.samples.push(performance.now() - started);
        if (result.outcome !== 'verdict' || result.winner !== 'A') setup.failures += 1;
      }
    }
  }
  const results = setups.map((setup) => {
    const sorted = [...setup.samples].sort((a, b) => a - b);
    const first = setup.server.requests[0];
    const bodyChars = first ? JSON.stringify(first.body).length : 0;
    return {
      config: setup.config.name,
      comparisons: sorted.length,
      wrong_or_failed: setup.failures,
      ms_per_comparison_median: Number(median(sorted).toFixed(3)),
      ms_per_comparison_p95: Number((sorted[Math.floor(sorted.length * 0.95)] ?? 0).toFixed(3)),
      request_overhead_chars: bodyChars - essayA.length - essayB.length,
    };
  });
  await Promise.all(setups.map((setup) => setup.server.close()));
  process.stdout.write(
    `${JSON.stringify({ node: process.version, calls_per_round: callsPerRound, rounds, essay_chars: [essayA.length, essayB.length], results }, null, 2)}\n`,
  );
}

await main();
