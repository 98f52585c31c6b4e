/**
 * Finalizing a batch exactly once, on DynamoDB: the result rows in chunks of RESULTS_PER_ITEM rows
 * and at most RESULTS_ITEM_MAX_BYTES (rows with many grade probabilities are larger), one
 * conditional META update to the final status, the mark that its one event was published, and the
 * count of failed continuation steps.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { isTerminal } from '#domain/types.ts';
import type { ResultRow } from '#messages/state.ts';
import type { FinalizationStore } from '#shared/workflow/ports.ts';
import type { BatchMeta, FinalizeResult } from '#shared/workflow/store-records.ts';
import { FINISH_ATTEMPTS, finishReleasing } from '#store/in-flight.ts';
import { itemKey, REPORT_SK, RESULTS_PREFIX, resultsSk } from '#store/keys.ts';
import { chunkByBytes, type Table } from '#store/table.ts';
import { ACTIVE_PK, ACTIVE_SK, TTL_ATTRIBUTE } from '#store/table-schema.ts';

export function dynamoFinalization(table: Table): FinalizationStore {
  return {
    /**
     * Finalizes exactly once: (1) read META — already final or moved on: nothing is written;
     * (2) write the result chunks and the REPORT item with the processing metadata (deterministic
     * keys; the report stays off META, which keeps every late callback's cancelled transaction
     * cheap); (3) ONE conditional META update from RUNNING at the expected iteration to the final
     * status, with event_published = false, and the release of the batch's in-flight counts (a
     * transaction when it was counted; docs/deploy.md).
     */
    async finalizeBatch(batchId, input): Promise<FinalizeResult> {
      const meta = await table.getMeta(batchId);
      if (!meta) return { outcome: 'not_found' };
      if (isTerminal(meta.status)) return { outcome: 'already_final', batch: meta };
      if (meta.status !== 'RUNNING' || meta.current_iteration !== input.expectedIteration) {
        return { outcome: 'stale', batch: meta };
      }
      const chunks = chunkByBytes(input.results, table.resultsPerItem, table.resultsItemMaxBytes);
      const expires = table.expiry(input.now);
      await table.writeAll(
        chunks.map((rows, index) => ({
          PutRequest: {
            Item: { ...itemKey(batchId, resultsSk(index)), rows, [TTL_ATTRIBUTE]: expires },
          },
        })),
      );
      await table.call(() =>
        table.client.send(
          new PutCommand({
            TableName: table.name,
            Item: {
              ...itemKey(batchId, REPORT_SK),
              processing_metadata: input.processingMetadata,
              [TTL_ATTRIBUTE]: expires,
            },
          }),
        ),
      );
      const now = input.now.toISOString();
      // The final status and the release of what the batch counted in flight: one write, tried
      // again while META moved under it (a duplicate callback's write) and it is still RUNNING.
      const update = {
        UpdateExpression:
          'SET #status = :final, failure_reason = :reason, resampling_pass_count = :passes, result_chunks = :chunks, finalized_at = :now, updated_at = :now, event_published = :false REMOVE #active_pk, #active_sk ADD version :one',
        ConditionExpression: '#status = :running AND current_iteration = :expected',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#active_pk': ACTIVE_PK,
          '#active_sk': ACTIVE_SK,
        },
        ExpressionAttributeValues: {
          ':final': input.status,
          ':reason': input.failureReason ?? null,
          ':passes': input.resamplingPassCount,
          ':chunks': chunks.length,
          ':now': now,
          ':false': false,
          ':one': 1,
          ':running': 'RUNNING',
          ':expected': input.expectedIteration,
        },
      };
      const sets = {
        status: input.status,
        failure_reason: input.failureReason ?? null,
        resampling_pass_count: input.resamplingPassCount,
        result_chunks: chunks.length,
        finalized_at: now,
        updated_at: now,
        event_published: false,
      };
      let read = meta;
      for (let attempt = 1; attempt <= FINISH_ATTEMPTS; attempt++) {
        const finalized = await finishReleasing(table, batchId, read, update, sets);
        if (finalized) return { outcome: 'finalized', batch: finalized };
        const latest = await table.getMeta(batchId);
        if (!latest) return { outcome: 'not_found' };
        if (isTerminal(latest.status)) return { outcome: 'already_final', batch: latest };
        if (latest.status !== 'RUNNING' || latest.current_iteration !== input.expectedIteration) {
          return { outcome: 'stale', batch: latest };
        }
        read = latest;
      }
      throw new Error(`finalization of batch ${batchId} kept meeting a changing META; retry`);
    },

    /**
     * Marks the completion/failure event as published, once. Call after publishing; a crash
     * between publish and this call re-publishes on redelivery (consumers dedupe by batch_id), and
     * once this succeeded the batch never publishes again.
     */
    async markEventPublished(batchId, now) {
      const marked = await table.updateMetaIf(batchId, {
        UpdateExpression: 'SET event_published = :true, event_published_at = :now ADD version :one',
        ConditionExpression: 'attribute_exists(finalized_at) AND event_published = :false',
        ExpressionAttributeValues: {
          ':true': true,
          ':false': false,
          ':now': now.toISOString(),
          ':one': 1,
        },
      });
      return marked ? 'marked' : 'already_published';
    },

    /** Stored result rows (all chunks), in essay-index order. */
    async getResults(batchId): Promise<ResultRow[]> {
      const items = await table.queryBatch(batchId, { sortKeyPrefix: RESULTS_PREFIX });
      return items.flatMap((item) => item.rows as ResultRow[]);
    },

    /** ADD continuation_failures :one (and a fresh TTL) while the batch is RUNNING. */
    async recordContinuationFailure(batchId, now): Promise<BatchMeta | null> {
      return table.updateMeta<BatchMeta | null>(
        batchId,
        {
          UpdateExpression:
            'SET updated_at = :now, #ttl = :ttl ADD continuation_failures :one, version :one',
          ConditionExpression: '#status = :running',
          ExpressionAttributeNames: { '#status': 'status', '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':now': now.toISOString(),
            ':ttl': table.expiry(now),
            ':one': 1,
            ':running': 'RUNNING',
          },
          ReturnValues: 'ALL_NEW',
        },
        (batch) => batch,
        () => null,
      );
    },
  };
}
