/**
 * Reads essays from a folder of `.txt`/`.md` files (id = file name without extension) or a JSONL
 * file of `{id, text, metadata?, anchor_grade?}` lines. Errors name the file, line and field, never essay text.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import type { EssayInput } from './api.ts';
import { UsageError } from './errors.ts';

const ESSAY_FILE_EXTENSIONS = new Set(['.txt', '.md']);

function loadFolder(dir: string): EssayInput[] {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter(
      (entry) => entry.isFile() && ESSAY_FILE_EXTENSIONS.has(extname(entry.name).toLowerCase()),
    )
    .map((entry) => entry.name)
    .sort();
  const seen = new Map<string, string>();
  return files.map((name) => {
    const id = basename(name, extname(name));
    const other = seen.get(id);
    if (other !== undefined) {
      throw new UsageError(join(dir, name), `essay id "${id}" is also given by ${other}`);
    }
    seen.set(id, name);
    return { id, text: readFileSync(join(dir, name), 'utf8') };
  });
}

function parseJsonlLine(line: string, where: string): EssayInput {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new UsageError(where, 'not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(where, 'expected an object {id, text, metadata?}');
  }
  const record = value as Record<string, unknown>;
  if (typeof record.id !== 'string' || record.id.trim() === '') {
    throw new UsageError(`${where} id`, 'expected a non-empty string');
  }
  if (typeof record.text !== 'string') {
    throw new UsageError(`${where} text`, 'expected a string');
  }
  const metadata = record.metadata;
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null)) {
    throw new UsageError(`${where} metadata`, 'expected an object');
  }
  const anchor = record.anchor_grade;
  if (anchor !== undefined && typeof anchor !== 'string') {
    throw new UsageError(`${where} anchor_grade`, 'expected a string (a grade of --grade-scale)');
  }
  // The API validates metadata values and anchor grades (and names the field when one is wrong).
  return {
    id: record.id,
    text: record.text,
    ...(metadata === undefined ? {} : { metadata: metadata as EssayInput['metadata'] }),
    ...(anchor === undefined ? {} : { anchor_grade: anchor }),
  };
}

function loadJsonl(file: string): EssayInput[] {
  const essays: EssayInput[] = [];
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    essays.push(parseJsonlLine(line, `${file}:${index + 1}`));
  });
  return essays;
}

/** Loads essays from `path` (relative to `cwd`); the argument is named in every error. */
export function loadEssays(path: string, cwd: string): EssayInput[] {
  const full = resolve(cwd, path);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(full).isDirectory();
  } catch {
    throw new UsageError(path, 'no such file or folder');
  }
  const essays = isDirectory ? loadFolder(full) : loadJsonl(full);
  if (essays.length === 0) {
    throw new UsageError(path, isDirectory ? 'no .txt or .md files' : 'no essays (empty file)');
  }
  return essays;
}
