/**
 * CDK app entry (`npx tsx infra/app.ts`, see cdk.json). Settings come from context
 * (`cdk deploy -c stage=prod -c allowedProviders=mock,openai ...`, see infra/settings.ts).
 * The stack is environment-agnostic unless the CLI provides an account and region, so
 * `cdk synth` works offline without credentials. cdk-nag's AWS Solutions checks run on every synth.
 */
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resolveSettings } from './settings.ts';
import { CjEngineStack, stackName } from './stack.ts';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

const app = new App();
const settings = resolveSettings((name) => app.node.tryGetContext(name));
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;

new CjEngineStack(app, stackName(settings.stage), {
  settings,
  projectRoot,
  description: `cj-engine (${settings.stage}): comparative judgement on Lambda, SQS and DynamoDB`,
  ...(account && region ? { env: { account, region } } : {}),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
