/**
 * IAM on the local cloud, from the template: the admin the local cloud itself acts as, the
 * template's roles and policies created in moto, a stand-in for the Lambda service (the only
 * principal the roles trust), and each function's temporary credentials from sts:AssumeRole,
 * renewed before they expire. moto_server enforces the policies (moto_iam.py); nothing here grants
 * more than the template does.
 */
import {
  AttachRolePolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { resourcesOfType, type TemplateResolver } from './template.ts';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** What SDK clients of the local cloud are built with. */
export interface AwsClientConfig {
  endpoint: string;
  region: string;
  credentials: AwsCredentials | (() => Promise<AwsCredentials>);
}

export function localClientConfig(
  endpoint: string,
  region: string,
  credentials: AwsClientConfig['credentials'],
): AwsClientConfig {
  return { endpoint, region, credentials };
}

/**
 * moto_server serves this many requests before it checks credentials (its
 * INITIAL_NO_AUTH_ACTION_COUNT): the three of `bootstrapAdmin`, the local cloud's own setup.
 */
export const UNAUTHENTICATED_SETUP_REQUESTS = 3;
export const ADMIN_USER = 'cj-local-admin';
/** The principal the Lambda service is locally: it may only assume roles that trust Lambda. */
export const LAMBDA_SERVICE_USER = 'cj-local-lambda-service';
export const LAMBDA_SERVICE_PRINCIPAL = 'lambda.amazonaws.com';

type PolicyDocument = { Version?: string; Statement: Array<Record<string, unknown>> | object };

const ALLOW_ALL: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

function iamClient(endpoint: string, credentials: AwsClientConfig['credentials']): IAMClient {
  // One attempt: a retried setup request would use up moto's unauthenticated requests.
  return new IAMClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
}

async function createUserWithKey(
  iam: IAMClient,
  userName: string,
  policy: PolicyDocument,
): Promise<AwsCredentials> {
  await iam.send(new CreateUserCommand({ UserName: userName }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: userName,
      PolicyName: `${userName}-policy`,
      PolicyDocument: JSON.stringify(policy),
    }),
  );
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey) {
    throw new Error(`moto created no access key for ${userName}`);
  }
  return { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };
}

/**
 * The local cloud's admin, made with moto's unauthenticated requests (exactly
 * UNAUTHENTICATED_SETUP_REQUESTS of them); every later request needs credentials. The CLI, the
 * tests' own calls and the demo use these; functions never do.
 */
export async function bootstrapAdmin(endpoint: string): Promise<AwsCredentials> {
  const iam = iamClient(endpoint, { accessKeyId: 'bootstrap', secretAccessKey: 'bootstrap' });
  try {
    return await createUserWithKey(iam, ADMIN_USER, ALLOW_ALL);
  } finally {
    iam.destroy();
  }
}

export interface LocalRole {
  logicalId: string;
  name: string;
  arn: string;
  /** Whether the template's trust policy lets Lambda assume it. */
  trustsLambda: boolean;
}

export interface CreatedIdentities {
  roles: LocalRole[];
  /** Keys of the Lambda service stand-in (sts:AssumeRole only, on roles that trust Lambda). */
  lambdaService: AwsCredentials;
  /** Policies created: inline (role/name) and managed (ARN). */
  policies: string[];
  /**
   * Policies with a Condition: moto cannot evaluate condition keys (no request context), so
   * such a statement is not enforced as AWS would (docs/local-cloud.md, "IAM").
   */
  unevaluatedConditions: string[];
}

function statements(document: PolicyDocument): Array<Record<string, unknown>> {
  const list = document.Statement;
  return Array.isArray(list) ? list : [list as Record<string, unknown>];
}

function trustsLambda(statement: Record<string, unknown>): boolean {
  const principal = statement.Principal as { Service?: string | string[] } | undefined;
  const services = principal?.Service;
  return (
    statement.Effect === 'Allow' &&
    (Array.isArray(services) ? services : [services]).includes(LAMBDA_SERVICE_PRINCIPAL)
  );
}

/**
 * The trust policy as moto can evaluate it: `Service: lambda.amazonaws.com` becomes the Lambda
 * stand-in's ARN (moto knows no service principals); other statements stay as they are.
 */
export function localTrustPolicy(
  document: PolicyDocument,
  lambdaServiceArn: string,
): PolicyDocument {
  return {
    ...document,
    Statement: statements(document).map((statement) =>
      trustsLambda(statement) ? { ...statement, Principal: { AWS: lambdaServiceArn } } : statement,
    ),
  };
}

/** Creates the template's roles and policies in moto, resolved like every other resource. */
export async function createIdentities(
  resolver: TemplateResolver,
  config: AwsClientConfig,
): Promise<CreatedIdentities> {
  const iam = iamClient(config.endpoint, config.credentials);
  const { template, context } = resolver;
  const lambdaServiceArn = `arn:aws:iam::${context.accountId}:user/${LAMBDA_SERVICE_USER}`;
  const created: CreatedIdentities = {
    roles: [],
    lambdaService: { accessKeyId: '', secretAccessKey: '' },
    policies: [],
    unevaluatedConditions: [],
  };
  const noteConditions = (policy: string, document: unknown) => {
    if (statements(document as PolicyDocument).some((statement) => 'Condition' in statement)) {
      created.unevaluatedConditions.push(policy);
    }
  };
  try {
    created.lambdaService = await createUserWithKey(iam, LAMBDA_SERVICE_USER, {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
    });
    const inline = async (roleName: string, policyName: string, document: unknown) => {
      noteConditions(`${roleName}/${policyName}`, document);
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: roleName,
          PolicyName: policyName,
          PolicyDocument: JSON.stringify(document),
        }),
      );
      created.policies.push(`${roleName}/${policyName}`);
    };

    for (const [logicalId] of resourcesOfType(template, 'AWS::IAM::Role')) {
      const props = resolver.properties(logicalId);
      const name = resolver.ref(logicalId);
      const trust = props.AssumeRolePolicyDocument as PolicyDocument;
      await iam.send(
        new CreateRoleCommand({
          RoleName: name,
          ...(props.Path ? { Path: String(props.Path) } : {}),
          AssumeRolePolicyDocument: JSON.stringify(localTrustPolicy(trust, lambdaServiceArn)),
          ...(props.Description ? { Description: String(props.Description) } : {}),
          ...(props.MaxSessionDuration
            ? { MaxSessionDuration: Number(props.MaxSessionDuration) }
            : {}),
        }),
      );
      for (const policy of (props.Policies as Array<{
        PolicyName: string;
        PolicyDocument: unknown;
      }>) ?? []) {
        await inline(name, policy.PolicyName, policy.PolicyDocument);
      }
      created.roles.push({
        logicalId,
        name,
        arn: resolver.getAtt(logicalId, 'Arn'),
        trustsLambda: statements(trust).some(trustsLambda),
      });
    }

    for (const [logicalId] of resourcesOfType(template, 'AWS::IAM::ManagedPolicy')) {
      const props = resolver.properties(logicalId);
      const arn = resolver.ref(logicalId);
      noteConditions(arn, props.PolicyDocument);
      await iam.send(
        new CreatePolicyCommand({
          PolicyName: arn.split('/').pop(),
          ...(props.Path ? { Path: String(props.Path) } : {}),
          PolicyDocument: JSON.stringify(props.PolicyDocument),
        }),
      );
      created.policies.push(arn);
      for (const role of (props.Roles as string[] | undefined) ?? []) {
        await iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: arn }));
      }
    }

    for (const [logicalId] of resourcesOfType(template, 'AWS::IAM::Policy')) {
      const props = resolver.properties(logicalId);
      if (props.Users || props.Groups) {
        throw new Error(`${logicalId}: policies of IAM users or groups are not run locally`);
      }
      for (const role of (props.Roles as string[] | undefined) ?? []) {
        await inline(role, String(props.PolicyName), props.PolicyDocument);
      }
    }

    // Attached last: they may name the template's own managed policies.
    for (const role of created.roles) {
      const props = resolver.properties(role.logicalId);
      for (const arn of (props.ManagedPolicyArns as string[] | undefined) ?? []) {
        await iam.send(new AttachRolePolicyCommand({ RoleName: role.name, PolicyArn: arn }));
      }
    }
  } finally {
    iam.destroy();
  }
  return created;
}

export interface SessionTiming {
  /** DurationSeconds of each AssumeRole (AWS allows 900 s up to the role's maximum). */
  durationSeconds: number;
  /** Credentials are renewed this long before they expire. */
  renewBeforeSeconds: number;
}

/** After a failed renewal, try again this soon. */
const RENEW_RETRY_MS = 2_000;

/**
 * One function's temporary credentials for its execution role (session name: the function's name,
 * as Lambda names it), renewed `renewBeforeSeconds` before they expire.
 */
export class RoleSession {
  private credentials: AwsCredentials | undefined;
  private renewing: Promise<AwsCredentials> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly sts: STSClient,
    readonly roleArn: string,
    readonly sessionName: string,
    private readonly timing: SessionTiming,
  ) {}

  static client(endpoint: string, region: string, lambdaService: AwsCredentials): STSClient {
    return new STSClient({ endpoint, region, credentials: lambdaService });
  }

  /** The current credentials (renewed in the background before they expire). */
  current(): AwsCredentials {
    if (!this.credentials) throw new Error(`no credentials yet for ${this.sessionName}`);
    return this.credentials;
  }

  /** Credentials valid for at least `ms` more (renewing first when the current ones are not). */
  async validFor(ms: number): Promise<AwsCredentials> {
    const bound = Math.min(ms, (this.timing.durationSeconds * 1000) / 2);
    const expires = this.credentials?.expiration?.getTime() ?? 0;
    if (this.credentials && expires - Date.now() >= bound) return this.credentials;
    return this.renew();
  }

  renew(): Promise<AwsCredentials> {
    this.renewing ??= this.assume().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async assume(): Promise<AwsCredentials> {
    const { Credentials } = await this.sts.send(
      new AssumeRoleCommand({
        RoleArn: this.roleArn,
        RoleSessionName: this.sessionName.slice(0, 64),
        DurationSeconds: this.timing.durationSeconds,
      }),
    );
    if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey || !Credentials.SessionToken) {
      throw new Error(`AssumeRole ${this.roleArn} returned no credentials`);
    }
    const credentials: AwsCredentials = {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      sessionToken: Credentials.SessionToken,
      expiration:
        Credentials.Expiration ?? new Date(Date.now() + this.timing.durationSeconds * 1000),
    };
    this.credentials = credentials;
    this.schedule(
      (credentials.expiration?.getTime() ?? Date.now()) -
        this.timing.renewBeforeSeconds * 1000 -
        Date.now(),
    );
    return credentials;
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.renew().catch(() => this.schedule(RENEW_RETRY_MS));
      },
      Math.max(0, delayMs),
    );
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
