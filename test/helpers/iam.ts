/**
 * Factories for the IAM tests of the local cloud: a synthesized template with one grant taken
 * away, a function's log lines that mention a text, and SDK clients signed with given keys.
 */
import { readFileSync } from 'node:fs';
import type { Template } from '#localstack/local-cloud/template.ts';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/**
 * A copy of `template` in which the execution role of function `<stackName>-<name>` no longer has
 * `action`; throws when the role never had it (so a test cannot pass by removing nothing).
 */
export function templateWithoutGrant(
  template: Template,
  stackName: string,
  name: string,
  action: string,
): Template {
  const copy = structuredClone(template);
  const fn = Object.values(copy.Resources).find(
    (resource) =>
      resource.Type === 'AWS::Lambda::Function' &&
      resource.Properties?.FunctionName === `${stackName}-${name}`,
  );
  const roleId = (fn?.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined)?.[
    'Fn::GetAtt'
  ]?.[0];
  if (!roleId) throw new Error(`no function ${stackName}-${name} with a role in the template`);
  let removed = 0;
  for (const resource of Object.values(copy.Resources)) {
    const props = resource.Properties ?? {};
    const roles = (props.Roles as Array<{ Ref?: string }> | undefined) ?? [];
    if (resource.Type !== 'AWS::IAM::Policy' || !roles.some((role) => role.Ref === roleId)) {
      continue;
    }
    const document = props.PolicyDocument as { Statement: Statement[] };
    document.Statement = document.Statement.flatMap((statement) => {
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      const kept = actions.filter((candidate) => candidate !== action);
      removed += actions.length - kept.length;
      return kept.length === 0 ? [] : [{ ...statement, Action: kept }];
    });
  }
  if (removed === 0) throw new Error(`the role of ${name} has no ${action} to remove`);
  return copy;
}

/** Lines of a JSON-lines log file that contain `text` (none when the file does not exist). */
export function logLinesContaining(file: string, text: string): string[] {
  let content = '';
  try {
    content = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return content.split('\n').filter((line) => line.includes(text));
}
