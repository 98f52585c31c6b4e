/**
 * The Node.js the local cloud runs functions on: Lambda's runtime major (`nodejs22.x`), provided by
 * the npm package `node` (an ordinary dependency, so `npm ci` installs it; no system Node 22 needed).
 * The daemon runs under this binary, and a function's worker threads run in the daemon, so every
 * handler sees the `process.version` it sees in AWS.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The template's `Runtime` of a Node.js function → its major version (`nodejs22.x` → 22). */
export function runtimeNodeMajor(runtime: string): number | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(runtime);
  return match ? Number(match[1]) : undefined;
}

export function nodeMajor(version: string = process.version): number {
  return Number(version.replace(/^v/, '').split('.')[0]);
}

/** Absolute path of the `node` dependency's binary (throws with the fix when it is missing). */
export function lambdaNodeBinary(): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('node/package.json');
  } catch {
    throw new Error(
      'the npm package `node` (Node 22, Lambda’s runtime) is not installed: run `npm ci`',
    );
  }
  const binary = join(dirname(packageJson), 'bin', 'node');
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing (its install script did not run): run \`npm ci\``);
  }
  return binary;
}

/**
 * Refuses to run functions on another Node major than their template runtime: a handler that
 * passes here on Node 20 could still fail on Lambda's Node 22 (and the reverse).
 */
export function assertFunctionRuntime(
  functions: ReadonlyArray<{ name: string; runtime: string }>,
  version: string = process.version,
): void {
  for (const fn of functions) {
    const wanted = runtimeNodeMajor(fn.runtime);
    if (wanted !== undefined && wanted !== nodeMajor(version)) {
      throw new Error(
        `${fn.name} runs on ${fn.runtime} in AWS but this process is Node ${version}: start the local cloud with \`cj local start\` or \`npm start\`, which use Node ${wanted} from the \`node\` dependency`,
      );
    }
  }
}
