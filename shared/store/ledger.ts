/**
 * The per-wave ledger beyond planning, on DynamoDB (docs/data-model.md, "Per-wave ledger"):
 * closing a wave — how it ended (counts, last callback), what the engine decided next, and its
 * verdicts packed into VERDICTS items that the next continuation step reads instead of the wave's
 * comparison items — and every wave's record for the API and the report.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LedgerStore } from '#shared/workflow/ports.ts';
import { itemKey, verdictsSk, waveSk } from '#store/keys.ts';
import type { Table } from '#store/table.ts';
import { PK, TTL_ATTRIBUTE } from '#store/table-schema.ts';
import { encodeVerdicts } from '#store/verdicts.ts';

/** Packed verdict bytes per item: well under DynamoDB's 400 KB item limit. */
const VERDICT_CHUNK_BYTES = 350_000;

/** Byte chunks of at most `size` (one empty chunk for empty input). */
function byteChunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let start = 0; start < bytes.length || chunks.length === 0; start += size) {
    chunks.push(bytes.subarray(start, start + size));
  }
  return chunks;
}

export function dynamoLedger(table: Table): LedgerStore {
  return {
    /**
     * (1) Unless the batch finalizes, the wave's verdicts as VERDICTS items (deterministic content:
     * a repeat writes the same bytes); (2) one update of the wave's record (closed_at kept from
     * the first close). Both are safe to repeat, and a wave closes only once every comparison of
     * it is terminal, so its verdicts never change afterwards.
     */
    async closeWave(batchId, input): Promise<void> {
      const expires = table.expiry(input.now);
      if (input.keepVerdicts) {
        const parts = byteChunks(encodeVerdicts(input.records), VERDICT_CHUNK_BYTES);
        await table.writeAll(
          parts.map((verdicts, index) => ({
            PutRequest: {
              Item: {
                ...itemKey(batchId, verdictsSk(input.iteration, index)),
                iteration: input.iteration,
                chunk: index,
                chunks: parts.length,
                count: input.records.length,
                verdicts,
                [TTL_ATTRIBUTE]: expires,
              },
            },
          })),
        );
        table.verdicts.set(batchId, input.createdAt, input.iteration, [...input.records]);
      }
      let completed = 0;
      let failed = 0;
      for (const record of input.records) {
        if (record.status === 'COMPLETED') completed += 1;
        else if (record.status === 'FAILED') failed += 1;
      }
      await table.conditional(
        () =>
          table.call(() =>
            table.client.send(
              new UpdateCommand({
                TableName: table.name,
                Key: itemKey(batchId, waveSk(input.iteration)),
                UpdateExpression:
                  'SET closed_at = if_not_exists(closed_at, :now), last_callback_at = :last, completed = :completed, failed = :failed, timed_out = :timed_out, next_decision = :decision, next_reason = :reason',
                // A wave planned before the ledger existed has no record to close.
                ConditionExpression: 'attribute_exists(#pk)',
                ExpressionAttributeNames: { '#pk': PK },
                ExpressionAttributeValues: {
                  ':now': input.now.toISOString(),
                  ':last': input.lastCallbackAt,
                  ':completed': completed,
                  ':failed': failed,
                  ':timed_out': input.timedOut,
                  ':decision': input.nextDecision,
                  ':reason': input.nextReason,
                },
              }),
            ),
          ),
        () => undefined,
      );
    },
  };
}
