/**
 * The DynamoDB plumbing every store module shares: one document client (passed in, so handlers
 * share a singleton and tests inject aws-sdk-client-mock), bounded full-jitter retries on every
 * call (retry.ts), paged queries, chunked BatchWrite/BatchGet with their unprocessed items
 * re-sent, TTL on every item, and the one place where a failed condition becomes an answer:
 * `updateMeta` re-reads META and lets the caller classify what happened.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import type { BatchMeta, BatchSettings } from '#shared/workflow/store-records.ts';
import { batchPk, expiresAt, itemKey, META_SK, metaKey } from '#store/keys.ts';
import {
  backoffDelay,
  defaultRetryPolicy,
  errorName,
  type RetryPolicy,
  withRetry,
} from '#store/retry.ts';
import { KEY_ATTRIBUTES, PK, SK } from '#store/table-schema.ts';
import { VerdictCache } from '#store/verdicts.ts';

/**
 * Settings never change once written, so a function keeps the ones it read (the judge reads a
 * batch's settings once per container, not once per comparison). Bounded: a settings item may be
 * a few hundred KB with a long rubric.
 */
const SETTINGS_CACHE_ENTRIES = 64;

/** DynamoDB API limits (not tunable defaults). */
const BATCH_WRITE_LIMIT = 25;
const BATCH_GET_LIMIT = 100;

export interface TableOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  retry?: Partial<RetryPolicy>;
  ttlDays?: number;
  resultsPerItem?: number;
  resultsItemMaxBytes?: number;
}

export type Item = Record<string, unknown>;
export type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Item } };

/** An update of one batch's META item (the key is added by the table). */
export type MetaUpdate = Omit<UpdateCommandInput, 'TableName' | 'Key'>;

/** A query of one batch's items whose sort key starts with a prefix, plus what the caller adds. */
export interface BatchQuery {
  sortKeyPrefix: string;
  filter?: string;
  projection?: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

/** A query of one batch's items whose sort key is in [from, to], plus what the caller adds. */
export interface BatchRangeQuery extends Omit<BatchQuery, 'sortKeyPrefix'> {
  from: string;
  to: string;
}

export function isConditionFailure(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

/**
 * Consecutive chunks of at most `size` items and at most `maxBytes` of JSON each (an item larger
 * than `maxBytes` alone gets a chunk of its own).
 */
export function chunkByBytes<T>(items: readonly T[], size: number, maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const itemBytes = Buffer.byteLength(JSON.stringify(item), 'utf8') + 1;
    if (current.length > 0 && (current.length >= size || bytes + itemBytes > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += itemBytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    chunks.push(items.slice(start, start + size));
  }
  return chunks;
}

/** An item without its key, TTL and index attributes. */
export function stripKeys<T>(item: Item): T {
  const copy: Item = { ...item };
  for (const name of KEY_ATTRIBUTES) delete copy[name];
  return copy as T;
}

/** Reads an attribute from a plain item or from a marshalled one (cancellation reasons). */
export function plainAttribute(item: Item | undefined, name: string): unknown {
  const value = item?.[name];
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const typed = value as Record<string, unknown>;
    if (typeof typed.S === 'string') return typed.S;
    if (typeof typed.N === 'string') return Number(typed.N);
    if (typeof typed.BOOL === 'boolean') return typed.BOOL;
  }
  return value;
}

export class Table {
  readonly client: DynamoDBDocumentClient;
  readonly name: string;
  readonly retry: RetryPolicy;
  readonly ttlDays: number;
  readonly resultsPerItem: number;
  readonly resultsItemMaxBytes: number;
  /** Settings read so far, by batch id (oldest evicted first). */
  private readonly settings = new Map<string, BatchSettings>();
  /** Decoded verdicts of closed waves this function read or wrote (snapshot.ts, ledger.ts). */
  readonly verdicts = new VerdictCache(DEFAULT_CONFIG.VERDICT_CACHE_RECORDS);

  constructor(options: TableOptions) {
    this.client = options.client;
    this.name = options.tableName;
    this.retry = { ...defaultRetryPolicy, ...options.retry };
    this.ttlDays = options.ttlDays ?? DEFAULT_CONFIG.BATCH_TTL_DAYS;
    this.resultsPerItem = options.resultsPerItem ?? DEFAULT_CONFIG.RESULTS_PER_ITEM;
    this.resultsItemMaxBytes = options.resultsItemMaxBytes ?? DEFAULT_CONFIG.RESULTS_ITEM_MAX_BYTES;
  }

  /** One DynamoDB call with bounded retries (condition failures are answers, never retried). */
  call<T>(operation: () => Promise<T>): Promise<T> {
    return withRetry(operation, this.retry);
  }

  /** TTL of an item written at `from`. */
  expiry(from: Date): number {
    return expiresAt(from, this.ttlDays);
  }

  /** The META item (strongly consistent by default: every gate decision needs fresh counters). */
  async getMeta(batchId: string, consistent = true): Promise<BatchMeta | null> {
    const item = await this.getItem(batchId, META_SK, consistent);
    return item ? stripKeys<BatchMeta>(item) : null;
  }

  /** A batch's settings read earlier by this table, if any. */
  cachedSettings(batchId: string): BatchSettings | undefined {
    return this.settings.get(batchId);
  }

  /** Keeps the settings read from a SETTINGS item (null when the item is missing). */
  rememberSettings(batchId: string, item: Item | null | undefined): BatchSettings | null {
    if (!item) return null;
    const settings: BatchSettings = {
      config: item.config as BatchSettings['config'],
      judge: item.judge as BatchSettings['judge'],
      ...(item.grade_scale === undefined ? {} : { grade_scale: item.grade_scale as string[] }),
    };
    if (this.settings.size >= SETTINGS_CACHE_ENTRIES) {
      const oldest = this.settings.keys().next().value;
      if (oldest !== undefined) this.settings.delete(oldest);
    }
    this.settings.set(batchId, settings);
    return settings;
  }

  /** One item of a batch by sort key (strongly consistent by default). */
  async getItem(batchId: string, sortKey: string, consistent = true): Promise<Item | null> {
    const output = await this.call(() =>
      this.client.send(
        new GetCommand({
          TableName: this.name,
          Key: itemKey(batchId, sortKey),
          ConsistentRead: consistent,
        }),
      ),
    );
    return output.Item ?? null;
  }

  /**
   * One conditional update of a batch's META. On success `updated` gets the new META when the
   * update asked for `ReturnValues: 'ALL_NEW'` (else null). When the condition fails, META is read
   * again (strongly consistent) and `conditionFailed` classifies the outcome from it.
   */
  async updateMeta<R>(
    batchId: string,
    update: MetaUpdate,
    updated: (batch: BatchMeta | null) => R | Promise<R>,
    conditionFailed: (latest: BatchMeta | null) => R | Promise<R>,
  ): Promise<R> {
    let attributes: Item | undefined;
    try {
      const output = await this.call(() =>
        this.client.send(
          new UpdateCommand({ ...update, TableName: this.name, Key: metaKey(batchId) }),
        ),
      );
      attributes = output.Attributes;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return conditionFailed(await this.getMeta(batchId));
    }
    return updated(attributes ? stripKeys<BatchMeta>(attributes) : null);
  }

  /** One conditional update of a batch's META; false when its condition failed. */
  updateMetaIf(batchId: string, update: MetaUpdate): Promise<boolean> {
    return this.conditional(
      async () => {
        await this.call(() =>
          this.client.send(
            new UpdateCommand({ ...update, TableName: this.name, Key: metaKey(batchId) }),
          ),
        );
        return true;
      },
      () => false,
    );
  }

  /** Runs a conditional write; a failed condition answers `onConditionFailure` instead. */
  async conditional<R>(write: () => Promise<R>, onConditionFailure: () => R): Promise<R> {
    try {
      return await write();
    } catch (error) {
      if (isConditionFailure(error)) return onConditionFailure();
      throw error;
    }
  }

  /** Every item of a batch whose sort key starts with `sortKeyPrefix` (strongly consistent). */
  queryBatch(batchId: string, query: BatchQuery): Promise<Item[]> {
    return this.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ...(query.filter ? { FilterExpression: query.filter } : {}),
      ...(query.projection ? { ProjectionExpression: query.projection } : {}),
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK, ...query.names },
      ExpressionAttributeValues: {
        ':pk': batchPk(batchId),
        ':prefix': query.sortKeyPrefix,
        ...query.values,
      },
      ConsistentRead: true,
    });
  }

  /**
   * Every item of a batch whose sort key is between `from` and `to` (inclusive), strongly
   * consistent unless `consistent` is false.
   */
  queryRange(batchId: string, query: BatchRangeQuery, consistent = true): Promise<Item[]> {
    return this.queryAll({
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
      ...(query.filter ? { FilterExpression: query.filter } : {}),
      ...(query.projection ? { ProjectionExpression: query.projection } : {}),
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK, ...query.names },
      ExpressionAttributeValues: {
        ':pk': batchPk(batchId),
        ':from': query.from,
        ':to': query.to,
        ...query.values,
      },
      ConsistentRead: consistent,
    });
  }

  /** A query followed through every page, up to `limit` items. */
  async queryAll(
    input: Omit<QueryCommandInput, 'TableName'>,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const remaining = limit - items.length;
      const output = await this.call(() =>
        this.client.send(
          new QueryCommand({
            ...input,
            TableName: this.name,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            ...(Number.isFinite(remaining) ? { Limit: remaining } : {}),
          }),
        ),
      );
      items.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (startKey && items.length < limit);
    return items;
  }

  /**
   * Items of one batch by sort key (BatchGet, 100 keys per call, unprocessed keys retried);
   * eventually consistent unless `consistent`.
   */
  getAll(batchId: string, sortKeys: readonly string[], consistent = false): Promise<Item[]> {
    return this.getKeys(
      sortKeys.map((sk) => itemKey(batchId, sk)),
      consistent,
    );
  }

  /** Items by key, of any partitions (BatchGet, 100 keys per call, unprocessed keys retried). */
  async getKeys(itemKeys: readonly Item[], consistent = false): Promise<Item[]> {
    const found: Item[] = [];
    for (const keys of chunk(itemKeys, BATCH_GET_LIMIT)) {
      let pending: Item[] = keys;
      for (let attempt = 1; pending.length > 0; attempt++) {
        const request = pending;
        const output = await this.call(() =>
          this.client.send(
            new BatchGetCommand({
              RequestItems: {
                [this.name]: { Keys: request, ...(consistent ? { ConsistentRead: true } : {}) },
              },
            }),
          ),
        );
        found.push(...(output.Responses?.[this.name] ?? []));
        pending = (output.UnprocessedKeys?.[this.name]?.Keys as Item[] | undefined) ?? [];
        if (pending.length > 0) await this.backoffOrFail(attempt, 'BatchGet left keys unprocessed');
      }
    }
    return found;
  }

  /** BatchWrite in chunks of 25, re-sending unprocessed items with backoff (bounded). */
  async writeAll(requests: readonly WriteRequest[]): Promise<void> {
    for (const group of chunk(requests, BATCH_WRITE_LIMIT)) {
      let pending: WriteRequest[] = group;
      for (let attempt = 1; pending.length > 0; attempt++) {
        const request = pending;
        const output = await this.call(() =>
          this.client.send(new BatchWriteCommand({ RequestItems: { [this.name]: request } })),
        );
        pending = (output.UnprocessedItems?.[this.name] as WriteRequest[] | undefined) ?? [];
        if (pending.length > 0) {
          await this.backoffOrFail(attempt, 'BatchWrite left items unprocessed');
        }
      }
    }
  }

  private async backoffOrFail(attempt: number, message: string): Promise<void> {
    if (attempt >= this.retry.maxAttempts) {
      const error = new Error(`${message} after ${attempt} attempts`);
      error.name = 'ProvisionedThroughputExceededException';
      throw error;
    }
    await this.retry.sleep(backoffDelay(attempt - 1, this.retry));
  }
}
