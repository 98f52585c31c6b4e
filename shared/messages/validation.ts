/** Turns zod errors into the API's 400 body: `{ error, field, message }` naming the first bad field. */
import type { z } from 'zod';
import { ConfigError } from '#domain/config.ts';

export interface ValidationErrorBody {
  error: 'validation_error';
  /** Path of the offending field, e.g. `essays[3].text`; empty for the message as a whole. */
  field: string;
  message: string;
}

/** `['essays', 3, 'text']` → `essays[3].text`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

export function toValidationError(error: z.ZodError | ConfigError): ValidationErrorBody {
  if (error instanceof ConfigError) {
    return { error: 'validation_error', field: `config.${error.field}`, message: error.message };
  }
  const issue = error.issues[0];
  return {
    error: 'validation_error',
    field: issue ? formatPath(issue.path) : '',
    message: issue?.message ?? 'invalid input',
  };
}

/** Every issue, for logs (paths and messages only — never the offending values). */
export function describeIssues(error: z.ZodError): Array<{ field: string; message: string }> {
  return error.issues.map((issue) => ({ field: formatPath(issue.path), message: issue.message }));
}
