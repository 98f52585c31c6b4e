/**
 * The decisions and reliability figures of Kinnear, Jones & Davies (2025), fetched at run time
 * (they carry no licence, so they are never committed): the data/ folder of the public repository
 * georgekinnear/cj-meta-analysis at a pinned commit, kept in .cache/ after the first fetch.
 *
 * The fetch needs git and access to GitHub. Where either is missing (a machine that reaches only
 * the npm registry and Debian's packages) `obtainPublishedData` says why and how to supply a copy
 * instead of failing: the caller prints that and skips.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PUBLISHED_REPOSITORY = 'https://github.com/georgekinnear/cj-meta-analysis.git';
/** The commit the figures in BENCHMARKS.md and docs/score.md were measured on. */
export const PUBLISHED_COMMIT = 'f2b6dd5daf3d50b7283d81c1845a0b668edaa112';
/** The file that holds the published figures; its presence marks a usable data folder. */
export const PUBLISHED_FIGURES_FILE = '01-meta-analysis-data.csv';
/** Longest a fetch may take before it counts as unreachable. */
const FETCH_TIMEOUT_MS = 120_000;

export type ObtainedData =
  | { ok: true; dataDir: string; source: 'given' | 'cache' | 'fetched' }
  | { ok: false; reason: string };

/** Runs git in `cwd`; returns stderr's last line when it fails (or cannot start). */
function git(cwd: string, args: string[]): string | null {
  const run = spawnSync('git', args, { cwd, encoding: 'utf8', timeout: FETCH_TIMEOUT_MS });
  if (run.error) return run.error.message;
  if (run.status !== 0) {
    const lines = (run.stderr ?? '').trim().split('\n');
    return lines[lines.length - 1] || `git ${args[0]} exited with ${run.status}`;
  }
  return null;
}

/**
 * The data folder: `given` when the caller names one (it must hold the figures file), else the
 * cached copy under `cacheRoot`, else a fresh shallow fetch of the pinned commit into that cache.
 */
export function obtainPublishedData(options: {
  given?: string;
  cacheRoot: string;
  /** Replaces the fetch (tests); writes the repository's files into the folder it is given. */
  fetchInto?: (folder: string) => string | null;
}): ObtainedData {
  if (options.given !== undefined) {
    const dataDir = resolve(options.given);
    return existsSync(join(dataDir, PUBLISHED_FIGURES_FILE))
      ? { ok: true, dataDir, source: 'given' }
      : { ok: false, reason: `--data ${options.given}: no ${PUBLISHED_FIGURES_FILE} there` };
  }
  const checkout = join(resolve(options.cacheRoot), `cj-meta-analysis-${PUBLISHED_COMMIT}`);
  const dataDir = join(checkout, 'data');
  if (existsSync(join(dataDir, PUBLISHED_FIGURES_FILE))) {
    return { ok: true, dataDir, source: 'cache' };
  }
  const partial = `${checkout}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const failure = (options.fetchInto ?? fetchPinnedCommit)(partial);
  if (failure !== null || !existsSync(join(partial, 'data', PUBLISHED_FIGURES_FILE))) {
    rmSync(partial, { recursive: true, force: true });
    return {
      ok: false,
      reason:
        `could not fetch ${PUBLISHED_REPOSITORY} at ${PUBLISHED_COMMIT.slice(0, 7)} ` +
        `(${failure ?? `no data/${PUBLISHED_FIGURES_FILE} in it`}). This check needs git and ` +
        'access to GitHub; without them, copy the data/ folder of that repository and commit ' +
        'onto this machine and pass --data <folder>.',
    };
  }
  rmSync(checkout, { recursive: true, force: true });
  renameSync(partial, checkout);
  return { ok: true, dataDir, source: 'fetched' };
}

/** A shallow fetch of exactly the pinned commit (GitHub serves commits by id). */
function fetchPinnedCommit(folder: string): string | null {
  return (
    git(folder, ['init', '--quiet']) ??
    git(folder, ['fetch', '--quiet', '--depth', '1', PUBLISHED_REPOSITORY, PUBLISHED_COMMIT]) ??
    git(folder, ['checkout', '--quiet', 'FETCH_HEAD'])
  );
}
