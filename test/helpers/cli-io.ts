/** An in-memory `Io` for running `cj` commands in-process and reading what they printed. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from '#cli/command.ts';

export interface CapturedIo extends Io {
  out(): string;
  err(): string;
}

export function captureIo(
  env: NodeJS.ProcessEnv = {},
  options: { tty?: boolean; cwd?: string } = {},
): CapturedIo {
  let stdout = '';
  let stderr = '';
  return {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    stderrIsTTY: options.tty ?? false,
    // An empty local-cloud folder by default, so no test picks up a running local cloud by accident.
    env: { CJ_LOCAL_CLOUD_DIR: mkdtempSync(join(tmpdir(), 'cj-no-cloud-')), ...env },
    cwd: options.cwd ?? process.cwd(),
    out: () => stdout,
    err: () => stderr,
  };
}
