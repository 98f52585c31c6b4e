/**
 * Provider batch parts on DynamoDB (judge.mode provider_batch): one item per part of a wave
 * (`PBATCH#<iteration>#<part>` under the batch), listed while open in the active-batches index under
 * their own partition (sort key = planned time first, so the oldest comes first and its age is in
 * the key), and one claim item per provider batch id (`PBID#<provider>#<id>`) so no two parts can
 * ever record the same provider batch. Every transition is a conditional write on the part's state
 * and claim token; see the state machine in `#shared/workflow/provider-batch-port.ts`.
 */
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ProviderBatchStore } from '#shared/workflow/ports.ts';
import {
  type FinalizePartInput,
  type OpenPart,
  type PartKey,
  type ProviderBatchPart,
  submissionKey,
  type WaveComparison,
} from '#shared/workflow/store-records.ts';
import {
  batchIdFromPk,
  itemKey,
  iterationPrefix,
  PROVIDER_BATCH_PARTITION,
  partKeyFromSk,
  partSk,
  providerBatchSortKey,
} from '#store/keys.ts';
import { cancellationReasons } from '#store/retry.ts';
import { type Item, stripKeys, type Table } from '#store/table.ts';
import { ACTIVE_INDEX, ACTIVE_PK, ACTIVE_SK, PK, SK } from '#store/table-schema.ts';

const _BATCH_GET_LIMIT = 100;

function partItem(table: Table, input: Omit<ProviderBatchPart, 'state'> & { now: Date }): Item {
  const { now, ...part } = input;
  const key = { batchId: part.batch_id, iteration: part.iteration, part: part.part };
  return {
    ...itemKey(part.batch_id, partSk(part.iteration, part.part)),
    ...part,
    state: 'PLANNED',
    [ACTIVE_PK]: PROVIDER_BATCH_PARTITION,
    [ACTIVE_SK]: providerBatchSortKey(part.planned_at, key),
    expires_at: table.expiry(now),
  };
}

export function nextPartItem(
  table: Table,
  current: Pick<ProviderBatchPart, 'batch_id' | 'iteration' | 'part' | 'provider' | 'deadline'>,
  fromIndex: number,
  now: Date,
): Item {
  const key = { batchId: current.batch_id, iteration: current.iteration, part: current.part + 1 };
  return partItem(table, {
    batch_id: key.batchId,
    iteration: key.iteration,
    part: key.part,
    provider: current.provider,
    from_index: fromIndex,
    deadline: current.deadline,
    planned_at: now.toISOString(),
    submission_key: submissionKey(key),
    now,
  });
}

/** The part roles of the provider batch store (recording a submission: provider-batch-submissions.ts). */
export function dynamoProviderBatchParts(
  table: Table,
): Omit<ProviderBatchStore, 'recordSubmission' | 'recordedProviderBatchIds'> {
  const partKey = (key: PartKey) => itemKey(key.batchId, partSk(key.iteration, key.part));

  const getPart = async (key: PartKey): Promise<ProviderBatchPart | null> => {
    const output = await table.call(() =>
      table.client.send(
        new GetCommand({ TableName: table.name, Key: partKey(key), ConsistentRead: true }),
      ),
    );
    return output.Item ? stripKeys<ProviderBatchPart>(output.Item) : null;
  };

  /** A conditional update returning the new part, or null when the condition failed. */
  const updatePart = (
    key: PartKey,
    update: {
      set: string[];
      remove?: string[];
      condition: string;
      values: Item;
      names?: Record<string, string>;
    },
  ): Promise<ProviderBatchPart | null> =>
    table.conditional(
      async () => {
        const output = await table.call(() =>
          table.client.send(
            new UpdateCommand({
              TableName: table.name,
              Key: partKey(key),
              UpdateExpression:
                `SET ${update.set.join(', ')}` +
                (update.remove?.length ? ` REMOVE ${update.remove.join(', ')}` : ''),
              ConditionExpression: update.condition,
              ExpressionAttributeNames: { '#state': 'state', ...update.names },
              ExpressionAttributeValues: update.values,
              ReturnValues: 'ALL_NEW',
            }),
          ),
        );
        return output.Attributes ? stripKeys<ProviderBatchPart>(output.Attributes) : null;
      },
      () => null,
    );

  return {
    async planProviderBatchPart(input) {
      const key = { batchId: input.batchId, iteration: input.iteration, part: input.part };
      await table.conditional(
        async () => {
          await table.call(() =>
            table.client.send(
              new PutCommand({
                TableName: table.name,
                Item: partItem(table, {
                  batch_id: input.batchId,
                  iteration: input.iteration,
                  part: input.part,
                  provider: input.provider,
                  from_index: input.fromIndex,
                  deadline: input.deadline,
                  planned_at: input.now.toISOString(),
                  submission_key: submissionKey(key),
                  now: input.now,
                }),
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': PK },
              }),
            ),
          );
        },
        () => undefined,
      );
    },

    async listOpenProviderBatchParts(limit): Promise<OpenPart[]> {
      const items = await table.queryAll(
        {
          IndexName: ACTIVE_INDEX,
          KeyConditionExpression: '#apk = :partition',
          ExpressionAttributeNames: { '#apk': ACTIVE_PK },
          ExpressionAttributeValues: { ':partition': PROVIDER_BATCH_PARTITION },
        },
        limit,
      );
      const open: OpenPart[] = [];
      for (const item of items) {
        const parsed = partKeyFromSk(String(item[SK]));
        if (!parsed) continue;
        const sortKey = String(item[ACTIVE_SK]);
        open.push({
          batchId: batchIdFromPk(String(item[PK])),
          ...parsed,
          plannedAt: sortKey.slice(0, sortKey.indexOf('#')),
        });
      }
      return open;
    },

    getProviderBatchPart: getPart,

    async claimSubmission(key, input) {
      const claim = {
        set: [
          '#state = :submitting',
          'claim_token = :token',
          'claimed_at = :now',
          'lease_until = :lease',
          'max_requests = :max_requests',
          'max_bytes = :max_bytes',
        ],
        values: {
          ':submitting': 'SUBMITTING',
          ':token': input.token,
          ':now': input.now.toISOString(),
          ':lease': input.leaseUntil.toISOString(),
          ':max_requests': input.limits.maxRequests,
          ':max_bytes': input.limits.maxBytes,
        },
      };
      // A planned part, or one whose earlier claim lapsed (the run that held it is over).
      return (
        (await updatePart(key, {
          ...claim,
          condition: '#state = :planned',
          values: { ...claim.values, ':planned': 'PLANNED' },
        })) ??
        updatePart(key, { ...claim, condition: '#state = :submitting AND lease_until < :now' })
      );
    },

    async claimCollection(key, input) {
      const claim = {
        set: [
          '#state = :collecting',
          'claim_token = :token',
          'claimed_at = :now',
          'lease_until = :lease',
        ],
        values: {
          ':collecting': 'COLLECTING',
          ':token': input.token,
          ':now': input.now.toISOString(),
          ':lease': input.leaseUntil.toISOString(),
        },
      };
      // An ended part nobody collects yet, or one whose collector stopped or lapsed (cursor kept).
      return (
        (await updatePart(key, {
          ...claim,
          condition: '#state = :submitted',
          values: { ...claim.values, ':submitted': 'SUBMITTED' },
        })) ??
        updatePart(key, { ...claim, condition: '#state = :collecting AND lease_until < :now' })
      );
    },

    async saveCursor(key, input) {
      const updated = await updatePart(key, {
        set: ['#cursor = :cursor', ...(input.release ? ['lease_until = :now'] : [])],
        names: { '#cursor': 'cursor' },
        condition: '#state = :collecting AND claim_token = :token',
        values: {
          ':collecting': 'COLLECTING',
          ':token': input.token,
          ':cursor': input.cursor,
          ...(input.release ? { ':now': input.now.toISOString() } : {}),
        },
      });
      return updated !== null;
    },

    async finishProviderBatchPart(key, input: FinalizePartInput) {
      const part = await getPart(key);
      if (!part) return;
      const values: Item = {
        ':final': input.state,
        ':now': input.now.toISOString(),
        ...(input.token === undefined
          ? { ':planned': 'PLANNED' }
          : { ':token': input.token, ':submitting': 'SUBMITTING', ':collecting': 'COLLECTING' }),
      };
      const sets = ['#state = :final', 'finished_at = :now'];
      if (input.reason !== undefined) {
        values[':reason'] = input.reason;
        sets.push('reason = :reason');
      }
      if (input.outcomeCounts !== undefined) {
        values[':counts'] = input.outcomeCounts;
        sets.push('outcome_counts = :counts');
      }
      if (input.state === 'COLLECTED') sets.push('collected_at = :now');
      const update = {
        TableName: table.name,
        Key: partKey(key),
        UpdateExpression: `SET ${sets.join(', ')} REMOVE #apk, #ask, lease_until`,
        ConditionExpression:
          input.token === undefined
            ? '#state = :planned'
            : '#state IN (:submitting, :collecting) AND claim_token = :token',
        ExpressionAttributeNames: { '#state': 'state', '#apk': ACTIVE_PK, '#ask': ACTIVE_SK },
        ExpressionAttributeValues: values,
      };
      const next =
        input.planNextFrom === undefined
          ? []
          : [
              {
                Put: {
                  TableName: table.name,
                  Item: nextPartItem(table, part, input.planNextFrom, input.now),
                  ConditionExpression: 'attribute_not_exists(#pk)',
                  ExpressionAttributeNames: { '#pk': PK },
                },
              },
            ];
      // A failed condition: the part was finished (or taken over) already; nothing to do.
      await table
        .conditional(
          async () => {
            if (next.length === 0) {
              await table.call(() => table.client.send(new UpdateCommand(update)));
            } else {
              await table.call(() =>
                table.client.send(
                  new TransactWriteCommand({ TransactItems: [{ Update: update }, ...next] }),
                ),
              );
            }
          },
          () => undefined,
        )
        .catch((error: unknown) => {
          if (
            cancellationReasons(error).some((reason) => reason.Code === 'ConditionalCheckFailed')
          ) {
            return;
          }
          throw error;
        });
    },

    async markCancelRequested(key, now) {
      await updatePart(key, {
        set: ['cancel_requested_at = :now'],
        condition: 'attribute_exists(#state) AND attribute_not_exists(cancel_requested_at)',
        values: { ':now': now.toISOString() },
      });
    },

    async listWaveComparisons(batchId, iteration, fromIndex, limit): Promise<WaveComparison[]> {
      const prefix = iterationPrefix(iteration);
      const items = await table.queryAll(
        {
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
          ProjectionExpression: '#index, a, b',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#index': 'index' },
          ExpressionAttributeValues: {
            ':pk': itemKey(batchId, '')[PK],
            ':from': `${prefix}${String(fromIndex).padStart(6, '0')}`,
            ':to': `${prefix}999999`,
          },
          ConsistentRead: true,
        },
        limit,
      );
      return items.map((item) => ({
        index: Number(item.index),
        a: Number(item.a),
        b: Number(item.b),
      }));
    },
  };
}
