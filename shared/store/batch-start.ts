/**
 * Starting a paged batch on DynamoDB: PENDING_ESSAYS → RUNNING once every essay is stored, and
 * with the caps the batch is counted in flight against its owner in the same transaction
 * (in-flight.ts), so a refused start counts nothing and leaves the batch waiting to be started.
 */
import type { InFlightCaps } from '#domain/in-flight.ts';
import type {
  BatchMeta,
  InFlightReservation,
  StartBatchOutcome,
} from '#shared/workflow/store-records.ts';
import {
  RESERVE_ATTEMPTS,
  refusalNow,
  refusalOfCounter,
  reservationWrites,
  transact,
} from '#store/in-flight.ts';
import { ACTIVE_PARTITION, metaKey } from '#store/keys.ts';
import type { MetaUpdate, Table } from '#store/table.ts';
import { ACTIVE_PK, ACTIVE_SK } from '#store/table-schema.ts';

/** Who a batch stored before owners existed is counted against. */
const UNOWNED = 'unowned';

/** Attribute names of the active-batches index, for update expressions. */
const ACTIVE_NAMES = { '#active_pk': ACTIVE_PK, '#active_sk': ACTIVE_SK };

/**
 * PENDING_ESSAYS → RUNNING, only when every essay is stored: one conditional update, or with
 * `inFlight` one transaction that also counts the batch against the caps.
 */
export async function startBatchIn(
  table: Table,
  batchId: string,
  now: Date,
  caps?: InFlightCaps,
): Promise<StartBatchOutcome> {
  const classify = (batch: BatchMeta | null): StartBatchOutcome => {
    if (!batch) return { outcome: 'not_found' };
    if (batch.status === 'PENDING_ESSAYS') return { outcome: 'essays_missing', batch };
    if (batch.status === 'RUNNING') return { outcome: 'already_started', batch };
    return { outcome: 'not_startable', batch };
  };
  const update = (essays?: number, inFlight?: InFlightReservation): MetaUpdate => ({
    UpdateExpression: `SET #status = :running, updated_at = :now, #active_pk = :active_pk, #active_sk = :active_sk${
      essays === undefined
        ? ''
        : ', in_flight_principal = :in_flight_principal, in_flight_essays = :in_flight_essays'
    } ADD version :one`,
    ConditionExpression:
      essays === undefined
        ? '#status = :pending_essays AND essays_stored = essay_count'
        : '#status = :pending_essays AND essays_stored = :essays AND essay_count = :essays',
    ExpressionAttributeNames: { '#status': 'status', ...ACTIVE_NAMES },
    ExpressionAttributeValues: {
      ':running': 'RUNNING',
      ':pending_essays': 'PENDING_ESSAYS',
      ':now': now.toISOString(),
      ':one': 1,
      ':active_pk': ACTIVE_PARTITION,
      ':active_sk': batchId,
      ...(essays === undefined || !inFlight
        ? {}
        : {
            ':essays': essays,
            ':in_flight_principal': inFlight.principal,
            ':in_flight_essays': essays,
          }),
    },
  });
  if (!caps) {
    return table.updateMeta<StartBatchOutcome>(
      batchId,
      { ...update(), ReturnValues: 'ALL_NEW' },
      (batch) => ({ outcome: 'started', batch: batch as BatchMeta }),
      classify,
    );
  }
  for (let attempt = 1; ; attempt++) {
    const read = await table.getMeta(batchId);
    if (read?.status !== 'PENDING_ESSAYS' || read.essays_stored !== read.essay_count) {
      return classify(read);
    }
    const essays = read.essay_count;
    // Counted against its owner, whoever starts it (batches stored before owners: unowned).
    const inFlight = { principal: read.owner ?? UNOWNED, caps };
    const refusal = await refusalNow(table, inFlight, essays);
    if (refusal) return { outcome: 'over_cap', batch: read, refusal };
    const outcome = await transact(table, [
      { Update: { ...update(essays, inFlight), TableName: table.name, Key: metaKey(batchId) } },
      ...reservationWrites(table, inFlight, essays),
    ]);
    if (outcome.ok) {
      const started = await table.getMeta(batchId);
      return started ? { outcome: 'started', batch: started } : { outcome: 'not_found' };
    }
    // META moved (a concurrent start): classify it; counters full: read why, or try again.
    if (outcome.failed.includes(0)) return classify(await table.getMeta(batchId));
    if (attempt >= RESERVE_ATTEMPTS) {
      const refusal = await refusalOfCounter(table, outcome.failed, 1, inFlight, essays);
      return { outcome: 'over_cap', batch: read, refusal };
    }
  }
}
