/**
 * Factories for the infra tests: a synthesized CjEngine stack (bundling skipped unless asked) and
 * small lookups over its template (resources by type, a function's policy statements).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { resolveSettings } from '#infra/settings.ts';
import { CjEngineStack, stackName } from '#infra/stack.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Entry used when a test does not bundle: the real handlers are not needed to check wiring. */
export const STAND_IN_ENTRY = path.join(PROJECT_ROOT, 'test/infra/fixtures/handler.ts');
/**
 * How many Lambda functions the stack must have: one per handler folder under lambdas/. Counted
 * from the source tree so a new function is checked (bundle, root, error alarm) without editing
 * every count.
 */
export const HANDLER_COUNT = readdirSync(path.join(PROJECT_ROOT, 'lambdas'), {
  withFileTypes: true,
}).filter((entry) => entry.isDirectory()).length;

export interface TestStackOptions {
  /** Context values as `cdk -c NAME=VALUE` would give them. */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Bundle the real handlers under lambdas/ with esbuild (slow); default false. */
  readonly bundle?: boolean;
}

export interface TestStack {
  readonly app: App;
  readonly stack: CjEngineStack;
  readonly template: Template;
}

export function buildTestStack(options: TestStackOptions = {}): TestStack {
  const context = { stage: 'test', ...options.context };
  const app = new App({
    context: options.bundle ? context : { ...context, 'aws:cdk:bundling-stacks': [] },
  });
  const settings = resolveSettings((name) => app.node.tryGetContext(name));
  const stack = new CjEngineStack(app, stackName(settings.stage), {
    settings,
    projectRoot: PROJECT_ROOT,
    ...(options.bundle ? {} : { handlerEntry: () => STAND_IN_ENTRY }),
  });
  return { app, stack, template: Template.fromStack(stack) };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

export function resourcesOfType(
  template: Template,
  type: string,
): Array<[string, Record<string, unknown>]> {
  const resources = template.toJSON().Resources as Resources;
  return Object.entries(resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([logicalId, resource]) => [logicalId, resource.Properties ?? {}]);
}

export interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

export function actionsOf(statement: PolicyStatementJson): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Logical id of the deployed function named `<stack>-<name>`. */
export function functionLogicalId(template: Template, stackPrefix: string, name: string): string {
  const match = resourcesOfType(template, 'AWS::Lambda::Function').find(
    ([, props]) => props.FunctionName === `${stackPrefix}-${name}`,
  );
  if (!match) throw new Error(`no function ${stackPrefix}-${name} in the template`);
  return match[0];
}

/** Every IAM statement attached to the execution role of function `name`. */
export function statementsOfFunction(
  template: Template,
  stackPrefix: string,
  name: string,
): PolicyStatementJson[] {
  const resources = template.toJSON().Resources as Resources;
  const fnProps = resources[functionLogicalId(template, stackPrefix, name)]?.Properties ?? {};
  const roleRef = fnProps.Role as { 'Fn::GetAtt': [string, string] };
  const roleId = roleRef['Fn::GetAtt'][0];
  return resourcesOfType(template, 'AWS::IAM::Policy')
    .filter(([, props]) =>
      (props.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleId),
    )
    .flatMap(
      ([, props]) => (props.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement,
    );
}

export function allowedActionsOfFunction(
  template: Template,
  stackPrefix: string,
  name: string,
): Set<string> {
  return new Set(
    statementsOfFunction(template, stackPrefix, name)
      .filter((statement) => statement.Effect === 'Allow')
      .flatMap(actionsOf),
  );
}

/** Synthesis takes seconds on a busy machine: hooks that build a stack get this much time. */
export const SYNTH_TIMEOUT_MS = 120_000;

export interface DashboardWidgetJson {
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  properties: {
    title?: string;
    query?: string;
    metrics?: unknown[][];
    view?: string;
  };
}

/** The dashboard body as JSON, with CloudFormation references replaced by `TOKEN`. */
export function dashboardWidgets(template: Template): DashboardWidgetJson[] {
  const [[, props] = ['', {}]] = resourcesOfType(template, 'AWS::CloudWatch::Dashboard');
  const body = props.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const text =
    typeof body === 'string'
      ? body
      : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  return (JSON.parse(text) as { widgets: DashboardWidgetJson[] }).widgets;
}
