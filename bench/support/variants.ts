/**
 * Variant arms of a simulation benchmark: the shipped configuration with a few settings changed,
 * given on the command line as `NAME=VALUE[,NAME=VALUE…]` and checked against the config's own
 * ranges (docs/config.md), so a typo or an out-of-range value stops the run before it starts.
 */
import { UsageError } from '#cli/errors.ts';
import { ConfigError, type ConfigName, parseConfigAssignment } from '#domain/config.ts';

export interface Variant {
  /** The text it was given as, to label its figures. */
  label: string;
  overrides: Partial<Record<ConfigName, unknown>>;
}

/**
 * Parses the `NAME=VALUE[,NAME=VALUE…]` of a `--variant` (`raw` is the whole flag value, for the
 * message); a bad, empty or repeated assignment is a UsageError naming `--variant` and the setting.
 */
export function parseOverrides(
  assignments: string,
  raw = assignments,
): Partial<Record<ConfigName, unknown>> {
  const overrides: Partial<Record<ConfigName, unknown>> = {};
  const parts = assignments.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) {
    throw new UsageError('--variant', `expected NAME=VALUE[,NAME=VALUE...], got "${raw}"`);
  }
  for (const assignment of parts) {
    try {
      const [name, value] = parseConfigAssignment(assignment);
      if (Object.hasOwn(overrides, name)) {
        throw new UsageError('--variant', `${name} is set twice in "${raw}"`);
      }
      overrides[name] = value;
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError('--variant', error.message);
      throw error;
    }
  }
  return overrides;
}

/** One `--variant NAME=VALUE[,…]`, labelled by its assignments. */
export function parseVariant(raw: string): Variant {
  const overrides = parseOverrides(raw);
  return {
    label: raw
      .split(',')
      .map((part) => part.trim())
      .join(','),
    overrides,
  };
}
