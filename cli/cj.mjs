#!/usr/bin/env node
// Bin shim: the CLI is TypeScript, run through tsx's ESM loader (no build step).
import { register } from 'tsx/esm/api';

register();
const { main, processIo } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2), processIo());
