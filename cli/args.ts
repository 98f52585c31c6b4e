/**
 * The one flag parser of the repo (the `cj` commands, `npm run sim` and the benchmarks): Node's
 * `util.parseArgs` tokenizes, and this layer types the values and names the flag in every error.
 * Every flag must be declared; a value is `--flag value` or `--flag=value`.
 */
import { parseArgs as tokenize } from 'node:util';
import { UsageError } from './errors.ts';

export type FlagType = 'string' | 'number' | 'boolean';

export interface FlagSpec {
  readonly type: FlagType;
  /** May be given several times; the value is then an array. */
  readonly multiple?: boolean;
  readonly description: string;
  /** Shown in help as `--flag <valueName>`. */
  readonly valueName?: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export interface ParsedArgs {
  readonly positionals: string[];
  readonly flags: Readonly<Record<string, string | number | boolean | string[] | number[]>>;
}

function parseNumber(flag: string, raw: string): number {
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value)) {
    throw new UsageError(`--${flag}`, `expected a number, got "${raw}"`);
  }
  return value;
}

export function parseArgs(argv: readonly string[], specs: FlagSpecs): ParsedArgs {
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      { type: spec.type === 'boolean' ? ('boolean' as const) : ('string' as const) },
    ]),
  );
  // Not strict: unknown flags and missing values come back as tokens, so the errors below can
  // name the flag in the CLI's own words.
  const { tokens } = tokenize({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const positionals: string[] = [];
  const flags: Record<string, string | number | boolean | string[] | number[]> = {};
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const { name } = token;
    const spec = specs[name];
    if (!spec || token.rawName !== `--${name}`) {
      throw new UsageError(token.rawName, 'unknown flag (see --help)');
    }
    let value: string | number | boolean;
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`--${name}`, 'takes no value');
      value = true;
    } else {
      if (token.value === undefined) {
        throw new UsageError(
          `--${name}`,
          `missing value (expected ${spec.valueName ?? spec.type})`,
        );
      }
      value = spec.type === 'number' ? parseNumber(name, token.value) : token.value;
    }
    if (spec.multiple) {
      const list = (flags[name] as (string | number)[] | undefined) ?? [];
      list.push(value as string | number);
      flags[name] = list as string[] | number[];
    } else if (Object.hasOwn(flags, name)) {
      throw new UsageError(`--${name}`, 'given more than once');
    } else {
      flags[name] = value;
    }
  }
  return { positionals, flags };
}

/** Renders the flag table of a command's help text. */
export function formatFlags(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const value = spec.type === 'boolean' ? '' : ` <${spec.valueName ?? spec.type}>`;
    const repeat = spec.multiple ? ' (repeatable)' : '';
    return [`  --${name}${value}`, `${spec.description}${repeat}`] as const;
  });
  const width = Math.max(0, ...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => left.padEnd(width) + right).join('\n');
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags[name];
  return typeof value === 'string' ? value : undefined;
}

export function numberFlag(args: ParsedArgs, name: string): number | undefined {
  const value = args.flags[name];
  return typeof value === 'number' ? value : undefined;
}

export function booleanFlag(args: ParsedArgs, name: string): boolean {
  return args.flags[name] === true;
}

export function stringListFlag(args: ParsedArgs, name: string): string[] {
  const value = args.flags[name];
  return Array.isArray(value) ? value.map(String) : [];
}

/**
 * A number flag that must satisfy `check` (e.g. an integer ≥ 2); `want` says what it expects in
 * the error. Undefined when the flag was not given.
 */
export function checkedNumberFlag(
  args: ParsedArgs,
  name: string,
  check: (value: number) => boolean,
  want: string,
): number | undefined {
  const value = numberFlag(args, name);
  if (value !== undefined && !check(value)) {
    throw new UsageError(`--${name}`, `expected ${want}, got ${value}`);
  }
  return value;
}

/** A string flag limited to `choices`; undefined when the flag was not given. */
export function choiceFlag<const C extends string>(
  args: ParsedArgs,
  name: string,
  choices: readonly C[],
): C | undefined {
  const value = stringFlag(args, name);
  if (value !== undefined && !(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${name}`, `expected one of ${choices.join(', ')}, got "${value}"`);
  }
  return value as C | undefined;
}
