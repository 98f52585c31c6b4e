/**
 * The DynamoDB adapter of the workflow's `WorkflowStore` port: one table, one module per role
 * (batches, judging, snapshot, waves, ledger, finalization, callbacks, sweeps, provider batches,
 * history, rate limits) on the shared plumbing of table.ts.
 * A function that needs only some roles builds just those (see the composition roots in lambdas/).
 * The guarantees and the cost of each operation are in docs/data-model.md.
 *
 * Two operations (planWave, finalizeBatch) read META before writing other items; they rely on the
 * continuation running single-flight per batch (FIFO group = batch id), and their final META write
 * is conditional, so even a violated assumption can never count or finalize twice.
 */
import type { WorkflowStore } from '#shared/workflow/ports.ts';
import { dynamoBatches } from '#store/batches.ts';
import { dynamoCallbacks } from '#store/callbacks.ts';
import { dynamoFinalization } from '#store/finalization.ts';
import { dynamoHistory } from '#store/history.ts';
import { dynamoJudging } from '#store/judging.ts';
import { dynamoLedger } from '#store/ledger.ts';
import { dynamoProviderBatchSubmissions } from '#store/provider-batch-submissions.ts';
import { dynamoProviderBatchParts } from '#store/provider-batches.ts';
import { dynamoRateLimits } from '#store/rate-limits.ts';
import { dynamoSnapshots } from '#store/snapshot.ts';
import { dynamoSweeps } from '#store/sweeps.ts';
import { Table, type TableOptions } from '#store/table.ts';
import { dynamoWaves } from '#store/waves.ts';

/** Every role of the store on one table. */
export function dynamoStore(options: TableOptions): WorkflowStore {
  const table = new Table(options);
  return {
    ...dynamoBatches(table),
    ...dynamoJudging(table),
    ...dynamoSnapshots(table),
    ...dynamoWaves(table),
    ...dynamoLedger(table),
    ...dynamoFinalization(table),
    ...dynamoCallbacks(table),
    ...dynamoSweeps(table),
    ...dynamoProviderBatchParts(table),
    ...dynamoProviderBatchSubmissions(table),
    ...dynamoHistory(table),
    ...dynamoRateLimits(table),
  };
}
