/**
 * DynamoDB's limits on the local cloud's moto (400 KB items, 100-item transactions): the store
 * writes its largest items at the engine's maxima and moto, which refuses bigger ones, takes them.
 * Lambda's and SQS's limits at the engine's maxima: test/unit/messages/aws-limits.test.ts.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { type EssayInput, essayInputSchema } from '#messages/api.ts';
import { dynamoStore } from '#store/dynamo-store.ts';
import { PK, SK } from '#store/table-schema.ts';
import { integrationTarget, output } from '#test/helpers/integration-target.ts';

/** A character of 3 UTF-8 bytes: the most one UTF-16 code unit of essay text can take. */
const WIDE = '中';
const NOW = new Date('2026-12-01T08:00:00.000Z');

interface Sent {
  command: string;
  items: number;
}

/** A document client on the target that records how many items each write request carries. */
async function recordingClient(): Promise<{ client: DynamoDBDocumentClient; sent: Sent[] }> {
  const target = await integrationTarget();
  const base = new DynamoDBClient({
    endpoint: target.endpoint,
    region: target.region,
    credentials: target.credentials,
  });
  const sent: Sent[] = [];
  base.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as {
        TransactItems?: unknown[];
        RequestItems?: Record<string, unknown[]>;
      };
      const items =
        input.TransactItems?.length ??
        Object.values(input.RequestItems ?? {}).reduce((sum, list) => sum + list.length, 0);
      sent.push({ command: String(context.commandName), items });
      return next(args);
    },
    { step: 'initialize', name: 'recordItemCounts' },
  );
  return { client: DynamoDBDocumentClient.from(base), sent };
}

/** Essays the API accepts, each as large as allowed: longest id, widest text, fullest metadata. */
function largestEssays(count: number, textUnits: number): EssayInput[] {
  const metadata: Record<string, string> = {};
  for (let key = 0; ; key += 1) {
    const next = { ...metadata, [`k${key}`]: WIDE.repeat(256) };
    if (Buffer.byteLength(JSON.stringify(next)) > DEFAULT_CONFIG.MAX_ESSAY_METADATA_BYTES) break;
    metadata[`k${key}`] = WIDE.repeat(256);
  }
  return Array.from({ length: count }, (_, index) =>
    essayInputSchema.parse({
      id: `${index}-`.padEnd(DEFAULT_CONFIG.MAX_ESSAY_ID_CHARS, 'x'),
      text: WIDE.repeat(textUnits),
      metadata,
    }),
  );
}

/** A new table shaped as the stack's, so the running engine (its sweeper) never touches it. */
async function tableLike(client: DynamoDBClient, stackTable: string): Promise<string> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: stackTable }));
  const name = `limits-${randomUUID()}`;
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: Table?.KeySchema,
      AttributeDefinitions: Table?.AttributeDefinitions,
      GlobalSecondaryIndexes: Table?.GlobalSecondaryIndexes?.map((index) => ({
        IndexName: index.IndexName,
        KeySchema: index.KeySchema,
        Projection: index.Projection,
      })),
    }),
  );
  return name;
}

describe('DynamoDB limits on the local cloud', () => {
  it('takes the largest items the store writes, and refuses an item over 400 KB', async () => {
    // Prepare
    const target = await integrationTarget();
    const raw = new DynamoDBClient({
      endpoint: target.endpoint,
      region: target.region,
      credentials: target.credentials,
    });
    const table = await tableLike(raw, output(target, 'TableName'));
    const { client, sent } = await recordingClient();
    const store = dynamoStore({ client, tableName: table });
    const inlineId = `limits-${randomUUID()}`;
    const pagedId = `limits-${randomUUID()}`;
    const judge = {
      provider: 'openai-compatible' as const,
      model: WIDE.repeat(128),
      base_url: `https://example.test/${'v'.repeat(480)}`,
      assignment: WIDE.repeat(DEFAULT_CONFIG.JUDGE_MAX_ASSIGNMENT_CHARS),
      rubric: WIDE.repeat(DEFAULT_CONFIG.JUDGE_MAX_RUBRIC_CHARS),
    };
    const rows = Array.from({ length: DEFAULT_CONFIG.RESULTS_PER_ITEM }, (_, index) => ({
      id: `${index}-`.padEnd(DEFAULT_CONFIG.MAX_ESSAY_ID_CHARS, 'x'),
      score: -1.2345678901234567e-123,
      se: 1.2345678901234567e-123,
      rank: index + 1,
      comparisons: 999_999_999,
      wins: 999_999_999,
    }));

    // Act: the largest essay, META, essay-id chunk, result chunk and score items.
    const inline = await store.createBatch({
      batchId: inlineId,
      owner: 'arn:aws:iam::123456789012:user/cj-test',
      essays: largestEssays(2, DEFAULT_CONFIG.MAX_ESSAY_CHARS),
      essayCount: 2,
      totalBudget: 1,
      config: {},
      judge,
      now: NOW,
    });
    await store.createBatch({
      batchId: pagedId,
      owner: 'arn:aws:iam::123456789012:user/cj-test',
      essayCount: DEFAULT_CONFIG.MAX_ESSAYS_PER_PAGE,
      totalBudget: 1,
      config: {},
      judge,
      now: NOW,
    });
    const page = await store.putEssayPage(
      pagedId,
      0,
      largestEssays(DEFAULT_CONFIG.MAX_ESSAYS_PER_PAGE, 1),
      NOW,
    );
    const finalized = await store.finalizeBatch(inlineId, {
      expectedIteration: 0,
      status: 'COMPLETE_BUDGET_EXHAUSTED',
      processingMetadata: {},
      resamplingPassCount: 0,
      results: rows,
      now: NOW,
    });
    await store.saveScores(
      inlineId,
      0,
      Array.from({ length: DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH }, (_, index) => index / 7),
      NOW,
    );
    const oversized = await raw
      .send(
        new PutItemCommand({
          TableName: table,
          Item: {
            [PK]: { S: `limits-${randomUUID()}` },
            [SK]: { S: 'X' },
            x: { S: 'x'.repeat(410_000) },
          },
        }),
      )
      .catch((error: unknown) => error);
    const tooManyParts = await raw
      .send(
        new TransactWriteItemsCommand({
          TransactItems: Array.from({ length: 101 }, (_, index) => ({
            Put: {
              TableName: table,
              Item: { [PK]: { S: `limits-tx-${index}` }, [SK]: { S: 'X' } },
            },
          })),
        }),
      )
      .catch((error: unknown) => error);

    // Assess
    expect(inline.outcome).toBe('created');
    expect(page).toMatchObject({ outcome: 'stored' });
    expect(finalized.outcome).toBe('finalized');
    expect(oversized).toMatchObject({ name: 'ValidationException' });
    expect(tooManyParts).toMatchObject({ name: 'ValidationException' });
    // DynamoDB's per-request item counts: 25 per BatchWriteItem, 100 per transaction.
    expect(sent.some((request) => request.command === 'BatchWriteItemCommand')).toBe(true);
    for (const request of sent) {
      const limit = request.command === 'BatchWriteItemCommand' ? 25 : 100;
      expect(request.items, request.command).toBeLessThanOrEqual(limit);
    }
    await raw.send(new DeleteTableCommand({ TableName: table }));
    client.destroy();
    raw.destroy();
  });
});
