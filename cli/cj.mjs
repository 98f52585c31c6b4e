#!/usr/bin/env node
// Bin shim: the CLI is TypeScript, run through tsx's ESM loader (no build step). It runs on Node 22,
// Lambda's runtime major, from the `node` dependency: `cj demo --own-cloud` hosts the functions in
// this process, and one Node for everything the project runs keeps "passes here" meaning "passes
// on Lambda". Started by another Node (the system's 20, say), it re-runs itself on that one.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PROJECT_NODE = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
const PROJECT_NODE_MAJOR = '22';

if (process.versions.node.split('.')[0] !== PROJECT_NODE_MAJOR && existsSync(PROJECT_NODE)) {
  const child = spawn(PROJECT_NODE, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  // Ctrl-C reaches both processes (one process group): the child stops what it started, this one
  // waits for it and exits as it did.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {});
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal === 'SIGINT' ? 130 : 143);
  });
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main, processIo } = await import('./main.ts');
  process.exitCode = await main(process.argv.slice(2), processIo());
}
