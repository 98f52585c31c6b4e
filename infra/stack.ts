/**
 * The cj-engine stack: one table, three work queues (each with a dead-letter queue), one function
 * per handler with exactly the permissions it uses, an IAM-authorized HTTP API, the sweeper
 * schedule, an event bus for batch outcomes, and the pending-callbacks dashboard and alarms.
 * Names are explicit and stack-prefixed: the local cloud reads them from the synthesized template.
 */
import path from 'node:path';
import {
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { PK, SK, TABLE_INDEXES, TTL_ATTRIBUTE } from '#store/table-schema.ts';
import { EngineFunction } from './constructs/engine-function.ts';
import { EngineMonitoring } from './constructs/engine-monitoring.ts';
import { SecureQueue } from './constructs/secure-queue.ts';
import { type EnvName, FUNCTIONS, type FunctionSpec, type QueueName } from './functions.ts';
import { type GrantTarget, grantsOf } from './grants.ts';
import {
  batchEndpointSecretMap,
  type DeploymentSettings,
  endpointSecretMap,
  providerSecretMap,
} from './settings.ts';

/**
 * Secret names by provider (`providerSecrets`), by named endpoint (`judgeEndpointSecrets`), and of
 * the endpoints declared batch-capable only (`judgeBatchEndpoints`).
 */
interface DeclaredSecrets {
  readonly provider: ReadonlyMap<string, string>;
  readonly endpoint: ReadonlyMap<string, string>;
  readonly batchEndpoint: ReadonlyMap<string, string>;
}

export const SERVICE_NAME = 'cj-engine';
export const METRICS_NAMESPACE = 'CjEngine';
/** Stage whose data survives `cdk destroy` and whose table refuses deletion. */
export const PROTECTED_STAGE = 'prod';
/**
 * SQS should not hand a message to a second consumer while the first may still be working on it:
 * AWS advises a visibility timeout of at least 6 × the function timeout (plus the batching window).
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export function stackName(stage: string): string {
  return `CjEngine-${stage}`;
}

export interface CjEngineStackProps extends StackProps {
  readonly settings: DeploymentSettings;
  /** Repository root (where package.json, package-lock.json and lambdas/ live). */
  readonly projectRoot: string;
  /** Handler module of a function; defaults to `lambdas/<name>/handler.ts` under the root. */
  readonly handlerEntry?: (functionName: string) => string;
}

export class CjEngineStack extends Stack {
  readonly table: Table;
  readonly queues: Record<QueueName, SecureQueue>;
  readonly functions: ReadonlyMap<string, EngineFunction>;
  readonly eventBus: EventBus;
  readonly api: HttpApi;
  readonly monitoring: EngineMonitoring;

  constructor(scope: Construct, id: string, props: CjEngineStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const prefix = this.stackName;
    const protectedStage = settings.stage === PROTECTED_STAGE;
    const dataRemovalPolicy = protectedStage ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = settings.logRetentionDays as RetentionDays;
    const handlerEntry =
      props.handlerEntry ??
      ((name: string) => path.join(props.projectRoot, 'lambdas', name, 'handler.ts'));

    this.table = new Table(this, 'Table', {
      tableName: `${prefix}-table`,
      partitionKey: { name: PK, type: AttributeType.STRING },
      sortKey: { name: SK, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      encryption: TableEncryption.AWS_MANAGED,
      deletionProtection: protectedStage,
      removalPolicy: dataRemovalPolicy,
    });
    for (const [indexName, keys] of Object.entries(TABLE_INDEXES)) {
      this.table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: keys.partitionKey, type: AttributeType.STRING },
        sortKey: { name: keys.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.KEYS_ONLY,
      });
    }

    this.eventBus = new EventBus(this, 'EventBus', { eventBusName: `${prefix}-events` });

    const consumerOf = (queue: QueueName): FunctionSpec => {
      const spec = FUNCTIONS.find((f) => f.trigger.kind === 'queue' && f.trigger.queue === queue);
      if (!spec) throw new Error(`no function consumes the ${queue} queue`);
      return spec;
    };
    const visibilityFor = (queue: QueueName): Duration => {
      const spec = consumerOf(queue);
      const window =
        spec.trigger.kind === 'queue' ? (spec.trigger.maxBatchingWindowSeconds ?? 0) : 0;
      return Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * spec.timeoutSeconds + window);
    };
    this.queues = {
      comparison: new SecureQueue(this, 'ComparisonQueue', {
        queueName: `${prefix}-comparison-requests`,
        visibilityTimeout: visibilityFor('comparison'),
      }),
      callback: new SecureQueue(this, 'CallbackQueue', {
        queueName: `${prefix}-callbacks`,
        visibilityTimeout: visibilityFor('callback'),
      }),
      continuation: new SecureQueue(this, 'ContinuationQueue', {
        queueName: `${prefix}-continuation`,
        visibilityTimeout: visibilityFor('continuation'),
        fifo: true,
      }),
    };

    const envValues: Record<EnvName, string> = {
      TABLE_NAME: this.table.tableName,
      COMPARISON_QUEUE_URL: this.queues.comparison.queue.queueUrl,
      CALLBACK_QUEUE_URL: this.queues.callback.queue.queueUrl,
      CONTINUATION_QUEUE_URL: this.queues.continuation.queue.queueUrl,
      EVENT_BUS_NAME: this.eventBus.eventBusName,
      ALLOWED_PROVIDERS: settings.allowedProviders.join(','),
      PROVIDER_RATE_LIMITS: JSON.stringify(settings.providerRateLimits),
      MAX_ESSAYS_PER_BATCH: String(settings.maxEssaysPerBatch),
      MAX_ESSAY_CHARS: String(settings.maxEssayChars),
      MAX_BUDGET_PER_BATCH: String(settings.maxBudgetPerBatch),
      MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL: String(settings.maxBatchesInFlightPerPrincipal),
      MAX_ESSAYS_IN_FLIGHT: String(settings.maxEssaysInFlight),
      JUDGE_ENDPOINTS: JSON.stringify(settings.judgeEndpoints),
      ADMIN_PRINCIPALS: settings.adminPrincipals.join(','),
      JUDGE_BATCH_ENDPOINTS: JSON.stringify(settings.judgeBatchEndpoints),
    };
    const secrets: DeclaredSecrets = {
      provider: providerSecretMap(settings),
      endpoint: endpointSecretMap(settings),
      batchEndpoint: batchEndpointSecretMap(settings),
    };

    const functions = new Map<string, EngineFunction>();
    for (const spec of FUNCTIONS) {
      const environment: Record<string, string> = {
        STAGE: settings.stage,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: settings.logLevel,
      };
      for (const name of spec.env) environment[name] = envValues[name];
      if (spec.readsProviderSecrets && secrets.provider.size > 0) {
        environment.PROVIDER_SECRET_NAMES = settings.providerSecrets.join(',');
      }
      // Each function learns only the secret names it may read.
      const endpointSecrets = spec.readsEndpointSecrets
        ? secrets.endpoint
        : spec.readsBatchEndpointSecrets
          ? secrets.batchEndpoint
          : new Map<string, string>();
      if (endpointSecrets.size > 0) {
        environment.JUDGE_ENDPOINT_SECRET_NAMES = [...endpointSecrets]
          .map(([endpoint, secretName]) => `${endpoint}=${secretName}`)
          .join(',');
      }

      const fn = new EngineFunction(this, pascalCase(spec.name), {
        functionName: `${prefix}-${spec.name}`,
        entry: handlerEntry(spec.name),
        projectRoot: props.projectRoot,
        description: spec.description,
        memorySize: spec.memorySize,
        timeout: Duration.seconds(spec.timeoutSeconds),
        environment,
        logRetention,
        removalPolicy: dataRemovalPolicy,
      });
      functions.set(spec.name, fn);
      this.grantDeclared(spec, fn, secrets);
    }
    this.functions = functions;

    this.api = this.createApi(prefix, logRetention, dataRemovalPolicy, settings);
    this.wireTriggers(settings);

    this.monitoring = new EngineMonitoring(this, 'Monitoring', {
      dashboardName: prefix,
      alarmPrefix: prefix,
      namespace: METRICS_NAMESPACE,
      gateLogGroupNames: ['callback', 'continuation', 'sweeper'].map(
        (name) => this.fn(name).logGroupName,
      ),
      queues: (Object.keys(this.queues) as QueueName[]).map((name) => ({
        label: name,
        queue: this.queues[name].queue,
        deadLetterQueue: this.queues[name].deadLetterQueue,
      })),
      callbackQueue: this.queues.callback.queue,
      functions: FUNCTIONS.map((spec) => ({ label: spec.name, fn: this.fn(spec.name).fn })),
      deadline: Duration.seconds(settings.comparisonDeadlineSeconds),
      // Both providers' completion window is 24 h (shared/judges/batch/windows.ts).
      providerBatchMaxAge: Duration.seconds(
        24 * 3600 + DEFAULT_CONFIG.PROVIDER_BATCH_DEADLINE_MARGIN_SECONDS,
      ),
    });

    const outputs: Record<string, string> = {
      ApiUrl: this.api.apiEndpoint,
      TableName: this.table.tableName,
      ComparisonQueueUrl: this.queues.comparison.queue.queueUrl,
      CallbackQueueUrl: this.queues.callback.queue.queueUrl,
      ContinuationQueueUrl: this.queues.continuation.queue.queueUrl,
      EventBusName: this.eventBus.eventBusName,
      DashboardName: this.monitoring.dashboard.dashboardName,
    };
    for (const [name, value] of Object.entries(outputs)) {
      new CfnOutput(this, name, { value });
    }
  }

  /** The function deployed for a contract name (throws on an unknown name). */
  fn(name: string): EngineFunction {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`unknown function ${name}`);
    return fn;
  }

  /**
   * Exactly the code's grants of the function's row (infra/grants.ts), each on its resource's ARN:
   * no CDK grant helper, since those add actions the code never calls (GetQueueUrl and
   * GetQueueAttributes with SendMessage, DescribeSecret with GetSecretValue).
   */
  private grantDeclared(spec: FunctionSpec, fn: EngineFunction, secrets: DeclaredSecrets): void {
    for (const grant of grantsOf(spec).filter((candidate) => candidate.by === 'code')) {
      const resources = this.grantResources(grant.on, secrets);
      if (resources.length === 0) continue;
      fn.role.addToPrincipalPolicy(
        new PolicyStatement({ effect: Effect.ALLOW, actions: [...grant.actions], resources }),
      );
      if (
        grant.on.kind === 'provider-secrets' ||
        grant.on.kind === 'endpoint-secrets' ||
        grant.on.kind === 'batch-endpoint-secrets'
      ) {
        const named =
          grant.on.kind === 'provider-secrets'
            ? secrets.provider
            : grant.on.kind === 'endpoint-secrets'
              ? secrets.endpoint
              : secrets.batchEndpoint;
        for (const secretName of named.values()) {
          Validations.of(fn.role).acknowledge({
            id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${secretName}-??????]`,
            reason: `Secrets Manager appends a random 6-character suffix to the ARN of the deployer-created secret ${secretName}; the wildcard matches only that suffix.`,
          });
        }
      }
    }
  }

  private grantResources(target: GrantTarget, secrets: DeclaredSecrets): string[] {
    switch (target.kind) {
      case 'table':
        return [this.table.tableArn];
      case 'index':
        return [`${this.table.tableArn}/index/${target.index}`];
      case 'queue':
        return [this.queues[target.queue].queue.queueArn];
      case 'event-bus':
        return [this.eventBus.eventBusArn];
      case 'provider-secrets':
        // Imported once, whichever functions read them (the judge and provider-batches).
        return [...secrets.provider].map(([provider, secretName]) =>
          this.secretArn(`ProviderSecret-${provider}`, secretName),
        );
      case 'endpoint-secrets':
        // The judge: each named endpoint's own key (infra/functions.ts).
        return [...secrets.endpoint].map(([endpoint, secretName]) =>
          this.secretArn(`EndpointSecret-${endpoint}`, secretName),
        );
      case 'batch-endpoint-secrets':
        // provider-batches: only the keys of the endpoints declared batch-capable.
        return [...secrets.batchEndpoint].map(([endpoint, secretName]) =>
          this.secretArn(`EndpointSecret-${endpoint}`, secretName),
        );
      case 'log-group':
        throw new Error('the log group is granted by its construct, not by the stack');
    }
  }

  /** The ARN pattern of a deployer-created secret, imported once by construct id. */
  private secretArn(id: string, secretName: string): string {
    const secret =
      (this.node.tryFindChild(id) as ISecret | undefined) ??
      Secret.fromSecretNameV2(this, id, secretName);
    return `${secret.secretArn}-??????`;
  }

  private createApi(
    prefix: string,
    logRetention: RetentionDays,
    removalPolicy: RemovalPolicy,
    settings: Pick<DeploymentSettings, 'apiRateLimit' | 'apiBurstLimit'>,
  ): HttpApi {
    const api = new HttpApi(this, 'HttpApi', {
      apiName: `${prefix}-api`,
      description: 'cj-engine batch API (IAM-authorized)',
      createDefaultStage: false,
      defaultAuthorizer: new HttpIamAuthorizer(),
    });
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      logGroupName: `/aws/apigateway/${prefix}-api`,
      retention: logRetention,
      removalPolicy,
    });
    new HttpStage(this, 'HttpApiDefaultStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      // Every route's default throttling (docs/deploy.md): past it API Gateway answers 429 itself.
      throttle: { rateLimit: settings.apiRateLimit, burstLimit: settings.apiBurstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            caller: '$context.identity.caller',
            sourceIp: '$context.identity.sourceIp',
            responseLength: '$context.responseLength',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    return api;
  }

  private wireTriggers(settings: DeploymentSettings): void {
    for (const spec of FUNCTIONS) {
      const { fn } = this.fn(spec.name);
      const trigger = spec.trigger;
      switch (trigger.kind) {
        case 'http':
          this.api.addRoutes({
            path: trigger.path,
            methods: [trigger.method === 'GET' ? HttpMethod.GET : HttpMethod.POST],
            integration: new HttpLambdaIntegration(`${pascalCase(spec.name)}Integration`, fn),
          });
          break;
        case 'queue':
          fn.addEventSource(
            new SqsEventSource(this.queues[trigger.queue].queue, {
              batchSize: trigger.batchSize,
              maxBatchingWindow:
                trigger.maxBatchingWindowSeconds === undefined
                  ? undefined
                  : Duration.seconds(trigger.maxBatchingWindowSeconds),
              reportBatchItemFailures: true,
              maxConcurrency: trigger.limitConcurrency ? settings.judgeMaxConcurrency : undefined,
            }),
          );
          break;
        case 'schedule':
          new Rule(this, `${pascalCase(spec.name)}Schedule`, {
            ruleName: `${this.stackName}-${spec.name}`,
            description: `Runs ${spec.name} every ${trigger.rateMinutes} minute(s)`,
            schedule: Schedule.rate(Duration.minutes(trigger.rateMinutes)),
            // A missed run is superseded by the next one a minute later: no retries to pile up.
            targets: [new LambdaFunction(fn, { retryAttempts: 0 })],
          });
          break;
      }
    }
  }
}

function pascalCase(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
