/**
 * Measures how long the local cloud takes to start and stop (the aim is ready within 15 s,
 * synth excluded). Prints JSON; run side by side when comparing changes, the machine is shared.
 *   npm run -s bench:local-cloud -- [--runs N] [--template path/to/CjEngine-dev.template.json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { localCloudPaths, startLocalCloud, stopLocalCloud } from '#localstack/local-cloud/index.ts';
import { templatePathFor } from '#localstack/local-cloud/supervisor.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, template: { type: 'string' } },
});
const runs = Number(values.runs);
const templatePath = values.template ?? templatePathFor(localCloudPaths().root, 'dev');

function median(samples: number[]): number {
  const sorted = [...samples].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const startMs: number[] = [];
const readyMs: number[] = [];
const stopMs: number[] = [];
const phases: Record<string, number[]> = {};
for (let run = 0; run < runs; run += 1) {
  const stateDir = mkdtempSync(join(tmpdir(), 'local-cloud-bench-'));
  const started = performance.now();
  const info = await startLocalCloud({ stateDir, templatePath, synth: false });
  startMs.push(performance.now() - started);
  readyMs.push(info.state.readyMs);
  for (const [name, ms] of Object.entries(info.state.startupMs ?? {})) {
    phases[name] = [...(phases[name] ?? []), ms];
  }
  const stopping = performance.now();
  await stopLocalCloud({ stateDir });
  stopMs.push(performance.now() - stopping);
  rmSync(stateDir, { recursive: true, force: true });
}

console.log(
  JSON.stringify({
    template: templatePath,
    runs,
    start_to_ready_ms_median: Math.round(median(startMs)),
    background_ready_ms_median: Math.round(median(readyMs)),
    stop_ms_median: Math.round(median(stopMs)),
    phase_ms_medians: Object.fromEntries(
      Object.entries(phases).map(([name, samples]) => [name, Math.round(median(samples))]),
    ),
    start_to_ready_ms: startMs.map(Math.round),
  }),
);
