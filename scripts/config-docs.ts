/**
 * Prints the configuration reference (docs/config.md) from the config module, so the doc can
 * never drift from the defaults: `npm run -s config:docs > docs/config.md`.
 */
import { CONFIG_NAMES, CONFIG_SPEC } from '#domain/config.ts';

export function renderConfigReference(): string {
  const escapeCell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const rows = CONFIG_NAMES.map((name) => {
    const spec = CONFIG_SPEC[name];
    return `| \`${name}\` | \`${JSON.stringify(spec.default)}\` | ${escapeCell(spec.unit)} | ${escapeCell(spec.description)} |`;
  });
  return [
    '# Configuration reference',
    '',
    'Generated from `shared/domain/config.ts` by `npm run -s config:docs > docs/config.md`; a unit',
    'test fails when this file is out of date. Every name can be overridden per batch (`config` in',
    '`POST /batches`, `--set NAME=VALUE` in `cj submit` and `npm run sim`), except the deployment',
    'limits noted in their descriptions.',
    '',
    '| name | default | unit | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  process.stdout.write(renderConfigReference());
}
