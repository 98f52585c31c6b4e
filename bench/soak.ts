/**
 * soak — many batches at once on a local cloud with fault injection and host kills; prints JSON.
 *
 *   npm run -s soak -- --batches 20 --essays 60 --per-essay 6 \
 *     --chaos crash=0.05,throttle=0.05,conflict=0.02,duplicate=0.3,drop=0.02 \
 *     --kill-host-every-s 60 --max-host-kills 2 --seed 1 --json
 *
 * What each figure means: bench/support/soak.ts (SoakReport) and BENCHMARKS.md ("Chaos soak").
 * Exits 1 when a promise broke (a batch not terminal, a counter off, not one event per batch).
 */
import { parseArgs } from 'node:util';
import { runSoak } from '#bench/support/soak.ts';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '4' },
    essays: { type: 'string', default: '20' },
    'per-essay': { type: 'string', default: '4' },
    chaos: {
      type: 'string',
      default: 'crash=0.05,throttle=0.05,conflict=0.02,duplicate=0.3,drop=0.02',
    },
    'kill-host-every-s': { type: 'string', default: '0' },
    'max-host-kills': { type: 'string' },
    seed: { type: 'string', default: '1' },
    'deadline-s': { type: 'string', default: '60' },
    'schedule-interval-s': { type: 'string', default: '2' },
    'timeout-s': { type: 'string', default: '1800' },
    json: { type: 'boolean', default: false },
  },
});

function number(name: string, raw: string | undefined, { integer = false, min = 0 } = {}): number {
  const value = Number(raw);
  if (
    raw === undefined ||
    !Number.isFinite(value) ||
    value < min ||
    (integer && !Number.isInteger(value))
  ) {
    process.stderr.write(
      `soak: --${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got "${raw}"\n`,
    );
    process.exit(2);
  }
  return value;
}

const report = await runSoak({
  batches: number('batches', values.batches, { integer: true, min: 1 }),
  essays: number('essays', values.essays, { integer: true, min: 2 }),
  perEssay: number('per-essay', values['per-essay'], { min: 1 }),
  chaos: values.chaos ?? '',
  seed: number('seed', values.seed, { integer: true }),
  killHostEverySeconds: number('kill-host-every-s', values['kill-host-every-s']),
  maxHostKills:
    values['max-host-kills'] === undefined
      ? Number.POSITIVE_INFINITY
      : number('max-host-kills', values['max-host-kills'], { integer: true }),
  deadlineSeconds: number('deadline-s', values['deadline-s'], { integer: true, min: 1 }),
  scheduleIntervalSeconds: number('schedule-interval-s', values['schedule-interval-s'], { min: 1 }),
  timeoutSeconds: number('timeout-s', values['timeout-s'], { min: 1 }),
  ...(values.json ? {} : { progress: (line: string) => process.stderr.write(`soak: ${line}\n`) }),
});
process.stdout.write(`${JSON.stringify(report, null, values.json ? undefined : 2)}\n`);
const { details } = report;
process.stderr.write(
  `soak: provider calls per comparison ${report.provider_calls_per_comparison} ` +
    `(${details.provider_calls} calls / ${details.comparisons} comparisons), bound ` +
    `${report.provider_calls_per_comparison_bound} = 1 + (${details.judge_crash_records} judge ` +
    `records crashed + ${details.inflight_released} released by host kills + ` +
    `${report.faults_injected.drop} callbacks dropped) / ` +
    `${details.comparisons}: ${report.provider_calls_within_bound ? 'within' : 'OVER'}; ` +
    `copies held back by a live lease ${details.judge_copies_held_back}, found answered ` +
    `${details.judge_skipped}, comparisons timed out ${details.timed_out}\n`,
);
const held =
  report.terminal === report.batches &&
  report.counter_mismatches === 0 &&
  report.duplicate_counts === 0 &&
  report.events_per_batch_min === 1 &&
  report.events_per_batch_max === 1 &&
  report.provider_calls_within_bound;
process.exit(held ? 0 : 1);
