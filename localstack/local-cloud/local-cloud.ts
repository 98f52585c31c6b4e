/**
 * The local cloud in one process: moto_server with the template's data resources, the function
 * host, one poller per event source mapping, the scheduler and the HTTP API. The supervisor runs
 * this in a detached background process; unit tests run it in-process against fixture templates.
 */
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  assertChaosTargets,
  CHAOS_LOG,
  Chaos,
  type ChaosSettings,
  DROP_TARGET_FUNCTION,
} from './chaos.ts';
import { type FunctionDefinition, FunctionHost } from './function-host.ts';
import { type HttpApiServer, type HttpRoute, motoCallerCheck, startHttpApi } from './http-api.ts';
import {
  ADMIN_USER,
  type AwsCredentials,
  type CreatedIdentities,
  createIdentities,
  LAMBDA_SERVICE_PRINCIPAL,
  localClientConfig,
  RoleSession,
  type SessionTiming,
} from './iam.ts';
import { assertFunctionRuntime } from './lambda-node.ts';
import { freePort, type MotoServer, startMotoServer } from './moto-server.ts';
import { type CreatedResources, createResources, type LocalQueue } from './resources.ts';
import { type ScheduleDefinition, Scheduler } from './scheduler.ts';
import { localSetting } from './settings.ts';
import { EventSourcePoller, type MappingDefinition } from './sqs-poller.ts';
import { readTemplate, resourcesOfType, type Template, TemplateResolver } from './template.ts';

export interface LocalCloudOptions {
  templatePath: string;
  /** Folder holding the `asset.*` bundles (the template's folder unless given). */
  assetDir?: string;
  /**
   * Use this moto_server instead of starting one (it must be empty of the stack's resources and
   * check IAM: start it with startMotoServer); `credentials` are its admin's.
   */
  endpoint?: string;
  credentials?: AwsCredentials;
  /** Lifetime and renewal of the functions' role credentials (the settings when not given). */
  roleSession?: Partial<SessionTiming>;
  /** Function logs go to `<logDir>/<short name>.log`; moto's log to `<logDir>/moto.log`. */
  logDir?: string;
  apiPort?: number;
  /** Extra variables for every function (after the template's). */
  functionEnv?: Record<string, string>;
  pollWaitSeconds?: number;
  /** Overrides every schedule's interval (CJ_LOCAL_SCHEDULE_INTERVAL_S when not given). */
  scheduleIntervalSeconds?: number;
  region?: string;
  /** Load every function before reporting ready (default true), so no first request is cold. */
  prewarm?: boolean;
  /** Report what happens (poll errors, skipped resources); silent when not given. */
  log?: (line: Record<string, unknown>) => void;
  /** Faults to inject (chaos.ts); none when not given. */
  chaos?: ChaosSettings;
  /**
   * Start the function host again against a moto that already holds the stack (`endpoint` and
   * `credentials` name it): the identities and resources the first start created are reused, not
   * created. `generation` counts the hosts started on that moto (it seeds their chaos apart).
   */
  attach?: AttachedModel & { generation: number };
}

/** What a function host needs to run against a moto that already holds the stack. */
export interface AttachedModel {
  identities: CreatedIdentities;
  resources: CreatedResources;
}

/** The audit log of IAM decisions in the log folder (see moto_iam.py). */
export const IAM_AUDIT_LOG = 'iam.log';

export interface FunctionSummary {
  logicalId: string;
  name: string;
  shortName: string;
  logFile?: string;
}

export interface LocalCloud {
  endpoint: string;
  apiUrl: string;
  region: string;
  accountId: string;
  stackName: string;
  /** `process.version` of the functions (their worker threads run in this process). */
  nodeVersion: string;
  /**
   * ms per start phase: `moto` (incl. the admin's setup), `iamIdentities` (roles, policies),
   * `resources`, `iamSessions` (one AssumeRole per function), `functions` (loading the bundles),
   * `api` (pollers, scheduler, HTTP API).
   */
  startupMs: Record<string, number>;
  /** The admin's keys for moto (CLI, tests, demo); functions use their roles' instead. */
  credentials: AwsCredentials;
  identities: CreatedIdentities;
  /** Each function's role session, by logical id. */
  sessions: ReadonlyMap<string, RoleSession>;
  /** The stack outputs resolved to local values (same keys as the deployed stack's). */
  outputs: Record<string, string>;
  resources: CreatedResources;
  functions: FunctionSummary[];
  mappings: MappingDefinition[];
  routes: HttpRoute[];
  schedules: ScheduleDefinition[];
  host: FunctionHost;
  pollers: EventSourcePoller[];
  scheduler: Scheduler;
  motoPid?: number;
  /** Settles when the moto_server this cloud started exits (never, for a given endpoint). */
  motoExited: Promise<void>;
  stop(options?: { abort?: boolean }): Promise<void>;
}

export async function runLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const log = options.log ?? (() => {});
  const template = readTemplate(options.templatePath);
  const stackName = basename(options.templatePath).replace(/\.template\.json$/, '');
  const region = options.region ?? localSetting('region');
  const accountId = localSetting('accountId');
  // How long each start phase took (ms): state.json and the start benchmark report them.
  const startupMs: Record<string, number> = {};
  let mark = Date.now();
  const phase = (name: string) => {
    startupMs[name] = Date.now() - mark;
    mark = Date.now();
  };
  let moto: MotoServer | undefined;
  if (options.endpoint && !options.credentials) {
    throw new Error('runLocalCloud: a given endpoint needs the credentials of its admin');
  }
  if (!options.endpoint) {
    if (options.logDir) mkdirSync(options.logDir, { recursive: true });
    const logFd = options.logDir ? openSync(join(options.logDir, 'moto.log'), 'a') : undefined;
    moto = await startMotoServer({
      ...(logFd === undefined ? {} : { logFd }),
      ...(options.logDir ? { iamAuditFile: join(options.logDir, IAM_AUDIT_LOG) } : {}),
    });
  }
  phase('moto');
  const endpoint = options.endpoint ?? moto?.endpoint ?? '';
  const admin = options.credentials ?? moto?.credentials;
  if (!admin) throw new Error('runLocalCloud: no admin credentials for moto');
  const started: Array<() => Promise<void>> = [];
  let abortPolls = false;
  const stopAll = async (abort: boolean) => {
    abortPolls = abort;
    for (const stop of started.reverse()) await stop().catch(() => {});
    if (moto && !options.endpoint) await moto.stop();
  };
  try {
    const apiPort = options.apiPort ?? (await freePort());
    const apiEndpoint = `http://127.0.0.1:${apiPort}`;
    const resolver = new TemplateResolver(template, {
      stackName,
      region,
      accountId,
      endpoint,
      apiEndpoint,
    });
    const config = localClientConfig(endpoint, region, admin);
    const identities = options.attach?.identities ?? (await createIdentities(resolver, config));
    phase('iamIdentities');
    const resources = options.attach?.resources ?? (await createResources(resolver, config));
    phase('resources');
    const chaos = options.chaos
      ? new Chaos(
          options.chaos,
          options.logDir ? join(options.logDir, CHAOS_LOG) : undefined,
          options.attach?.generation ?? 0,
        )
      : undefined;
    if (chaos?.enabled) {
      await configureMotoChaos(endpoint, chaos, admin, {
        logDir: options.logDir,
        generation: options.attach?.generation ?? 0,
      });
    }
    if (options.attach && chaos && chaos.settings.redeliverySeconds > 0) {
      // What the killed host had received would wait out the queues' visibility timeouts.
      const released = await releaseInflight(endpoint, chaos.settings.redeliverySeconds);
      log({ level: 'INFO', message: 'inflight_released', released });
    }
    const assetDir = options.assetDir ?? dirname(options.templatePath);
    const functions = functionDefinitions(resolver, {
      assetDir,
      endpoint,
      region,
      stackName,
      // The caller of a request with no IAM context: the local identity (docs/security.md).
      // Its admin user (whose keys the local cloud's state holds) is an admin of the API too.
      extraEnv: {
        LOCAL_CALLER_PRINCIPAL: localCallerPrincipal(accountId),
        ADMIN_PRINCIPALS: `arn:aws:iam::${accountId}:user/${ADMIN_USER}`,
        ...options.functionEnv,
      },
      log,
    });
    assertFunctionRuntime(functions);
    if (options.chaos) {
      assertChaosTargets(
        options.chaos,
        functions.map((fn) => fn.shortName),
      );
    }
    const sessions = await roleSessions(functions, identities, {
      endpoint,
      region,
      timing: {
        durationSeconds: options.roleSession?.durationSeconds ?? localSetting('roleSessionSeconds'),
        renewBeforeSeconds:
          options.roleSession?.renewBeforeSeconds ?? localSetting('roleRenewBeforeSeconds'),
      },
    });
    started.push(async () => sessions.close());
    phase('iamSessions');
    const host = new FunctionHost(functions, {
      credentials: sessions.byFunction,
      logDir: options.logDir,
    });
    started.push(() => host.close());
    if (options.prewarm ?? true) await host.warmAll();
    phase('functions');

    const mappings = mappingDefinitions(resolver, resources.queues, functions);
    // As in Lambda, a mapping polls with its function's execution role.
    const pollerConfig = (mapping: MappingDefinition) => {
      const session = sessions.byFunction.get(mapping.functionId);
      if (!session) throw new Error(`${mapping.logicalId}: its function has no role session`);
      return localClientConfig(endpoint, region, async () => session.current());
    };
    const pollers = mappings.map((mapping) => {
      const functionName = functions.find((fn) => fn.logicalId === mapping.functionId)?.shortName;
      return new EventSourcePoller(mapping, host, pollerConfig(mapping), {
        ...(options.pollWaitSeconds !== undefined
          ? { pollWaitSeconds: options.pollWaitSeconds }
          : {}),
        chaos,
        drops: functionName === DROP_TARGET_FUNCTION,
        ...(functionName !== undefined ? { functionName } : {}),
      });
    });
    started.push(async () => {
      await Promise.all(pollers.map((poller) => poller.stop({ abort: abortPolls })));
    });
    for (const poller of pollers) {
      poller.on('pollError', (error) =>
        log({
          level: 'WARN',
          message: 'poll_error',
          mapping: poller.mapping.logicalId,
          error: error.message,
        }),
      );
      poller.start();
    }

    const schedules = scheduleDefinitions(resolver, functions);
    const scheduler = new Scheduler(schedules, host, {
      accountId,
      region,
      overrideSeconds:
        options.scheduleIntervalSeconds ?? localSetting('scheduleIntervalOverrideSeconds'),
      chaos: chaos?.enabled ? chaos : undefined,
    });
    scheduler.start();
    started.push(() => scheduler.stop());

    const routes = routeDefinitions(resolver, functions);
    const api: HttpApiServer = await startHttpApi({
      routes,
      host,
      accountId,
      port: apiPort,
      integrationTimeoutMs: localSetting('httpIntegrationTimeoutMs'),
      // Signed requests carry their signer, checked in moto's IAM (docs/local-cloud.md).
      checkCaller: motoCallerCheck(endpoint, accountId),
      region,
    });
    started.push(() => api.close());

    for (const policy of identities.unevaluatedConditions) {
      log({ level: 'WARN', message: 'iam_condition_not_evaluated', policy });
    }
    for (const skipped of resources.skippedRuleTargets) {
      log({ level: 'WARN', message: 'rule_target_not_run_locally', ...skipped });
    }
    const apiUrl = `${api.url}/`;
    phase('api');
    return {
      endpoint,
      apiUrl,
      region,
      accountId,
      stackName,
      nodeVersion: process.version,
      startupMs,
      credentials: admin,
      identities,
      sessions: sessions.byFunction,
      outputs: resolveOutputs(resolver, template, apiUrl),
      resources,
      functions: functions.map((fn) => ({
        logicalId: fn.logicalId,
        name: fn.name,
        shortName: fn.shortName,
        ...(options.logDir ? { logFile: join(options.logDir, `${fn.shortName}.log`) } : {}),
      })),
      mappings,
      routes,
      schedules,
      host,
      pollers,
      scheduler,
      ...(moto ? { motoPid: moto.pid } : {}),
      motoExited: moto
        ? new Promise<void>((resolve) => {
            if (moto.process.exitCode !== null) resolve();
            else moto.process.once('exit', () => resolve());
          })
        : new Promise<void>(() => {}),
      stop: ({ abort = false } = {}) => stopAll(abort),
    };
  } catch (error) {
    await stopAll(true);
    throw error;
  }
}

/**
 * Turns moto's DynamoDB faults on (moto_chaos.py): every request but the admin's may be throttled
 * or conflict; moto appends each one to the same chaos log.
 */
async function configureMotoChaos(
  endpoint: string,
  chaos: Chaos,
  admin: AwsCredentials,
  { logDir, generation }: { logDir: string | undefined; generation: number },
): Promise<void> {
  await motoChaosRequest(endpoint, 'config', {
    throttle: chaos.settings.rates.throttle,
    conflict: chaos.settings.rates.conflict,
    // A restarted host re-configures moto: a new stream, not a replay of the first one.
    seed: chaos.settings.seed * 7919 + generation,
    exempt_access_keys: [admin.accessKeyId],
    log_file: logDir ? resolve(logDir, CHAOS_LOG) : null,
  });
}

/** Every in-flight message of every queue becomes visible again `afterSeconds` from now. */
export async function releaseInflight(endpoint: string, afterSeconds: number): Promise<number> {
  const answer = await motoChaosRequest(endpoint, 'release-inflight', { after_s: afterSeconds });
  return Number(answer.released ?? 0);
}

async function motoChaosRequest(
  endpoint: string,
  path: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${endpoint}/_chaos/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`moto chaos ${path}: HTTP ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

/** Outputs resolved locally; API URLs point at the local HTTP API instead of execute-api. */
export function resolveOutputs(
  resolver: TemplateResolver,
  template: Template,
  apiUrl: string,
): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    const value = resolver.resolveString(output.Value, `output ${name}`);
    outputs[name] = /execute-api\./.test(value) || name === 'ApiUrl' ? apiUrl : value;
  }
  return outputs;
}

/**
 * One role session per function (its session name is the function's name, as in Lambda), started
 * before any instance so each one starts with credentials. A role that does not trust Lambda cannot
 * back a function, as Lambda refuses it at deployment.
 */
async function roleSessions(
  functions: readonly FunctionDefinition[],
  identities: CreatedIdentities,
  context: { endpoint: string; region: string; timing: SessionTiming },
): Promise<{ byFunction: Map<string, RoleSession>; close(): void }> {
  const sts = RoleSession.client(context.endpoint, context.region, identities.lambdaService);
  const byFunction = new Map<string, RoleSession>();
  const close = () => {
    for (const session of byFunction.values()) session.close();
    sts.destroy();
  };
  try {
    for (const fn of functions) {
      const role = identities.roles.find((candidate) => candidate.arn === fn.roleArn);
      if (!role)
        throw new Error(`${fn.name}: its role ${fn.roleArn} is not a role of this template`);
      if (!role.trustsLambda) {
        throw new Error(
          `${fn.name}: its role ${role.name} does not trust ${LAMBDA_SERVICE_PRINCIPAL}`,
        );
      }
      byFunction.set(fn.logicalId, new RoleSession(sts, fn.roleArn, fn.name, context.timing));
    }
    await Promise.all([...byFunction.values()].map((session) => session.renew()));
  } catch (error) {
    close();
    throw error;
  }
  return { byFunction, close };
}

/** `CjEngine-dev-create-batch` → `create-batch`; else the construct id, kebab-cased. */
export function shortFunctionName(
  physicalName: string,
  stackName: string,
  cdkPath: string | undefined,
): string {
  if (
    physicalName.startsWith(`${stackName}-`) &&
    !/[A-Z]/.test(physicalName.slice(stackName.length + 1))
  ) {
    return physicalName.slice(stackName.length + 1);
  }
  const parts = (cdkPath ?? '').split('/').filter((part) => part !== '' && part !== 'Resource');
  const construct = parts.at(-1) === 'Function' ? parts.at(-2) : parts.at(-1);
  const base = (construct ?? physicalName).replace(/(Function|Fn|Handler|Lambda)$/, '');
  return base
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9-]+/g, '-')
    .toLowerCase();
}

/** The local cloud's caller when a request carries no IAM context: the CLI's user. */
export function localCallerPrincipal(accountId: string): string {
  return `arn:aws:iam::${accountId}:user/local-cli`;
}

const BUNDLE_FILES = ['index.mjs', 'index.js', 'index.cjs'];

/** The template's functions that have a bundle, with their resolved local environment. */
export function functionDefinitions(
  resolver: TemplateResolver,
  context: {
    assetDir: string;
    endpoint: string;
    region: string;
    stackName: string;
    extraEnv: Record<string, string>;
    log: (line: Record<string, unknown>) => void;
  },
): FunctionDefinition[] {
  const definitions: FunctionDefinition[] = [];
  for (const [logicalId, resource] of resourcesOfType(resolver.template, 'AWS::Lambda::Function')) {
    const assetPath = resource.Metadata?.['aws:asset:path'];
    const props = resolver.properties(logicalId);
    const handler = String(props.Handler ?? 'index.handler');
    const [moduleName = 'index', exportName = 'handler'] = handler.split(/\.(?=[^.]+$)/);
    const bundleDir = typeof assetPath === 'string' ? resolve(context.assetDir, assetPath) : '';
    const candidates = BUNDLE_FILES.map((file) =>
      join(bundleDir, file.replace('index', moduleName)),
    );
    const bundlePath = bundleDir ? candidates.find((file) => existsSync(file)) : undefined;
    if (!bundlePath) {
      // Inline-code helpers CDK adds (log retention, custom resources) are not part of the app.
      context.log({ level: 'INFO', message: 'function_skipped_no_bundle', logicalId });
      continue;
    }
    const name = resolver.ref(logicalId);
    if (typeof props.Role !== 'string') throw new Error(`${logicalId}: no execution role (Role)`);
    const memoryMb = Number(props.MemorySize ?? 128);
    const variables = ((props.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables ?? {}) as Record<string, unknown>;
    const environment: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      AWS_REGION: context.region,
      AWS_DEFAULT_REGION: context.region,
      AWS_ENDPOINT_URL: context.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_EXECUTION_ENV: `AWS_Lambda_${String(props.Runtime ?? 'nodejs')}`,
      LAMBDA_TASK_ROOT: bundleDir,
      _HANDLER: handler,
      ...Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, String(value)])),
      ...context.extraEnv,
    };
    // Admins are the template's (-c adminPrincipals) and the local admin, for the functions the
    // template hands them to only.
    if ('ADMIN_PRINCIPALS' in variables) {
      environment.ADMIN_PRINCIPALS = [variables.ADMIN_PRINCIPALS, context.extraEnv.ADMIN_PRINCIPALS]
        .map((value) => String(value ?? '').trim())
        .filter((value) => value.length > 0)
        .join(',');
    } else {
      delete environment.ADMIN_PRINCIPALS;
    }
    const reserved = props.ReservedConcurrentExecutions;
    definitions.push({
      logicalId,
      name,
      shortName: shortFunctionName(
        name,
        context.stackName,
        resource.Metadata?.['aws:cdk:path'] as string | undefined,
      ),
      arn: resolver.getAtt(logicalId, 'Arn'),
      bundlePath,
      exportName,
      runtime: String(props.Runtime ?? ''),
      timeoutSeconds: Number(props.Timeout ?? localSetting('defaultTimeoutSeconds')),
      memoryMb,
      environment,
      roleArn: props.Role,
      maxInstances:
        reserved === undefined
          ? localSetting('maxInstancesPerFunction')
          : Math.max(1, Number(reserved)),
    });
  }
  return definitions;
}

function functionFor(
  functions: readonly FunctionDefinition[],
  nameOrArn: string,
): FunctionDefinition | undefined {
  // A function ARN may carry a version or alias qualifier.
  const unqualified = nameOrArn.replace(/^(arn:[^:]+:lambda:[^:]+:[^:]+:function:[^:]+):.+$/, '$1');
  return functions.find((fn) => fn.name === unqualified || fn.arn === unqualified);
}

/** The template's SQS event source mappings, checked as Lambda checks them. */
export function mappingDefinitions(
  resolver: TemplateResolver,
  queues: readonly LocalQueue[],
  functions: readonly FunctionDefinition[],
): MappingDefinition[] {
  const mappings: MappingDefinition[] = [];
  for (const [logicalId] of resourcesOfType(resolver.template, 'AWS::Lambda::EventSourceMapping')) {
    const props = resolver.properties(logicalId);
    const queue = queues.find((candidate) => candidate.arn === props.EventSourceArn);
    if (!queue) throw new Error(`${logicalId}: its event source is not a queue of this template`);
    const fn = functionFor(functions, String(props.FunctionName));
    if (!fn) throw new Error(`${logicalId}: function ${String(props.FunctionName)} has no bundle`);
    // Lambda refuses such a mapping: a message would become visible again mid-invocation.
    if (queue.visibilityTimeoutSeconds < fn.timeoutSeconds) {
      throw new Error(
        `${logicalId}: queue ${queue.name} visibility timeout (${queue.visibilityTimeoutSeconds} s) is shorter than the timeout of ${fn.name} (${fn.timeoutSeconds} s)`,
      );
    }
    const scaling = props.ScalingConfig as { MaximumConcurrency?: number } | undefined;
    const concurrency = Math.min(
      Number(scaling?.MaximumConcurrency ?? localSetting('defaultPollers')),
      fn.maxInstances,
    );
    mappings.push({
      logicalId,
      functionId: fn.logicalId,
      queue,
      batchSize: Number(props.BatchSize ?? localSetting('defaultBatchSize')),
      batchingWindowSeconds: Number(props.MaximumBatchingWindowInSeconds ?? 0),
      reportBatchItemFailures: (
        (props.FunctionResponseTypes as string[] | undefined) ?? []
      ).includes('ReportBatchItemFailures'),
      concurrency,
      enabled: props.Enabled !== false && props.Enabled !== 'false',
    });
  }
  return mappings;
}

function routeDefinitions(
  resolver: TemplateResolver,
  functions: readonly FunctionDefinition[],
): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const [logicalId] of resourcesOfType(resolver.template, 'AWS::ApiGatewayV2::Route')) {
    const props = resolver.properties(logicalId);
    const target = String(props.Target ?? '');
    const integrationId = target.replace(/^integrations\//, '');
    const integration = resolver.template.Resources[integrationId];
    if (integration?.Type !== 'AWS::ApiGatewayV2::Integration') {
      throw new Error(`${logicalId}: target ${target} is not an integration of this template`);
    }
    const uri = String(resolver.properties(integrationId).IntegrationUri ?? '');
    // Lambda proxy URIs are either the function ARN or the apigateway invocation path around it.
    const arn = /arn:[^:]+:lambda:[^:]+:[^:]+:function:[^/:]+/.exec(uri)?.[0] ?? uri;
    const fn = functionFor(functions, arn);
    if (!fn)
      throw new Error(`${logicalId}: integration ${integrationId} targets no local function`);
    routes.push({ routeKey: String(props.RouteKey), functionId: fn.logicalId });
  }
  return routes;
}

function scheduleDefinitions(
  resolver: TemplateResolver,
  functions: readonly FunctionDefinition[],
): ScheduleDefinition[] {
  const schedules: ScheduleDefinition[] = [];
  for (const [logicalId] of resourcesOfType(resolver.template, 'AWS::Events::Rule')) {
    const props = resolver.properties(logicalId);
    if (typeof props.ScheduleExpression !== 'string' || props.State === 'DISABLED') continue;
    for (const target of (props.Targets as Array<Record<string, unknown>> | undefined) ?? []) {
      const fn = functionFor(functions, String(target.Arn));
      if (!fn) continue;
      schedules.push({
        ruleName: resolver.ref(logicalId),
        ruleArn: resolver.getAtt(logicalId, 'Arn'),
        expression: props.ScheduleExpression,
        functionId: fn.logicalId,
        ...(target.Input !== undefined ? { input: JSON.parse(String(target.Input)) } : {}),
      });
    }
  }
  return schedules;
}
