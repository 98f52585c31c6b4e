import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_NAMES } from '#domain/config.ts';
import { renderConfigReference } from '#scripts/config-docs.ts';

describe('docs/config.md', () => {
  it('is the reference generated from the config module (run npm run -s config:docs > docs/config.md)', () => {
    // Prepare
    const committed = readFileSync('docs/config.md', 'utf8');

    // Act
    const generated = renderConfigReference();

    // Assess
    expect(committed).toBe(generated);
    for (const name of CONFIG_NAMES) expect(committed).toContain(`\`${name}\``);
  });
});
