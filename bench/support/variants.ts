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

/** Parses one `--variant` value; a bad assignment is a UsageError naming `flag` and the setting. */
export function parseVariant(raw: string, flag = '--variant'): Variant {
  const overrides: Partial<Record<ConfigName, unknown>> = {};
  const assignments = raw.split(',').map((part) => part.trim());
  if (assignments.some((part) => part === '')) {
    throw new UsageError(flag, `expected NAME=VALUE[,NAME=VALUE...], got "${raw}"`);
  }
  for (const assignment of assignments) {
    try {
      const [name, value] = parseConfigAssignment(assignment);
      if (Object.hasOwn(overrides, name)) {
        throw new UsageError(flag, `${name} is set twice in "${raw}"`);
      }
      overrides[name] = value;
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(flag, error.message);
      throw error;
    }
  }
  return { label: assignments.join(','), overrides };
}
