/**
 * Recording which provider batch a part submitted, on DynamoDB: one transaction moves the part
 * SUBMITTING(token) → SUBMITTED, writes the claim item of the provider batch id
 * (`PBID#<provider>#<id>`, at most one part ever records an id) and, when the wave did not fit,
 * plans the next part. The claim items also tell a lookup after a lost create which batches of a
 * window belong to other parts.
 */
import { BatchGetCommand, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ProviderBatchService } from '#shared/judges/batch/port.ts';
import type { ProviderBatchStore } from '#shared/workflow/ports.ts';
import type { PartKey, ProviderBatchPart } from '#shared/workflow/store-records.ts';
import { itemKey, partSk, providerBatchClaimKey } from '#store/keys.ts';
import { nextPartItem } from '#store/provider-batches.ts';
import { cancellationReasons } from '#store/retry.ts';
import { type Item, stripKeys, type Table } from '#store/table.ts';
import { PK } from '#store/table-schema.ts';

const BATCH_GET_LIMIT = 100;

export function dynamoProviderBatchSubmissions(
  table: Table,
): Pick<ProviderBatchStore, 'recordSubmission' | 'recordedProviderBatchIds'> {
  const partKey = (key: PartKey) => itemKey(key.batchId, partSk(key.iteration, key.part));
  const getPart = async (key: PartKey): Promise<ProviderBatchPart | null> => {
    const output = await table.call(() =>
      table.client.send(
        new GetCommand({ TableName: table.name, Key: partKey(key), ConsistentRead: true }),
      ),
    );
    return output.Item ? stripKeys<ProviderBatchPart>(output.Item) : null;
  };

  return {
    async recordSubmission(key, input) {
      const part = await getPart(key);
      if (!part) return 'claim_lost';
      const now = input.now.toISOString();
      const record = (planNext: boolean) =>
        table.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: table.name,
                  Key: partKey(key),
                  UpdateExpression:
                    'SET #state = :submitted, provider_batch_id = :id, provider_status = :status, ' +
                    'to_index = :to, requests = :requests, submitted_at = :now REMOVE lease_until',
                  ConditionExpression: '#state = :submitting AND claim_token = :token',
                  ExpressionAttributeNames: { '#state': 'state' },
                  ExpressionAttributeValues: {
                    ':submitted': 'SUBMITTED',
                    ':submitting': 'SUBMITTING',
                    ':token': input.token,
                    ':id': input.providerBatchId,
                    ':status': input.providerStatus,
                    ':to': input.toIndex,
                    ':requests': input.requests,
                    ':now': now,
                  },
                },
              },
              {
                Put: {
                  TableName: table.name,
                  Item: {
                    ...providerBatchClaimKey(part.provider, input.providerBatchId),
                    provider_batch_id: input.providerBatchId,
                    batch_id: key.batchId,
                    iteration: key.iteration,
                    part: key.part,
                    recorded_at: now,
                    expires_at: table.expiry(input.now),
                  },
                  ConditionExpression: 'attribute_not_exists(#pk)',
                  ExpressionAttributeNames: { '#pk': PK },
                },
              },
              ...(planNext
                ? [
                    {
                      Put: {
                        TableName: table.name,
                        Item: nextPartItem(table, part, input.toIndex, input.now),
                        ConditionExpression: 'attribute_not_exists(#pk)',
                        ExpressionAttributeNames: { '#pk': PK },
                      },
                    },
                  ]
                : []),
            ],
          }),
        );
      for (const planNext of [input.planNext, false]) {
        try {
          await table.call(() => record(planNext));
          return 'recorded';
        } catch (error) {
          const [partReason, claimReason, nextReason] = cancellationReasons(error);
          if (partReason?.Code === 'ConditionalCheckFailed') return 'claim_lost';
          if (claimReason?.Code === 'ConditionalCheckFailed') return 'batch_claimed_elsewhere';
          // The next part exists already (planned by an earlier attempt): record without it.
          if (nextReason?.Code !== 'ConditionalCheckFailed') throw error;
        }
      }
      return 'claim_lost';
    },

    async recordedProviderBatchIds(provider: ProviderBatchService, ids) {
      const found = new Set<string>();
      for (let start = 0; start < ids.length; start += BATCH_GET_LIMIT) {
        let keys: Item[] = ids
          .slice(start, start + BATCH_GET_LIMIT)
          .map((id) => providerBatchClaimKey(provider, id));
        while (keys.length > 0) {
          const request = keys;
          const output = await table.call(() =>
            table.client.send(
              new BatchGetCommand({
                RequestItems: { [table.name]: { Keys: request, ConsistentRead: true } },
              }),
            ),
          );
          for (const item of output.Responses?.[table.name] ?? []) {
            found.add(String(item.provider_batch_id));
          }
          keys = (output.UnprocessedKeys?.[table.name]?.Keys as Item[] | undefined) ?? [];
        }
      }
      return found;
    },
  };
}
