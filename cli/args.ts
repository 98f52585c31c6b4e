/**
 * A small, strict argument parser: every flag must be declared, values are typed, and every error
 * names the flag. Kept dependency-free so each command declares its flags next to its code.
 */
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
  const positionals: string[] = [];
  const flags: Record<string, string | number | boolean | string[] | number[]> = {};
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (onlyPositionals || !token.startsWith('--') || token === '-') {
      positionals.push(token);
      continue;
    }
    if (token === '--') {
      onlyPositionals = true;
      continue;
    }
    const eq = token.indexOf('=');
    const name = eq === -1 ? token.slice(2) : token.slice(2, eq);
    const spec = specs[name];
    if (!spec) {
      throw new UsageError(`--${name}`, 'unknown flag (see --help)');
    }
    let value: string | number | boolean;
    if (spec.type === 'boolean') {
      if (eq !== -1) {
        throw new UsageError(`--${name}`, 'takes no value');
      }
      value = true;
    } else {
      let raw: string | undefined;
      if (eq !== -1) {
        raw = token.slice(eq + 1);
      } else {
        raw = argv[i + 1];
        i++;
      }
      if (raw === undefined) {
        throw new UsageError(
          `--${name}`,
          `missing value (expected ${spec.valueName ?? spec.type})`,
        );
      }
      value = spec.type === 'number' ? parseNumber(name, raw) : raw;
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
