import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pageEssays } from '#cli/upload.ts';
import { makeEssays } from '#test/helpers/essays.ts';

function bodyBytes(page: unknown[]): number {
  return Buffer.byteLength(JSON.stringify({ essays: page }), 'utf8');
}

describe('pageEssays', () => {
  it('keeps a small set in one page', () => {
    // Prepare
    const essays = makeEssays(10);

    // Act
    const pages = pageEssays(essays, { maxBytes: 1_000_000, maxEssays: 100 });

    // Assess
    expect(pages).toEqual([essays]);
  });

  it('splits by essay count', () => {
    // Prepare
    const essays = makeEssays(25);

    // Act
    const pages = pageEssays(essays, { maxBytes: 1_000_000, maxEssays: 10 });

    // Assess
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
  });

  it('keeps order, loses nothing and keeps every multi-essay page within the byte limit', () => {
    // Prepare
    const sets = fc.record({
      count: fc.integer({ min: 1, max: 60 }),
      textLength: fc.integer({ min: 10, max: 2000 }),
      maxBytes: fc.integer({ min: 200, max: 20_000 }),
      maxEssays: fc.integer({ min: 1, max: 20 }),
    });

    // Act / Assess
    fc.assert(
      fc.property(sets, ({ count, textLength, maxBytes, maxEssays }) => {
        const essays = makeEssays(count, { textLength });
        const pages = pageEssays(essays, { maxBytes, maxEssays });
        expect(pages.flat()).toEqual(essays);
        for (const page of pages) {
          expect(page.length).toBeGreaterThan(0);
          expect(page.length).toBeLessThanOrEqual(maxEssays);
          if (page.length > 1) expect(bodyBytes(page)).toBeLessThanOrEqual(maxBytes);
        }
      }),
    );
  });
});
