/**
 * What the judge reads for one comparison request, on DynamoDB: META (is the batch still
 * RUNNING?), the comparison item (is it already answered?), the two essays and, unless this
 * function read them before, the batch's settings (its judge choice) — all in ONE strongly
 * consistent BatchGetItem, so judging a comparison costs one DynamoDB request before the provider
 * call (docs/data-model.md, "Access patterns"); then one conditional PutItem claims the
 * comparison, so two copies of a request never both call the provider.
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
import { isConditionFailure, stripKeys, type Table } from '#store/table.ts';
import { PK, SK } from '#store/table-schema.ts';

/** The claim item's content: `judging` while a delivery works on it, then `answered` or `released`. */
interface ClaimRecord {
  token: string;
  state: 'judging' | 'answered' | 'released';
  /** Epoch ms; 0 once released. */
  until: number;
  at: Date;
  messageId?: string | undefined;
}

export function dynamoJudging(table: Table): JudgeStore {
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
            ...(claim.messageId === undefined ? {} : { message_id: claim.messageId }),
            expires_at: table.expiry(claim.at),
          },
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: condition.names,
          ExpressionAttributeValues: condition.values,
        }),
      ),
    );
  /** Replaces our own claim (condition: still ours), and ignores one taken over since. */
  const settle = (batchId: string, comparisonId: string, claim: ClaimRecord) =>
    table.conditional(
      () =>
        putClaim(batchId, comparisonId, claim, {
          expression: '#token = :token',
          names: { '#token': 'claim_token' },
          values: { ':token': claim.token },
        }),
      () => undefined,
    );

  return {
    async loadJudgeContext(batchId, comparisonId, indices): Promise<JudgeContext> {
      const cached = table.cachedSettings(batchId);
      const essayKeys = [...new Set(indices)].map(essaySk);
      const sortKeys = [META_SK, comparisonSk(comparisonId), ...essayKeys];
      if (!cached) sortKeys.push(SETTINGS_SK);
      const items = await table.getAll(batchId, sortKeys, true);
      const bySortKey = new Map(items.map((item) => [String(item[SK]), item]));
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

    async claimComparison(
      batchId,
      comparisonId,
      { until, now, messageId },
    ): Promise<ComparisonClaim> {
      const token = randomUUID();
      // No claim yet, an expired or released one, or one an earlier delivery of this same message
      // took and never settled (that delivery died: SQS hands a message out again only after it).
      const sameMessage =
        messageId === undefined ? '' : ' OR (#message = :message AND #state = :judging)';
      try {
        await putClaim(
          batchId,
          comparisonId,
          { token, state: 'judging', until: until.getTime(), at: now, messageId },
          {
            expression: `attribute_not_exists(#pk) OR #until < :now${sameMessage}`,
            names: {
              '#pk': PK,
              '#until': 'claimed_until',
              ...(messageId === undefined
                ? {}
                : { '#message': 'message_id', '#state': 'claim_state' }),
            },
            values: {
              ':now': now.getTime(),
              ...(messageId === undefined ? {} : { ':message': messageId, ':judging': 'judging' }),
            },
          },
        );
        return { outcome: 'claimed', token };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      // A live claim holds it — or our own Put, retried after a lost answer, found itself.
      const held = await table.getItem(batchId, claimSk(comparisonId));
      if (held?.claim_token === token) return { outcome: 'claimed', token };
      return {
        outcome: 'held',
        claimedUntil: new Date(Number(held?.claimed_until ?? 0)).toISOString(),
      };
    },

    async markClaimAnswered(batchId, comparisonId, token, { until, now }): Promise<void> {
      await settle(batchId, comparisonId, {
        token,
        state: 'answered',
        until: until.getTime(),
        at: now,
      });
    },

    async releaseClaim(batchId, comparisonId, token, now): Promise<void> {
      await settle(batchId, comparisonId, { token, state: 'released', until: 0, at: now });
    },
  };
}
