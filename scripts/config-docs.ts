/**
 * Prints the configuration reference (docs/config.md) from the config module, so the doc can
 * never drift from the defaults: `npm run -s config:docs > docs/config.md`.
 */
import { CONFIG_NAMES, CONFIG_SPEC, type ConfigName, settingRange } from '#domain/config.ts';

const formatNumber = (value: number) =>
  Number.isInteger(value) && Math.abs(value) >= 10_000
    ? value.toLocaleString('en-US')
    : String(value);

/** A whole-number range with its bounds made inclusive: `1 to 50, whole`, `≥ 1, whole`. */
function renderWholeRange(min: number, max: number, minExclusive: boolean, maxExclusive: boolean) {
  const limit = 2 ** 53 - 1;
  const lower = minExclusive ? min + 1 : min;
  const upper = maxExclusive ? max - 1 : max;
  const lowerOpen = !Number.isFinite(lower) || lower <= -limit;
  const upperOpen = !Number.isFinite(upper) || upper >= limit;
  if (lowerOpen && upperOpen) return 'any, whole';
  if (upperOpen) return `≥ ${formatNumber(lower)}, whole`;
  if (lowerOpen) return `≤ ${formatNumber(upper)}, whole`;
  return `${formatNumber(lower)} to ${formatNumber(upper)}, whole`;
}

/** The range column: `1 to 50, whole`, `> 0 to 1`, `true/false`, `adaptive, random`. */
export function renderRange(name: ConfigName): string {
  const range = settingRange(name);
  switch (range.kind) {
    case 'boolean':
      return 'true/false';
    case 'enum':
      return range.values.map((value) => `\`${value}\``).join(', ');
    case 'object':
      return 'JSON object';
    case 'number': {
      if (range.integer)
        return renderWholeRange(range.min, range.max, range.minExclusive, range.maxExclusive);
      const lowerOpen = !Number.isFinite(range.min);
      const upperOpen = !Number.isFinite(range.max);
      const lower = `${range.minExclusive ? '> ' : ''}${formatNumber(range.min)}`;
      const upper = `${range.maxExclusive ? '< ' : ''}${formatNumber(range.max)}`;
      if (lowerOpen && upperOpen) return 'any';
      if (upperOpen) return `${range.minExclusive ? '> ' : '≥ '}${formatNumber(range.min)}`;
      if (lowerOpen) return `${range.maxExclusive ? '< ' : '≤ '}${formatNumber(range.max)}`;
      return `${lower} to ${upper}`;
    }
  }
}

export function renderConfigReference(): string {
  const escapeCell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const rows = CONFIG_NAMES.map((name) => {
    const spec = CONFIG_SPEC[name];
    const perBatch = spec.perBatch ? 'yes' : 'no';
    return `| \`${name}\` | \`${JSON.stringify(spec.default)}\` | ${perBatch} | ${escapeCell(renderRange(name))} | ${escapeCell(spec.unit)} | ${escapeCell(spec.description)} |`;
  });
  return [
    '# Configuration reference',
    '',
    'Generated from `shared/domain/config.ts` by `npm run -s config:docs > docs/config.md`; a unit',
    'test fails when this file is out of date.',
    '',
    'A setting marked **per batch: yes** may be overridden by a batch (`config` in `POST /batches`,',
    '`--set NAME=VALUE` in `cj submit`), within its **range**: a value outside it, or any override of',
    'a setting marked **no** (a deployment setting), is refused with HTTP 400 naming `config.NAME`',
    '(docs/api.md). The ranges are chosen so that no accepted value can break a batch: a deadline',
    'stays a valid date, and the continuation step keeps within its time and memory at the',
    "deployment's largest batch (test/unit/domain/override-bounds.test.ts). The simulator",
    '(`npm run sim -- --set`) accepts every setting within its range.',
    '',
    '| name | default | per batch | range | unit | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  process.stdout.write(renderConfigReference());
}
