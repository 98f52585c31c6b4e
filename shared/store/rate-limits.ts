/**
 * The shared provider rate limiter's state on DynamoDB (docs/data-model.md, "Rate limiter"): one
 * item per provider or endpoint, `RATE#<name>` / `LIMITER`, changed by optimistic concurrency: read
 * it, apply the pure change (shared/domain/rate-limit.ts), write it back on condition that its
 * version is still the one read; on a lost race, read again. One GetItem and one PutItem per
 * admission (1 RCU + 1 WCU for the item's few hundred bytes); a change that leaves the state as it
 * was (a request admitted for the slot booked for it) is the GetItem alone.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { INITIAL_RATE_LIMITER_STATE, type RateLimiterState } from '#domain/rate-limit.ts';
import type { RateLimitStore } from '#shared/workflow/ports.ts';
import { rateLimitKey } from '#store/keys.ts';
import { isConditionFailure, type Table } from '#store/table.ts';

/** Lost races before the error surfaces (each race means another admission went through). */
const MAX_RACES = 20;
const RACE_BASE_DELAY_MS = 5;
const RACE_MAX_DELAY_MS = 200;

interface StoredLimiter {
  version: number;
  state: RateLimiterState;
}

export function dynamoRateLimits(table: Table): RateLimitStore {
  return {
    async updateRateLimit(key, change) {
      const itemKey = rateLimitKey(key);
      for (let race = 0; race < MAX_RACES; race++) {
        const read = await table.call(() =>
          table.client.send(
            new GetCommand({ TableName: table.name, Key: itemKey, ConsistentRead: true }),
          ),
        );
        const stored = read.Item as (StoredLimiter & Record<string, unknown>) | undefined;
        const version = stored?.version ?? 0;
        const current = stored?.state ?? INITIAL_RATE_LIMITER_STATE;
        const { state, result } = change(current);
        if (state === current) return result;
        try {
          await table.call(() =>
            table.client.send(
              new PutCommand({
                TableName: table.name,
                Item: { ...itemKey, version: version + 1, state },
                ConditionExpression:
                  version === 0 ? 'attribute_not_exists(#version)' : '#version = :version',
                ExpressionAttributeNames: { '#version': 'version' },
                ...(version === 0 ? {} : { ExpressionAttributeValues: { ':version': version } }),
              }),
            ),
          );
          return result;
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
          // Lost the race to another admission: back off with jitter so racers spread out.
          await table.retry.sleep(
            table.retry.random() * Math.min(RACE_MAX_DELAY_MS, RACE_BASE_DELAY_MS * 2 ** race),
          );
        }
      }
      throw new Error(`rate limiter ${key}: lost ${MAX_RACES} races in a row`);
    },
  };
}
