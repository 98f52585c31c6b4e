/**
 * Each function's IAM grants, derived from its row in FUNCTIONS (infra/functions.ts), the one table
 * of what each function's code may call: its SDK calls as IAM actions on the resources they touch,
 * plus what the Lambda platform does with the function's role (writing its log group, polling its
 * queue). The stack grants the code's part exactly (infra/stack.ts; CDK adds the platform's), the
 * infra tests check the synthesized template against all of it, and the local cloud enforces it
 * (docs/local-cloud.md), so an SDK call without a row here fails a test before it fails in AWS.
 *
 * IAM authorizes a DynamoDB transaction through its parts (an Update inside TransactWriteItems
 * needs dynamodb:UpdateItem) and an SQS batch through its single-message action (SendMessageBatch
 * needs sqs:SendMessage); there are no separate actions to grant for them.
 */
import type { IndexName } from '#store/table-schema.ts';
import type { FunctionSpec, QueueName } from './functions.ts';

export type GrantTarget =
  | { readonly kind: 'table' }
  | { readonly kind: 'index'; readonly index: IndexName }
  | { readonly kind: 'queue'; readonly queue: QueueName }
  | { readonly kind: 'event-bus' }
  /** Every provider secret the deployment names (`providerSecrets`). */
  | { readonly kind: 'provider-secrets' }
  /** Every named endpoint's secret the deployment names (`judgeEndpointSecrets`). */
  | { readonly kind: 'endpoint-secrets' }
  /** The secrets of the named endpoints declared batch-capable (`judgeBatchEndpoints`) only. */
  | { readonly kind: 'batch-endpoint-secrets' }
  /** The function's own log group. */
  | { readonly kind: 'log-group' };

export interface Grant {
  readonly actions: readonly string[];
  readonly on: GrantTarget;
  /** `code`: the handler's SDK calls (the stack grants them); `platform`: Lambda's own use. */
  readonly by: 'code' | 'platform';
}

/** What Lambda writes with the role: the function's logs (LogGroup.grantWrite). */
export const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;
/** What an SQS event source mapping does with the role (CDK's grantConsumeMessages). */
export const QUEUE_CONSUMER_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueUrl',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
] as const;

/** The grants of one function, in the order the stack adds them. */
export function grantsOf(spec: FunctionSpec): Grant[] {
  const grants: Grant[] = [];
  const code = (actions: readonly string[], on: GrantTarget) => {
    if (actions.length > 0) grants.push({ actions, on, by: 'code' });
  };
  code(
    spec.table.map((action) => `dynamodb:${action}`),
    { kind: 'table' },
  );
  for (const index of spec.queryIndexes ?? []) code(['dynamodb:Query'], { kind: 'index', index });
  for (const queue of spec.sendsTo ?? []) code(['sqs:SendMessage'], { kind: 'queue', queue });
  if (spec.putsEvents) code(['events:PutEvents'], { kind: 'event-bus' });
  if (spec.readsProviderSecrets) {
    code(['secretsmanager:GetSecretValue'], { kind: 'provider-secrets' });
  }
  if (spec.readsEndpointSecrets) {
    code(['secretsmanager:GetSecretValue'], { kind: 'endpoint-secrets' });
  }
  if (spec.readsBatchEndpointSecrets) {
    code(['secretsmanager:GetSecretValue'], { kind: 'batch-endpoint-secrets' });
  }
  grants.push({ actions: LOG_ACTIONS, on: { kind: 'log-group' }, by: 'platform' });
  if (spec.trigger.kind === 'queue') {
    grants.push({
      actions: QUEUE_CONSUMER_ACTIONS,
      on: { kind: 'queue', queue: spec.trigger.queue },
      by: 'platform',
    });
  }
  return grants;
}
