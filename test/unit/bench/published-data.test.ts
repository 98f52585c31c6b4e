import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  obtainPublishedData,
  PUBLISHED_COMMIT,
  PUBLISHED_FIGURES_FILE,
} from '#bench/support/published-data.ts';

/** A folder holding a data/ folder with the published figures file. */
function writeDataFolder(root: string): string {
  const data = join(root, 'data');
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, PUBLISHED_FIGURES_FILE), 'judging_session,ssr\n');
  return data;
}

const scratch = () => mkdtempSync(join(tmpdir(), 'published-data-'));

describe('obtainPublishedData', () => {
  it('uses a given folder that holds the figures, and refuses one that does not, naming --data', () => {
    // Prepare
    const good = writeDataFolder(scratch());
    const empty = scratch();
    // Act
    const given = obtainPublishedData({ given: good, cacheRoot: scratch() });
    const refused = obtainPublishedData({ given: empty, cacheRoot: scratch() });
    // Assess
    expect(given).toEqual({ ok: true, dataDir: good, source: 'given' });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toContain(`--data ${empty}`);
  });

  it('fetches the pinned commit once into the cache, then reads the cache', () => {
    // Prepare
    const cacheRoot = scratch();
    let fetches = 0;
    const fetchInto = (folder: string) => {
      fetches++;
      writeDataFolder(folder);
      return null;
    };
    // Act
    const first = obtainPublishedData({ cacheRoot, fetchInto });
    const second = obtainPublishedData({ cacheRoot, fetchInto });
    // Assess
    const dataDir = join(cacheRoot, `cj-meta-analysis-${PUBLISHED_COMMIT}`, 'data');
    expect(first).toEqual({ ok: true, dataDir, source: 'fetched' });
    expect(second).toEqual({ ok: true, dataDir, source: 'cache' });
    expect(fetches).toBe(1);
  });

  it('says why and how to supply a copy when the fetch fails or brings no figures, leaving no cache', () => {
    // Prepare
    const cacheRoot = scratch();
    // Act
    const unreachable = obtainPublishedData({
      cacheRoot,
      fetchInto: () => 'Could not resolve host',
    });
    const noFigures = obtainPublishedData({ cacheRoot, fetchInto: () => null });
    const later = obtainPublishedData({
      cacheRoot,
      fetchInto: (folder) => {
        writeDataFolder(folder);
        return null;
      },
    });
    // Assess
    expect(unreachable.ok).toBe(false);
    expect(!unreachable.ok && unreachable.reason).toMatch(/Could not resolve host.*--data/);
    expect(noFigures.ok).toBe(false);
    expect(!noFigures.ok && noFigures.reason).toContain(`no data/${PUBLISHED_FIGURES_FILE}`);
    expect(later).toMatchObject({ ok: true, source: 'fetched' });
  });
});
