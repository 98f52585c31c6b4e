/**
 * A Lambda function bundled from one TypeScript handler with secure, uniform defaults: local esbuild
 * (no Docker), ESM output, ARM64 on Node 22, its own log group with retention, and its own role with
 * no managed policy — every permission is granted explicitly by the stack, so each function holds
 * exactly what it uses.
 */
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import {
  NodejsFunction,
  type NodejsFunctionProps,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** ESM bundles still meet CommonJS dependencies that call `require`; give them one. */
const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface EngineFunctionProps {
  /** Deployed function name (stack-prefixed, so the local cloud and the logs can find it). */
  readonly functionName: string;
  /** Absolute path of the handler module exporting `handler`. */
  readonly entry: string;
  /** Repository root: the bundler resolves package.json `imports` aliases and the lockfile here. */
  readonly projectRoot: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  readonly removalPolicy?: RemovalPolicy;
  readonly description?: string;
  /** Further function settings merged over the defaults (runtime, architecture, role stay fixed). */
  readonly functionProps?: Omit<
    NodejsFunctionProps,
    'entry' | 'runtime' | 'architecture' | 'role' | 'logGroup' | 'functionName' | 'environment'
  >;
}

export class EngineFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  /** Literal log group name (`/aws/lambda/<function name>`), usable where a token is not wanted. */
  readonly logGroupName: string;

  constructor(scope: Construct, id: string, props: EngineFunctionProps) {
    super(scope, id);

    this.logGroupName = `/aws/lambda/${props.functionName}`;
    this.logGroup = new LogGroup(this, 'LogGroup', {
      logGroupName: this.logGroupName,
      retention: props.logRetention,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.functionName} (explicit grants only)`,
    });
    // Only the function's own log group, instead of AWSLambdaBasicExecutionRole's account-wide logs.
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      memorySize: props.memorySize,
      timeout: props.timeout,
      description: props.description,
      ...props.functionProps,
      functionName: props.functionName,
      entry: props.entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        // Stack traces point at the TypeScript sources instead of the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        target: 'node22',
        // The pinned SDK versions are bundled, so the deployed code is the tested code.
        bundleAwsSDK: true,
        ...props.functionProps?.bundling,
      },
    });
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose: the bundles target node22 and the local cloud runs them on Node 22 (the `node` dependency); moving to nodejs24.x is a deliberate upgrade with its own test run, not an automatic one.',
    });
  }
}
