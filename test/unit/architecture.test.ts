import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildImportGraph, cycles, folderEdges, folderOf } from '#test/helpers/import-graph.ts';

const graph = buildImportGraph();
/** One folder per function under lambdas/, each with its handler.ts. */
const handlerFolders = readdirSync(new URL('../../lambdas', import.meta.url), {
  withFileTypes: true,
}).filter((entry) => entry.isDirectory());

function filesUnder(...dirs: string[]): string[] {
  return graph.files.filter((file) => dirs.some((dir) => file.startsWith(join(dir, ''))));
}

/** `from → to` file imports where `from` is under `fromDir` and `to` under `toDir`. */
function importsBetween(fromDir: string, toDir: string): string[] {
  return filesUnder(fromDir).flatMap((file) =>
    graph
      .importsOf(file)
      .filter((edge) => edge.file?.startsWith(join(toDir, '')))
      .map((edge) => `${file} → ${edge.file}`),
  );
}

/** Infra's only runtime imports: the pure config module and the table's key schema. */
const INFRA_MAY_IMPORT = [
  join('shared', 'domain', 'config.ts'),
  join('shared', 'store', 'table-schema.ts'),
];

describe('architecture boundaries', () => {
  it('reads the whole tree, type-only imports and aliases included', () => {
    // Prepare
    const ports = join('shared', 'workflow', 'ports.ts');

    // Act
    const portImports = graph.importsOf(ports).map((edge) => edge.specifier);

    // Assess: ports.ts has only `import type` lines, all through aliases.
    expect(graph.files.length).toBeGreaterThan(200);
    expect(portImports.length).toBeGreaterThan(3);
    expect(graph.importsOf(ports).every((edge) => edge.file !== undefined)).toBe(true);
  });

  it('has no import cycle between files', () => {
    // Act
    const found = cycles(graph.files, (file) =>
      graph.importsOf(file).flatMap((edge) => (edge.file ? [edge.file] : [])),
    );

    // Assess
    expect(found).toEqual([]);
  });

  it('has no import cycle between folders (shared/<folder>, cli, infra, localstack, lambdas, bench)', () => {
    // Prepare
    const edges = folderEdges(graph);
    const folders = [...new Set(graph.files.map(folderOf))];

    // Act
    const found = cycles(folders, (folder) => [...(edges.get(folder)?.keys() ?? [])]);
    const witnesses = found.flatMap((cycle) =>
      cycle.flatMap((from) => cycle.flatMap((to) => (edges.get(from)?.get(to) ?? []).slice(0, 2))),
    );

    // Assess
    expect(folders).toEqual(expect.arrayContaining(['shared/store', 'cli', 'localstack', 'bench']));
    expect(witnesses).toEqual([]);
  });

  it.each([
    ['shared/messages', 'shared/store', 'contracts never depend on the adapter that stores them'],
    ['shared/workflow', 'shared/runtime', 'the workflow never depends on its AWS wiring'],
    ['shared/workflow', 'shared/store', 'the workflow sees the store only through its port'],
    ['shared/domain', 'shared', 'the pure engine imports nothing outside shared/domain'],
    ['bench', 'test', 'benchmarks never import test code'],
    ['shared', 'cli', 'runtime code never imports the CLI'],
  ])('forbids %s → %s (%s)', (from, to) => {
    // Act
    const offenders = importsBetween(from, to).filter(
      (edge) => !(from === 'shared/domain' && edge.split(' → ')[1]?.startsWith(from)),
    );

    // Assess
    expect(offenders).toEqual([]);
  });

  it('keeps command-line parsing out of the pure domain', () => {
    // Prepare
    const cliParsing = /\bprocess\.(argv|exit)\b|\bparseArgs\b|\bargv\b|from ['"]node:util['"]/;

    // Act
    const offenders = filesUnder('shared/domain').filter((file) =>
      cliParsing.test(readFileSync(file, 'utf8')),
    );

    // Assess
    expect(offenders).toEqual([]);
  });

  it('keeps runtime code (handlers and shared/) free of aws-cdk-lib and constructs', () => {
    // Prepare
    const files = filesUnder('lambdas', 'shared');

    // Act
    const offenders = files.filter((file) =>
      graph
        .importsOf(file)
        .some(({ specifier }) => specifier.startsWith('aws-cdk-lib') || specifier === 'constructs'),
    );

    // Assess
    expect(files.length).toBeGreaterThan(20);
    expect(offenders).toEqual([]);
  });

  it('keeps infra free of runtime code, except the config module and the table key schema', () => {
    // Prepare
    const files = filesUnder('infra');

    // Act
    const runtimeImports = files.flatMap((file) =>
      graph
        .importsOf(file)
        .filter((edge) => edge.file !== undefined && !edge.file.startsWith(join('infra', '')))
        .filter((edge) => !INFRA_MAY_IMPORT.includes(edge.file as string))
        .map((edge) => `${file}: ${edge.specifier}`),
    );
    // What infra may import must itself import no repo code (so nothing else comes along).
    const transitive = INFRA_MAY_IMPORT.flatMap((file) =>
      graph
        .importsOf(file)
        .filter((edge) => edge.file !== undefined)
        .map((edge) => `${file}: ${edge.specifier}`),
    );

    // Assess
    expect(files.length).toBeGreaterThan(3);
    expect(runtimeImports).toEqual([]);
    expect(transitive).toEqual([]);
  });

  it('keeps the pure domain free of AWS SDK imports', () => {
    // Act
    const offenders = filesUnder('shared/domain').filter((file) =>
      graph
        .importsOf(file)
        .some(
          ({ specifier }) =>
            specifier.startsWith('@aws-sdk/') || specifier.startsWith('@aws-lambda'),
        ),
    );

    // Assess
    expect(offenders).toEqual([]);
  });

  it('keeps DynamoDB transactions inside shared/store', () => {
    // Prepare
    const files = filesUnder('lambdas', 'shared').filter(
      (file) => !file.startsWith(join('shared', 'store', '')),
    );

    // Act
    const offenders = files.filter((file) =>
      /TransactWriteCommand|TransactWriteItemsCommand/.test(readFileSync(file, 'utf8')),
    );

    // Assess
    expect(offenders).toEqual([]);
  });

  it('keeps handlers thin (25 lines at most) and store and workflow modules under 400 lines', () => {
    // Prepare
    const lines = (file: string) => readFileSync(file, 'utf8').trimEnd().split('\n').length;
    const handlers = graph.files.filter((file) => /^lambdas\/[^/]+\/handler\.ts$/.test(file));

    // Act
    const longHandlers = handlers.filter((file) => lines(file) > 25);
    const longModules = filesUnder('shared/store', 'shared/workflow').filter(
      (file) => lines(file) > 400,
    );

    // Assess
    expect(handlers.length).toBe(handlerFolders.length);
    expect(longHandlers).toEqual([]);
    expect(longModules).toEqual([]);
  });
});
