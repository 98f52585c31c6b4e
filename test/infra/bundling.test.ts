import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildTestStack,
  HANDLER_COUNT,
  resourcesOfType,
  SYNTH_TIMEOUT_MS,
} from '#test/helpers/cdk-stack.ts';

/** The one test that bundles the real handlers (esbuild, locally), as `cdk synth` does. */
let bundles: Array<{ functionName: string; directory: string }>;
beforeAll(() => {
  const { app, template } = buildTestStack({ bundle: true });
  const outdir = app.synth().directory;
  bundles = resourcesOfType(template, 'AWS::Lambda::Function').map(([, props]) => {
    const key = String((props.Code as { S3Key: unknown }).S3Key);
    return {
      functionName: String(props.FunctionName),
      directory: path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`),
    };
  });
}, SYNTH_TIMEOUT_MS * 3);

describe('handler bundles', () => {
  it('are ESM modules with a require shim and a source map, one per function', () => {
    // Prepare
    const expectedCount = HANDLER_COUNT;

    // Act
    const files = bundles.map(({ directory }) => ({
      code: path.join(directory, 'index.mjs'),
      map: path.join(directory, 'index.mjs.map'),
    }));

    // Assess
    expect(bundles).toHaveLength(expectedCount);
    for (const file of files) {
      expect(existsSync(file.code), file.code).toBe(true);
      expect(existsSync(file.map), file.map).toBe(true);
      const code = readFileSync(file.code, 'utf8');
      expect(code.startsWith("import { createRequire } from 'module';")).toBe(true);
    }
  });

  it('export `handler` and carry the AWS SDK inside instead of importing it', () => {
    // Prepare
    const codes = bundles.map(({ directory, functionName }) => ({
      functionName,
      code: readFileSync(path.join(directory, 'index.mjs'), 'utf8'),
    }));

    // Act
    const offenders = codes.filter(
      ({ code }) =>
        !/export\s*\{[^}]*\bas handler\b[^}]*\}|export\s*\{[^}]*\bhandler\b[^}]*\}/.test(code) ||
        /from\s*["']@aws-sdk\//.test(code),
    );

    // Assess
    expect(offenders.map(({ functionName }) => functionName)).toEqual([]);
  });
});
