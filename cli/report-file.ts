/** Writes a report file where the user asked, creating its folder; errors name the flag. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors.ts';

/** Writes `html` to `path` (relative to `cwd`) and returns the absolute path. */
export function writeReportFile(cwd: string, path: string, html: string, flag = '--out'): string {
  const target = resolve(cwd, path);
  try {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, html);
  } catch (error) {
    throw new UsageError(flag, `cannot write ${target} (${(error as NodeJS.ErrnoException).code})`);
  }
  return target;
}
