/**
 * The order in which vitest hands test files to its workers: the integration layer's longest files
 * first, so that none of them starts last and runs on alone at the end of the layer (its files run
 * side by side: vitest.config.ts), then vitest's own order (the cached durations of the last run,
 * or file sizes on a fresh checkout, where a short file of a long test would come last).
 * LONGEST_FIRST is measured: the per-file durations behind BENCHMARKS.md, "Integration layer".
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Integration files (under test/integration/, without `.test.ts`), longest first, alternating
 * between files on a local cloud of their own and files on the shared one, so that the long ones
 * running at once do not all queue on the shared cloud's moto_server (it serializes requests).
 */
export const LONGEST_FIRST = [
  'soak', // own cloud
  'large-batch', // shared
  'bad-input', // own (the malformed message)
  'delivery', // shared
  'sweeper-leftovers', // own
  'dashboard-page', // shared
  'fifo-isolation', // own
  'small-nets', // shared
  'provider-batches', // own
  'failures', // shared
  'openai-compatible', // own
  'grades', // shared
  'no-double-spend', // own
  'report-page', // shared
  'continuation-failures', // own
  'parity',
  'in-flight-caps',
];

function rank(spec: TestSpecification): number {
  const file = spec.moduleId.replaceAll('\\', '/');
  const index = LONGEST_FIRST.findIndex((name) =>
    file.endsWith(`/test/integration/${name}.test.ts`),
  );
  return index < 0 ? LONGEST_FIRST.length : index;
}

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return sorted
      .map((spec, position) => ({ spec, position, rank: rank(spec) }))
      .sort((a, b) => a.rank - b.rank || a.position - b.position)
      .map(({ spec }) => spec);
  }
}
