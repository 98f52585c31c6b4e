/**
 * What the judge reads for one comparison request, on DynamoDB: META (is the batch still
 * RUNNING?), the comparison item (is it already answered?), the two essays and, unless this
 * function read them before, the batch's settings (its judge choice) — all in ONE strongly
 * consistent BatchGetItem, so judging a comparison costs one DynamoDB request before the provider
 * call (docs/data-model.md, "Access patterns"); then one conditional PutItem claims the
 * comparison, so two copies of a request never both call the provider. The reads of the records
 * an invocation judges together start in the same turn of the event loop and are coalesced into
 * one BatchGetItem for all of them.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { JudgeStore } from '#shared/workflow/ports.ts';
import type {
  BatchMeta,
  ComparisonClaim,
  JudgeContext,
  StoredComparison,
  StoredEssay,
} from '#shared/workflow/store-records.ts';
import { claimSk, comparisonSk, essaySk, itemKey, META_SK, SETTINGS_SK } from '#store/keys.ts';
import {
  type Item,
  isConditionFailure,
  plainAttribute,
  stripKeys,
  type Table,
} from '#store/table.ts';
import { PK, SK } from '#store/table-schema.ts';

/** The claim item's content: `judging` while a delivery holds the lease, `released` once given up. */
interface ClaimRecord {
  token: string;
  state: 'judging' | 'released';
  /** Epoch ms the lease ends; 0 once released. */
  until: number;
  at: Date;
}

interface PendingRead {
  keys: Item[];
  resolve: (items: Map<string, Item>) => void;
  reject: (error: unknown) => void;
}

const keyString = (key: Item) => `${String(key[PK])}\u0000${String(key[SK])}`;

/**
 * Strongly consistent reads asked for in one turn of the event loop, served by one BatchGetItem
 * (chunked at 100 keys by the table): the judge's records start their reads together, so an
 * invocation of five records costs one read request instead of five. If the request fails, every
 * read of the turn fails with it (each record is then redelivered, as when it failed alone).
 */
export class CoalescedReads {
  private pending: PendingRead[] = [];

  constructor(private readonly table: Table) {}

  /** The items found for `keys`, by `pk`/`sk`; missing items are absent. */
  read(keys: Item[]): Promise<Map<string, Item>> {
    return new Promise((resolve, reject) => {
      this.pending.push({ keys, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  /** The item of `key` in a map returned by `read`. */
  static itemOf(items: Map<string, Item>, key: Item): Item | undefined {
    return items.get(keyString(key));
  }

  private async flush(): Promise<void> {
    const reads = this.pending;
    this.pending = [];
    const unique = new Map<string, Item>();
    for (const key of reads.flatMap((read) => read.keys)) unique.set(keyString(key), key);
    try {
      const found = await this.table.getKeys([...unique.values()], true);
      const byKey = new Map(found.map((item) => [keyString(item), item]));
      for (const read of reads) read.resolve(byKey);
    } catch (error) {
      for (const read of reads) read.reject(error);
    }
  }
}

export function dynamoJudging(table: Table): JudgeStore {
  const reads = new CoalescedReads(table);
  const putClaim = (
    batchId: string,
    comparisonId: string,
    claim: ClaimRecord,
    condition: {
      expression: string;
      names: Record<string, string>;
      values: Record<string, unknown>;
    },
  ) =>
    table.call(() =>
      table.client.send(
        new PutCommand({
          TableName: table.name,
          Item: {
            ...itemKey(batchId, claimSk(comparisonId)),
            claim_token: claim.token,
            claim_state: claim.state,
            claimed_until: claim.until,
            claimed_at: claim.at.toISOString(),
            expires_at: table.expiry(claim.at),
          },
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: condition.names,
          ExpressionAttributeValues: condition.values,
          // The holder's lease comes back with a failed condition: no read to learn when it ends.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );

  return {
    async loadJudgeContext(batchId, comparisonId, indices): Promise<JudgeContext> {
      const cached = table.cachedSettings(batchId);
      const essayKeys = [...new Set(indices)].map(essaySk);
      const sortKeys = [META_SK, comparisonSk(comparisonId), ...essayKeys];
      if (!cached) sortKeys.push(SETTINGS_SK);
      const keys = sortKeys.map((sortKey) => itemKey(batchId, sortKey));
      const found = await reads.read(keys);
      const bySortKey = new Map<string, Item>();
      for (const key of keys) {
        const item = CoalescedReads.itemOf(found, key);
        if (item) bySortKey.set(String(key[SK]), item);
      }
      const meta = bySortKey.get(META_SK);
      const comparison = bySortKey.get(comparisonSk(comparisonId));
      const essays = new Map<number, StoredEssay>();
      for (const key of essayKeys) {
        const item = bySortKey.get(key);
        if (!item) continue;
        const essay = stripKeys<StoredEssay>(item);
        essays.set(essay.index, essay);
      }
      return {
        batch: meta ? stripKeys<BatchMeta>(meta) : null,
        comparisonStatus: comparison ? (comparison.status as StoredComparison['status']) : null,
        essays,
        settings: cached ?? table.rememberSettings(batchId, bySortKey.get(SETTINGS_SK)),
      };
    },

    async claimComparison(batchId, comparisonId, { until, now }): Promise<ComparisonClaim> {
      const token = randomUUID();
      try {
        // No claim yet, or a lease that ended (its holder finished, died or released it).
        await putClaim(
          batchId,
          comparisonId,
          { token, state: 'judging', until: until.getTime(), at: now },
          {
            expression: 'attribute_not_exists(#pk) OR #until < :now',
            names: { '#pk': PK, '#until': 'claimed_until' },
            values: { ':now': now.getTime() },
          },
        );
        return { outcome: 'claimed', token };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const held = (error as { Item?: Item }).Item;
        // Our own Put, retried after a lost answer, found itself.
        if (plainAttribute(held, 'claim_token') === token) return { outcome: 'claimed', token };
        const heldUntil = Number(plainAttribute(held, 'claimed_until'));
        return {
          outcome: 'held',
          // Without the old item (never from DynamoDB), assume a whole lease from now.
          claimedUntil: new Date(Number.isFinite(heldUntil) ? heldUntil : until.getTime()),
        };
      }
    },

    async releaseClaim(batchId, comparisonId, token, now): Promise<void> {
      // Only our own lease: one taken over since (ours had expired) is left alone.
      await table.conditional(
        () =>
          putClaim(
            batchId,
            comparisonId,
            { token, state: 'released', until: 0, at: now },
            {
              expression: '#token = :token',
              names: { '#token': 'claim_token' },
              values: { ':token': token },
            },
          ),
        () => undefined,
      );
    },
  };
}
