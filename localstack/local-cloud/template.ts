/**
 * Reads a synthesized CloudFormation template and resolves its intrinsic functions to the local
 * cloud's physical names, URLs and ARNs. Physical identities are deterministic (explicit names, or
 * `<stack>-<logicalId>`), so everything resolves in one pass before any resource exists.
 */
import { readFileSync } from 'node:fs';

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
}

export interface Template {
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, { Value: unknown; Description?: string }>;
  Parameters?: Record<string, { Default?: unknown }>;
  Conditions?: Record<string, unknown>;
}

export function readTemplate(path: string): Template {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Template>;
  if (!parsed.Resources || typeof parsed.Resources !== 'object') {
    throw new Error(`${path} is not a CloudFormation template (no Resources)`);
  }
  return parsed as Template;
}

export function resourcesOfType(
  template: Template,
  type: string,
): Array<[logicalId: string, resource: TemplateResource]> {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** What `Ref` and `Fn::GetAtt` return for one resource. */
export interface PhysicalResource {
  ref: string;
  attributes: Record<string, string>;
}

export interface LocalContext {
  stackName: string;
  region: string;
  accountId: string;
  /** moto_server's base URL: queue URLs are `<endpoint>/<account>/<name>`. */
  endpoint: string;
  /** Base URL of the local HTTP API (`ApiEndpoint` of every HTTP API). */
  apiEndpoint: string;
}

const NO_VALUE = Symbol('AWS::NoValue');

export class TemplateResolutionError extends Error {
  override name = 'TemplateResolutionError';
}

/** Resolves intrinsic functions against the physical resources and pseudo parameters. */
export class TemplateResolver {
  private readonly physical = new Map<string, PhysicalResource>();
  private readonly identifying = new Set<string>();

  constructor(
    readonly template: Template,
    readonly context: LocalContext,
  ) {}

  /** Local identity of a resource, computed on first use (a name may refer to another resource). */
  physicalOf(logicalId: string): PhysicalResource | undefined {
    const known = this.physical.get(logicalId);
    if (known) return known;
    const resource = this.template.Resources[logicalId];
    if (!resource) return undefined;
    if (this.identifying.has(logicalId)) {
      throw new TemplateResolutionError(`${logicalId} names itself through a reference cycle`);
    }
    this.identifying.add(logicalId);
    try {
      const identity = this.identify(logicalId, resource);
      this.physical.set(logicalId, identity);
      return identity;
    } finally {
      this.identifying.delete(logicalId);
    }
  }

  /** The resolved `Properties` of a resource (empty when it has none). */
  properties(logicalId: string): Record<string, unknown> {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new TemplateResolutionError(`no resource ${logicalId}`);
    return (this.resolve(resource.Properties ?? {}) as Record<string, unknown>) ?? {};
  }

  ref(logicalId: string): string {
    const found = this.physicalOf(logicalId);
    if (!found) throw new TemplateResolutionError(`Ref to unknown resource ${logicalId}`);
    return found.ref;
  }

  getAtt(logicalId: string, attribute: string): string {
    const found = this.physicalOf(logicalId);
    if (!found) throw new TemplateResolutionError(`Fn::GetAtt of unknown resource ${logicalId}`);
    const value = found.attributes[attribute];
    if (value === undefined) {
      throw new TemplateResolutionError(
        `Fn::GetAtt ${logicalId}.${attribute} is not known locally (${this.template.Resources[logicalId]?.Type})`,
      );
    }
    return value;
  }

  /** The logical id a `Ref`/`Fn::GetAtt` value points at, if the value is one of those. */
  static referencedId(value: unknown): string | undefined {
    if (!isObject(value)) return undefined;
    if (typeof value.Ref === 'string') return value.Ref;
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
    if (typeof getAtt === 'string') return getAtt.split('.')[0];
    return undefined;
  }

  resolve(value: unknown): unknown {
    const resolved = this.resolveValue(value);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  resolveString(value: unknown, what: string): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string' && typeof resolved !== 'number') {
      throw new TemplateResolutionError(`${what} did not resolve to a string`);
    }
    return String(resolved);
  }

  private resolveValue(value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map((item) => this.resolveValue(item)).filter((item) => item !== NO_VALUE);
    }
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    const only = keys.length === 1 ? keys[0] : undefined;
    if (only === 'Ref') return this.resolveRef(value.Ref);
    if (only?.startsWith('Fn::') || only === 'Condition')
      return this.resolveFunction(only, value[only]);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const resolved = this.resolveValue(value[key]);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private resolveRef(name: unknown): unknown {
    if (typeof name !== 'string') throw new TemplateResolutionError('Ref needs a name');
    const pseudo = this.pseudoParameter(name);
    if (pseudo !== undefined) return pseudo;
    const parameter = this.template.Parameters?.[name];
    if (parameter) return parameter.Default ?? '';
    return this.ref(name);
  }

  private pseudoParameter(name: string): string | typeof NO_VALUE | undefined {
    const { region, accountId, stackName } = this.context;
    switch (name) {
      case 'AWS::Region':
        return region;
      case 'AWS::AccountId':
        return accountId;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${region}:${accountId}:stack/${stackName}/local`;
      case 'AWS::NoValue':
        return NO_VALUE;
      case 'AWS::NotificationARNs':
        return '';
      default:
        return undefined;
    }
  }

  private resolveFunction(name: string, args: unknown): unknown {
    switch (name) {
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(args)
          ? [args[0], args[1]]
          : String(args).split(/\.(.*)/s);
        return this.getAtt(
          String(logicalId),
          this.resolveString(attribute, 'Fn::GetAtt attribute'),
        );
      }
      case 'Fn::Join': {
        const [separator, parts] = asArray(args, 2, name);
        const items = this.resolveValue(parts);
        if (!Array.isArray(items)) throw new TemplateResolutionError('Fn::Join needs a list');
        return items.map((item) => scalarText(item, name)).join(String(separator));
      }
      case 'Fn::Sub':
        return this.resolveSub(args);
      case 'Fn::Select': {
        const [index, list] = asArray(args, 2, name);
        const items = this.resolveValue(list);
        const position = Number(this.resolveValue(index));
        if (!Array.isArray(items) || !(position in items)) {
          throw new TemplateResolutionError(`Fn::Select index ${position} out of range`);
        }
        return items[position];
      }
      case 'Fn::Split': {
        const [separator, source] = asArray(args, 2, name);
        return this.resolveString(source, name).split(String(separator));
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = asArray(args, 3, name);
        return this.resolveValue(this.condition(String(condition)) ? whenTrue : whenFalse);
      }
      case 'Fn::Equals': {
        const [left, right] = asArray(args, 2, name);
        return JSON.stringify(this.resolve(left)) === JSON.stringify(this.resolve(right));
      }
      case 'Fn::Not':
        return !this.truthy(asArray(args, 1, name)[0]);
      case 'Fn::And':
        return (args as unknown[]).every((item) => this.truthy(item));
      case 'Fn::Or':
        return (args as unknown[]).some((item) => this.truthy(item));
      case 'Condition':
        return this.condition(String(args));
      case 'Fn::Base64':
        return Buffer.from(this.resolveString(args, name)).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.context.region}${zone}`);
      default:
        throw new TemplateResolutionError(`${name} is not supported by the local cloud`);
    }
  }

  private truthy(value: unknown): boolean {
    return this.resolve(value) === true;
  }

  private condition(name: string): boolean {
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new TemplateResolutionError(`unknown condition ${name}`);
    return this.truthy(definition);
  }

  private resolveSub(args: unknown): string {
    const [text, variables] = Array.isArray(args) ? [args[0], args[1]] : [args, {}];
    const locals = (this.resolve(variables) ?? {}) as Record<string, unknown>;
    return String(text).replace(/\$\{([^}]+)\}/g, (whole, expression: string) => {
      if (expression.startsWith('!')) return `\${${expression.slice(1)}}`;
      if (expression in locals) return scalarText(locals[expression], 'Fn::Sub');
      const [logicalId, attribute] = expression.split(/\.(.*)/s);
      if (attribute) return this.getAtt(logicalId ?? '', attribute);
      const resolved = this.resolveRef(expression);
      if (resolved === NO_VALUE) return '';
      return scalarText(resolved, `Fn::Sub ${whole}`);
    });
  }

  /** Local name, `Ref` value and attributes of one resource, by type. */
  private identify(logicalId: string, resource: TemplateResource): PhysicalResource {
    const { region, accountId, stackName, endpoint, apiEndpoint } = this.context;
    const props = resource.Properties ?? {};
    const explicit = (key: string): string | undefined =>
      props[key] === undefined ? undefined : this.resolveString(props[key], `${logicalId}.${key}`);
    const generated = `${stackName}-${logicalId}`;
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable': {
        const name = explicit('TableName') ?? generated;
        const arn = `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
        return { ref: name, attributes: { Arn: arn, StreamArn: `${arn}/stream/local` } };
      }
      case 'AWS::SQS::Queue': {
        const fifo = props.FifoQueue === true || props.FifoQueue === 'true';
        const name =
          explicit('QueueName') ?? `${generated.slice(0, fifo ? 75 : 80)}${fifo ? '.fifo' : ''}`;
        const url = `${endpoint}/${accountId}/${name}`;
        const arn = `arn:aws:sqs:${region}:${accountId}:${name}`;
        return { ref: url, attributes: { Arn: arn, QueueName: name, QueueUrl: url } };
      }
      case 'AWS::Events::EventBus': {
        const name = explicit('Name') ?? generated;
        const arn = `arn:aws:events:${region}:${accountId}:event-bus/${name}`;
        return { ref: name, attributes: { Arn: arn, Name: name } };
      }
      case 'AWS::Events::Rule': {
        const name = explicit('Name') ?? generated.slice(0, 64);
        return {
          ref: name,
          attributes: { Arn: `arn:aws:events:${region}:${accountId}:rule/${name}` },
        };
      }
      case 'AWS::Lambda::Function': {
        const name = explicit('FunctionName') ?? generated.slice(0, 64);
        return {
          ref: name,
          attributes: { Arn: `arn:aws:lambda:${region}:${accountId}:function:${name}` },
        };
      }
      case 'AWS::Logs::LogGroup': {
        const name = explicit('LogGroupName') ?? `/local/${generated}`;
        return {
          ref: name,
          attributes: { Arn: `arn:aws:logs:${region}:${accountId}:log-group:${name}:*` },
        };
      }
      case 'AWS::ApiGatewayV2::Api':
        return { ref: 'local', attributes: { ApiEndpoint: apiEndpoint, ApiId: 'local' } };
      case 'AWS::ApiGatewayV2::Stage':
        return { ref: explicit('StageName') ?? '$default', attributes: {} };
      case 'AWS::CloudWatch::Dashboard':
        return { ref: explicit('DashboardName') ?? generated, attributes: {} };
      case 'AWS::IAM::Role': {
        // CloudFormation names an unnamed role `<stack>-<logicalId>-<random>`; locally it is stable.
        const name = explicit('RoleName') ?? generated.slice(0, 64);
        const path = explicit('Path') ?? '/';
        return {
          ref: name,
          attributes: { Arn: `arn:aws:iam::${accountId}:role${path}${name}`, RoleId: name },
        };
      }
      case 'AWS::IAM::ManagedPolicy': {
        const name = explicit('ManagedPolicyName') ?? generated.slice(0, 128);
        const arn = `arn:aws:iam::${accountId}:policy${explicit('Path') ?? '/'}${name}`;
        return { ref: arn, attributes: { PolicyArn: arn } };
      }
      case 'AWS::CloudWatch::Alarm':
        return {
          ref: logicalId,
          attributes: { Arn: `arn:aws:cloudwatch:${region}:${accountId}:alarm:${logicalId}` },
        };
      case 'AWS::SNS::Topic': {
        const name = explicit('TopicName') ?? generated;
        const arn = `arn:aws:sns:${region}:${accountId}:${name}`;
        return { ref: arn, attributes: { TopicArn: arn, TopicName: name } };
      }
      default:
        return { ref: logicalId, attributes: {} };
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(args: unknown, length: number, name: string): unknown[] {
  if (!Array.isArray(args) || args.length < length) {
    throw new TemplateResolutionError(`${name} needs ${length} arguments`);
  }
  return args;
}

function scalarText(value: unknown, where: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  throw new TemplateResolutionError(`${where}: expected a scalar, got ${JSON.stringify(value)}`);
}
