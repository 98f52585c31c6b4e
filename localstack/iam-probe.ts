/**
 * Measures which IAM checks moto_server 5.2.1 makes on its own and which the local cloud makes
 * (moto_iam.py on top of it): one request per case, made by a user whose only policy is the case's,
 * against both servers side by side, next to what AWS does (its documented behaviour). Then the
 * cost: median latency of single requests with the checks on and off. Prints JSON (or the
 * docs/local-cloud.md table with --markdown).
 *   npm run -s bench:iam -- [--requests 200] [--markdown]
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateQueueCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ADMIN_USER, type AwsCredentials, bootstrapAdmin } from './local-cloud/iam.ts';
import { freePort, startMotoServer, waitForMoto } from './local-cloud/moto-server.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    markdown: { type: 'boolean', default: false },
  },
});
const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const TABLE = 'probe-table';
const OTHER = 'other';
const tableArn = (name = TABLE) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
const busArn = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${name}`;

interface Server {
  name: string;
  endpoint: string;
  admin: AwsCredentials;
  stop(): Promise<void>;
}

/** moto_server 5.2.1 exactly as shipped, checking IAM after the admin's three setup requests. */
async function plainMoto(): Promise<Server> {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: '3' },
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitForMoto(endpoint, 30_000);
  return {
    name: 'moto',
    endpoint,
    admin: await bootstrapAdmin(endpoint),
    stop: async () => {
      child.kill('SIGTERM');
      await sleep(200);
    },
  };
}

async function localCloudMoto(): Promise<Server> {
  const moto = await startMotoServer();
  return { name: 'local', endpoint: moto.endpoint, admin: moto.credentials, stop: moto.stop };
}

const document = (statements: unknown[]) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements });
const allow = (action: string | string[], resource: string | string[], extra = {}) => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource,
  ...extra,
});

interface Case {
  name: string;
  /** What AWS does (its documented authorization rules). */
  aws: 'allowed' | 'denied';
  statements: unknown[];
  call(clients: Clients): Promise<unknown>;
}

interface Clients {
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  events: EventBridgeClient;
  cloudwatch: CloudWatchClient;
  queueUrl: (name: string) => string;
}

const key = (pk: string) => ({ pk: { S: pk } });
const update = (pk: string) => ({
  TableName: TABLE,
  Key: key(pk),
  UpdateExpression: 'ADD n :one',
  ExpressionAttributeValues: { ':one': { N: '1' } },
});

const CASES: Case[] = [
  {
    name: 'GetItem, granted on the table ARN',
    aws: 'allowed',
    statements: [allow('dynamodb:GetItem', tableArn())],
    call: (c) => c.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: key('a') })),
  },
  {
    name: 'GetItem, granted on Resource "*"',
    aws: 'allowed',
    statements: [allow('dynamodb:GetItem', '*')],
    call: (c) => c.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: key('a') })),
  },
  {
    name: 'GetItem, granted on another table',
    aws: 'denied',
    statements: [allow('dynamodb:GetItem', tableArn(OTHER))],
    call: (c) => c.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: key('a') })),
  },
  {
    name: 'PutItem, only GetItem granted',
    aws: 'denied',
    statements: [allow('dynamodb:GetItem', tableArn())],
    call: (c) => c.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: key('a') })),
  },
  {
    name: 'Query of an index, granted on the table ARN only',
    aws: 'denied',
    statements: [allow('dynamodb:Query', tableArn())],
    call: (c) =>
      c.dynamodb.send(
        new QueryCommand({
          TableName: TABLE,
          IndexName: 'by-g',
          KeyConditionExpression: 'g = :g',
          ExpressionAttributeValues: { ':g': { S: 'x' } },
        }),
      ),
  },
  {
    name: 'Query of an index, granted on its index ARN',
    aws: 'allowed',
    statements: [allow('dynamodb:Query', `${tableArn()}/index/by-g`)],
    call: (c) =>
      c.dynamodb.send(
        new QueryCommand({
          TableName: TABLE,
          IndexName: 'by-g',
          KeyConditionExpression: 'g = :g',
          ExpressionAttributeValues: { ':g': { S: 'x' } },
        }),
      ),
  },
  {
    name: 'TransactWriteItems of two Updates, UpdateItem granted on the table',
    aws: 'allowed',
    statements: [allow('dynamodb:UpdateItem', tableArn())],
    call: (c) =>
      c.dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Update: update('a') }, { Update: update('b') }],
        }),
      ),
  },
  {
    name: 'TransactWriteItems, only "dynamodb:TransactWriteItems" granted',
    aws: 'denied',
    statements: [allow('dynamodb:TransactWriteItems', tableArn())],
    call: (c) =>
      c.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: [{ Update: update('a') }] })),
  },
  {
    name: 'BatchWriteItem, granted on the table ARN',
    aws: 'allowed',
    statements: [allow('dynamodb:BatchWriteItem', tableArn())],
    call: (c) =>
      c.dynamodb.send(
        new BatchWriteItemCommand({
          RequestItems: { [TABLE]: [{ PutRequest: { Item: key('c') } }] },
        }),
      ),
  },
  {
    name: 'UpdateItem, an Allow and an explicit Deny',
    aws: 'denied',
    statements: [
      allow('dynamodb:UpdateItem', tableArn()),
      { Effect: 'Deny', Action: 'dynamodb:UpdateItem', Resource: tableArn() },
    ],
    call: (c) => c.dynamodb.send(new UpdateItemCommand(update('a'))),
  },
  {
    name: 'GetItem, allowed only if dynamodb:LeadingKeys is "a" (and it is)',
    aws: 'allowed',
    statements: [
      allow('dynamodb:GetItem', tableArn(), {
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['a'] } },
      }),
    ],
    call: (c) => c.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: key('a') })),
  },
  {
    name: 'GetItem, allowed only if dynamodb:LeadingKeys is "a" (it is "b")',
    aws: 'denied',
    statements: [
      allow('dynamodb:GetItem', tableArn(), {
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['a'] } },
      }),
    ],
    call: (c) => c.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: key('b') })),
  },
  {
    name: 'GetItem, allowed on every resource except the table (NotResource)',
    aws: 'denied',
    statements: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', NotResource: tableArn() }],
    call: (c) => c.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: key('a') })),
  },
  {
    name: 'PutItem, allowed as every action but GetItem (NotAction)',
    aws: 'allowed',
    statements: [{ Effect: 'Allow', NotAction: 'dynamodb:GetItem', Resource: tableArn() }],
    call: (c) => c.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: key('a') })),
  },
  {
    name: 'SendMessage, granted on the queue ARN',
    aws: 'allowed',
    statements: [allow('sqs:SendMessage', queueArn('probe'))],
    call: (c) =>
      c.sqs.send(new SendMessageCommand({ QueueUrl: c.queueUrl('probe'), MessageBody: 'x' })),
  },
  {
    name: 'SendMessageBatch, sqs:SendMessage granted on the queue ARN',
    aws: 'allowed',
    statements: [allow('sqs:SendMessage', queueArn('probe'))],
    call: (c) =>
      c.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: c.queueUrl('probe'),
          Entries: [{ Id: '1', MessageBody: 'x' }],
        }),
      ),
  },
  {
    name: 'SendMessage, granted on another queue',
    aws: 'denied',
    statements: [allow('sqs:SendMessage', queueArn('probe-other'))],
    call: (c) =>
      c.sqs.send(new SendMessageCommand({ QueueUrl: c.queueUrl('probe'), MessageBody: 'x' })),
  },
  {
    name: 'PutEvents, granted on the bus ARN',
    aws: 'allowed',
    statements: [allow('events:PutEvents', busArn('probe-bus'))],
    call: (c) =>
      c.events.send(
        new PutEventsCommand({
          Entries: [{ EventBusName: 'probe-bus', Source: 's', DetailType: 'd', Detail: '{}' }],
        }),
      ),
  },
  {
    name: 'PutEvents, granted on another bus',
    aws: 'denied',
    statements: [allow('events:PutEvents', busArn('default'))],
    call: (c) =>
      c.events.send(
        new PutEventsCommand({
          Entries: [{ EventBusName: 'probe-bus', Source: 's', DetailType: 'd', Detail: '{}' }],
        }),
      ),
  },
  {
    name: 'PutMetricData, cloudwatch:PutMetricData granted on "*"',
    aws: 'allowed',
    statements: [allow('cloudwatch:PutMetricData', '*')],
    call: (c) =>
      c.cloudwatch.send(
        new PutMetricDataCommand({
          Namespace: 'probe',
          MetricData: [{ MetricName: 'm', Value: 1 }],
        }),
      ),
  },
];

function clientsFor(endpoint: string, credentials: AwsCredentials): Clients {
  const config = { endpoint, region: REGION, credentials, maxAttempts: 1 };
  return {
    dynamodb: new DynamoDBClient(config),
    sqs: new SQSClient({ ...config, useQueueUrlAsEndpoint: false }),
    events: new EventBridgeClient(config),
    cloudwatch: new CloudWatchClient(config),
    queueUrl: (name) => `${endpoint}/${ACCOUNT}/${name}`,
  };
}

function destroy(clients: Clients): void {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
  clients.events.destroy();
  clients.cloudwatch.destroy();
}

async function prepare(server: Server): Promise<void> {
  const admin = clientsFor(server.endpoint, server.admin);
  await admin.dynamodb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'g', AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'by-g',
          KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    }),
  );
  for (const name of ['probe', 'probe-other']) {
    await admin.sqs.send(new CreateQueueCommand({ QueueName: name }));
  }
  await admin.events.send(new CreateEventBusCommand({ Name: 'probe-bus' }));
  destroy(admin);
}

let userSequence = 0;
async function userWith(server: Server, statements: unknown[]): Promise<AwsCredentials> {
  const iam = new IAMClient({
    endpoint: server.endpoint,
    region: REGION,
    credentials: server.admin,
  });
  userSequence += 1;
  const name = `probe-${userSequence}`;
  await iam.send(new CreateUserCommand({ UserName: name }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: name,
      PolicyName: 'p',
      PolicyDocument: document(statements),
    }),
  );
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  iam.destroy();
  return {
    accessKeyId: AccessKey?.AccessKeyId ?? '',
    secretAccessKey: AccessKey?.SecretAccessKey ?? '',
  };
}

async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'allowed';
  } catch (error) {
    const { name, $metadata } = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return `denied (${$metadata?.httpStatusCode ?? '?'} ${name})`;
  }
}

async function probeCase(server: Server, probe: Case): Promise<string> {
  const clients = clientsFor(server.endpoint, await userWith(server, probe.statements));
  try {
    return await outcome(() => probe.call(clients));
  } finally {
    destroy(clients);
  }
}

/** Credentials that expired: an assumed role's session of 1 s (GetItem granted), used after 2 s. */
async function expiredSession(server: Server): Promise<AwsCredentials> {
  const iam = new IAMClient({
    endpoint: server.endpoint,
    region: REGION,
    credentials: server.admin,
  });
  const roleName = 'probe-role';
  await iam.send(
    new CreateRoleCommand({
      RoleName: roleName,
      AssumeRolePolicyDocument: document([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/${ADMIN_USER}` },
        },
      ]),
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: roleName,
      PolicyName: 'p',
      // Resource "*": moto checks DynamoDB against "*" only, so only expiry can deny this one.
      PolicyDocument: document([allow('dynamodb:GetItem', '*')]),
    }),
  );
  iam.destroy();
  const sts = new STSClient({
    endpoint: server.endpoint,
    region: REGION,
    credentials: server.admin,
  });
  const { Credentials } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/${roleName}`,
      RoleSessionName: 'probe',
      DurationSeconds: 1,
    }),
  );
  sts.destroy();
  await sleep(2_000);
  return {
    accessKeyId: Credentials?.AccessKeyId ?? '',
    secretAccessKey: Credentials?.SecretAccessKey ?? '',
    sessionToken: Credentials?.SessionToken ?? '',
  };
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Median ms of `count` sequential calls, after 20 warm-up calls. */
async function latency(count: number, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i += 1) await call();
  const samples: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  return Number(median(samples).toFixed(2));
}

async function timings(requests: number): Promise<Record<string, unknown>> {
  const checked = await startMotoServer();
  const unchecked = await startMotoServer({ iam: false });
  const result: Record<string, unknown> = { requests };
  try {
    const servers: Server[] = [
      {
        name: 'checked',
        endpoint: checked.endpoint,
        admin: checked.credentials,
        stop: checked.stop,
      },
      {
        name: 'unchecked',
        endpoint: unchecked.endpoint,
        admin: unchecked.credentials,
        stop: unchecked.stop,
      },
    ];
    for (const server of servers) await prepare(server);
    const callers = await Promise.all(
      servers.map(async (server) =>
        clientsFor(
          server.endpoint,
          server.name === 'checked'
            ? await userWith(server, [
                allow(['dynamodb:GetItem', 'dynamodb:UpdateItem'], tableArn()),
                allow('sqs:SendMessage', queueArn('probe')),
              ])
            : server.admin,
        ),
      ),
    );
    const calls: Record<string, (c: Clients) => Promise<unknown>> = {
      GetItem: (c) => c.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: key('a') })),
      TransactWriteItems: (c) =>
        c.dynamodb.send(
          new TransactWriteItemsCommand({
            TransactItems: [{ Update: update('a') }, { Update: update('b') }],
          }),
        ),
      SendMessage: (c) =>
        c.sqs.send(new SendMessageCommand({ QueueUrl: c.queueUrl('probe'), MessageBody: 'x' })),
    };
    // Side by side, alternating per call kind, so both see the same machine load.
    for (const [name, call] of Object.entries(calls)) {
      const [on, off] = [
        await latency(requests, () => call(callers[0] as Clients)),
        await latency(requests, () => call(callers[1] as Clients)),
      ];
      result[name] = {
        iam_checked_ms: on,
        unchecked_ms: off,
        ratio: Number((on / off).toFixed(2)),
      };
    }
    for (const clients of callers) destroy(clients);
  } finally {
    await checked.stop();
    await unchecked.stop();
  }
  return result;
}

const servers = [await plainMoto(), await localCloudMoto()];
const rows: Array<Record<string, string>> = [];
try {
  for (const server of servers) await prepare(server);
  for (const probe of CASES) {
    rows.push({
      case: probe.name,
      aws: probe.aws,
      moto: await probeCase(servers[0] as Server, probe),
      local: await probeCase(servers[1] as Server, probe),
    });
  }
  const unknown = { accessKeyId: 'AKIAUNKNOWN0000000000', secretAccessKey: 'guess' };
  const unknownCall = (server: Server) => () =>
    clientsFor(server.endpoint, unknown).dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: key('a') }),
    );
  rows.push({
    case: 'GetItem with an unknown access key',
    aws: 'denied',
    moto: await outcome(unknownCall(servers[0] as Server)),
    local: await outcome(unknownCall(servers[1] as Server)),
  });
  const expired = await Promise.all(servers.map((server) => expiredSession(server)));
  rows.push({
    case: "GetItem (granted) with an assumed role's expired credentials",
    aws: 'denied',
    moto: await outcome(() =>
      clientsFor((servers[0] as Server).endpoint, expired[0] as AwsCredentials).dynamodb.send(
        new GetItemCommand({ TableName: TABLE, Key: key('a') }),
      ),
    ),
    local: await outcome(() =>
      clientsFor((servers[1] as Server).endpoint, expired[1] as AwsCredentials).dynamodb.send(
        new GetItemCommand({ TableName: TABLE, Key: key('a') }),
      ),
    ),
  });
} finally {
  for (const server of servers) await server.stop();
}
const cost = await timings(Number(values.requests));

if (values.markdown) {
  const verdict = (text: string | undefined, aws: string | undefined) =>
    `${text}${text?.startsWith(aws ?? '') ? '' : ' ✗'}`;
  console.log('| case | AWS | moto 5.2.1 alone | local cloud |');
  console.log('| --- | --- | --- | --- |');
  for (const row of rows) {
    console.log(
      `| ${row.case} | ${row.aws} | ${verdict(row.moto, row.aws)} | ${verdict(row.local, row.aws)} |`,
    );
  }
  console.log(`\n${JSON.stringify(cost)}`);
} else {
  console.log(JSON.stringify({ cases: rows, cost }, null, 2));
}
