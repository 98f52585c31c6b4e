/**
 * The repository's import graph, as the architecture test reads it: every `.ts`/`.mjs` file of the
 * source folders, every import (static, dynamic, `import type`, `export … from`) found by the
 * TypeScript pre-processor, relative paths and package.json `imports` aliases (`#domain/…`)
 * resolved to files. Package imports (`zod`, `node:fs`) are kept as bare specifiers.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import ts from 'typescript';

/** Top-level folders with source code (test included: nothing may import it). */
export const SOURCE_ROOTS = [
  'shared',
  'cli',
  'infra',
  'localstack',
  'lambdas',
  'bench',
  'scripts',
  'test',
] as const;

export interface ImportEdge {
  /** The specifier as written. */
  specifier: string;
  /** Repo-relative file it resolves to; undefined for a package import. */
  file?: string;
}

export interface ImportGraph {
  files: string[];
  importsOf(file: string): ImportEdge[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures') return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

function aliasTable(): Array<[prefix: string, target: string]> {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
    imports: Record<string, string>;
  };
  return Object.entries(pkg.imports).map(([alias, target]) => [
    alias.replace(/\*$/, ''),
    normalize(target.replace(/\*$/, '')),
  ]);
}

function resolveFile(candidate: string): string | undefined {
  for (const path of [candidate, `${candidate}.ts`, candidate.replace(/\.js$/, '.ts')]) {
    if (existsSync(path) && statSync(path).isFile()) return normalize(path);
  }
  return undefined;
}

export function buildImportGraph(): ImportGraph {
  const aliases = aliasTable();
  const files = SOURCE_ROOTS.filter((root) => existsSync(root)).flatMap(sourceFiles);
  const edges = new Map<string, ImportEdge[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    edges.set(
      file,
      importedFiles.map(({ fileName: specifier }) => {
        let target: string | undefined;
        if (specifier.startsWith('.')) target = join(dirname(file), specifier);
        const alias = aliases.find(([prefix]) => specifier.startsWith(prefix));
        if (alias) target = alias[1] + specifier.slice(alias[0].length);
        if (target === undefined) return { specifier };
        const resolved = resolveFile(target);
        if (!resolved) throw new Error(`${file}: cannot resolve import "${specifier}"`);
        return { specifier, file: resolved };
      }),
    );
  }
  return { files, importsOf: (file) => edges.get(file) ?? [] };
}

/** The folder a file belongs to for layering: `shared/<folder>`, or its top-level folder. */
export function folderOf(file: string): string {
  const [top, second] = file.split(sep);
  return top === 'shared' ? `shared/${second}` : (top as string);
}

/** Strongly connected components with more than one node, or a node importing itself. */
export function cycles(nodes: readonly string[], next: (node: string) => string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of next(node)) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node) as number, low.get(target) as number));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node) as number, index.get(target) as number));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || next(node).includes(node)) found.push(component.sort());
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return found;
}

/** Folder → folder edges, each with the file imports behind it (to name them in a failure). */
export function folderEdges(graph: ImportGraph): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  for (const file of graph.files) {
    for (const edge of graph.importsOf(file)) {
      if (!edge.file) continue;
      const from = folderOf(file);
      const to = folderOf(edge.file);
      if (from === to) continue;
      const targets = out.get(from) ?? new Map<string, string[]>();
      targets.set(to, [...(targets.get(to) ?? []), `${file} → ${edge.file}`]);
      out.set(from, targets);
    }
  }
  return out;
}
