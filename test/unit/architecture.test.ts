import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every .ts file under `dir`, recursively. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Module specifiers a file imports (static and dynamic). */
function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)];
  return specifiers.map((match) => match[1] as string);
}

describe('architecture boundaries', () => {
  it('keeps runtime code (handlers and shared/) free of aws-cdk-lib and constructs', () => {
    // Prepare
    const files = [...sourceFiles('lambdas'), ...sourceFiles('shared')];

    // Act
    const offenders = files.filter((file) =>
      importsOf(file).some((spec) => spec.startsWith('aws-cdk-lib') || spec === 'constructs'),
    );

    // Assess
    expect(files.length).toBeGreaterThan(20);
    expect(offenders).toEqual([]);
  });

  it('keeps infra free of runtime code, except the pure config module it shares defaults with', () => {
    // Prepare
    const files = sourceFiles('infra');

    // Act
    const runtimeImports = files.flatMap((file) =>
      importsOf(file)
        .filter((spec) => spec.startsWith('#') && spec !== '#domain/config.ts')
        .map((spec) => `${file}: ${spec}`),
    );

    // Assess
    expect(files.length).toBeGreaterThan(3);
    expect(runtimeImports).toEqual([]);
  });

  it('keeps the pure domain free of AWS SDK imports', () => {
    // Prepare
    const files = sourceFiles('shared/domain');

    // Act
    const offenders = files.filter((file) =>
      importsOf(file).some(
        (spec) => spec.startsWith('@aws-sdk/') || spec.startsWith('@aws-lambda'),
      ),
    );

    // Assess
    expect(offenders).toEqual([]);
  });

  it('keeps DynamoDB transactions inside shared/store', () => {
    // Prepare
    const files = [...sourceFiles('lambdas'), ...sourceFiles('shared')].filter(
      (file) => !file.startsWith(join('shared', 'store')),
    );

    // Act
    const offenders = files.filter((file) =>
      /TransactWriteCommand|TransactWriteItemsCommand/.test(readFileSync(file, 'utf8')),
    );

    // Assess
    expect(offenders).toEqual([]);
  });
});
