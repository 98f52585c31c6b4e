/**
 * The in-flight counters on DynamoDB (docs/deploy.md, docs/data-model.md): one item per caller
 * (`batches` running) and one for the deployment (`essays` and `batches` of every running batch).
 * A batch is counted by conditional updates inside the transaction that makes it RUNNING, and
 * released by unconditional ones inside the transaction that makes it final, so a refused start
 * counts nothing, an accepted one is always counted, and the release happens exactly when the
 * status changes: once. META records what was counted (in_flight_principal, in_flight_essays).
 */
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { type CapRefusal, capRefusal, type InFlightCounts, roomFor } from '#domain/in-flight.ts';
import type { BatchMeta, InFlightReservation } from '#shared/workflow/store-records.ts';
import { inFlightDeploymentKey, inFlightPrincipalKey, metaKey } from '#store/keys.ts';
import { cancellationReasons } from '#store/retry.ts';
import type { Item, MetaUpdate, Table, WriteRequest } from '#store/table.ts';
import { PK, SK } from '#store/table-schema.ts';

/** One item of a TransactWriteItems request (the store writes Puts and Updates). */
export type TransactItem = { Put: Item } | { Update: Item };

/** The caller's and the deployment's counts (strongly consistent; an absent counter is 0). */
export async function readInFlight(table: Table, principal: string): Promise<InFlightCounts> {
  const read = (key: Record<string, string>) =>
    table.call(() =>
      table.client.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true })),
    );
  const [own, deployment] = await Promise.all([
    read(inFlightPrincipalKey(principal)),
    read(inFlightDeploymentKey()),
  ]);
  return {
    principalBatches: Number(own.Item?.batches ?? 0),
    essays: Number(deployment.Item?.essays ?? 0),
  };
}

/**
 * The two counter updates that count one batch of `essays` essays, each conditioned on the room
 * its cap leaves. Call only when the batch can fit at all (`capRefusal` with nothing in flight).
 */
export function reservationWrites(
  table: Table,
  reservation: InFlightReservation,
  essays: number,
): TransactItem[] {
  const room = roomFor(reservation.caps, essays);
  return [
    {
      Update: {
        TableName: table.name,
        Key: inFlightPrincipalKey(reservation.principal),
        UpdateExpression: 'ADD batches :one',
        ConditionExpression: '(attribute_not_exists(batches) OR batches <= :room)',
        ExpressionAttributeValues: { ':one': 1, ':room': room.principalBatches },
      },
    },
    {
      Update: {
        TableName: table.name,
        Key: inFlightDeploymentKey(),
        UpdateExpression: 'ADD essays :essays, batches :one',
        ConditionExpression: '(attribute_not_exists(essays) OR essays <= :room)',
        ExpressionAttributeValues: { ':essays': essays, ':one': 1, ':room': room.essays },
      },
    },
  ];
}

/** META's record of what was counted (SET clauses and values). */
export function reservationFields(
  reservation: InFlightReservation,
  essays: number,
): Pick<BatchMeta, 'in_flight_principal' | 'in_flight_essays'> {
  return { in_flight_principal: reservation.principal, in_flight_essays: essays };
}

/** The updates that release what `meta` says was counted (none when it was not counted). */
export function releaseWrites(table: Table, meta: BatchMeta): TransactItem[] {
  const principal = meta.in_flight_principal;
  if (principal === undefined) return [];
  const essays = meta.in_flight_essays ?? 0;
  return [
    {
      Update: {
        TableName: table.name,
        Key: inFlightPrincipalKey(principal),
        UpdateExpression: 'ADD batches :minus_one',
        ExpressionAttributeValues: { ':minus_one': -1 },
      },
    },
    {
      Update: {
        TableName: table.name,
        Key: inFlightDeploymentKey(),
        UpdateExpression: 'ADD essays :minus_essays, batches :minus_one',
        ExpressionAttributeValues: { ':minus_essays': -essays, ':minus_one': -1 },
      },
    },
  ];
}

/** A condition on META that its reservation is still the one `meta` shows. */
export function sameReservation(meta: BatchMeta): { expression: string; values: Item } {
  return meta.in_flight_principal === undefined
    ? { expression: 'attribute_not_exists(in_flight_principal)', values: {} }
    : {
        expression: 'in_flight_principal = :in_flight_principal',
        values: { ':in_flight_principal': meta.in_flight_principal },
      };
}

/** Runs one transaction; `failed` lists the indices of the items whose condition failed. */
export async function transact(
  table: Table,
  items: readonly TransactItem[],
): Promise<{ ok: true } | { ok: false; failed: number[] }> {
  try {
    await table.call(() =>
      table.client.send(new TransactWriteCommand({ TransactItems: [...items] as never })),
    );
    return { ok: true };
  } catch (error) {
    const reasons = cancellationReasons(error);
    const failed = reasons.flatMap((reason, index) =>
      reason.Code === 'ConditionalCheckFailed' ? [index] : [],
    );
    if (failed.length === 0) throw error;
    return { ok: false, failed };
  }
}

/**
 * Why counters refused a batch, from fresh counts; null when there is room again (a batch ended
 * between the transaction and this read): the caller tries once more.
 */
export async function refusalNow(
  table: Table,
  reservation: InFlightReservation,
  essays: number,
): Promise<CapRefusal | null> {
  return capRefusal(reservation.caps, await readInFlight(table, reservation.principal), essays);
}

/**
 * A terminal META update (final status, no longer RUNNING) together with the release of what the
 * batch counted, as one write: `update`'s condition gains that the reservation is the one `read`
 * shows. Without a reservation it is a plain conditional update returning the new META. With one
 * it is a transaction that also requires META's version to be `read`'s, so the new META is `read`
 * with `sets` applied, exactly, and no read follows the commit. Null when a condition failed (the
 * caller re-reads, and tries again while the batch can still take the change).
 */
export async function finishReleasing(
  table: Table,
  batchId: string,
  read: BatchMeta,
  update: MetaUpdate,
  sets: Partial<BatchMeta> & Item,
): Promise<BatchMeta | null> {
  const reservation = sameReservation(read);
  const release = releaseWrites(table, read);
  if (release.length === 0) {
    return table.updateMeta<BatchMeta | null>(
      batchId,
      {
        ...update,
        ConditionExpression: `${update.ConditionExpression} AND ${reservation.expression}`,
        ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ...reservation.values },
        ReturnValues: 'ALL_NEW',
      },
      (batch) => batch,
      () => null,
    );
  }
  const metaUpdate = {
    ...update,
    TableName: table.name,
    Key: metaKey(batchId),
    ConditionExpression: `${update.ConditionExpression} AND ${reservation.expression} AND version = :read_version`,
    ExpressionAttributeValues: {
      ...update.ExpressionAttributeValues,
      ...reservation.values,
      ':read_version': read.version,
    },
  };
  const outcome = await transact(table, [{ Update: metaUpdate }, ...release]);
  return outcome.ok ? { ...read, ...sets, version: read.version + 1 } : null;
}

/** How often a terminal write is tried again when META moved under it (a callback, a start). */
export const FINISH_ATTEMPTS = 10;

/** Tries of a counted start or create whose counters were full when a fresh read says room. */
export const RESERVE_ATTEMPTS = 3;

/**
 * The refusal to report when a counter's condition failed (at `failed`, the counters starting at
 * `firstCounter`) although fresh counts keep showing room: that counter's limit, counted now.
 */
export async function refusalOfCounter(
  table: Table,
  failed: readonly number[],
  firstCounter: number,
  reservation: InFlightReservation,
  essays: number,
): Promise<CapRefusal> {
  const counts = await readInFlight(table, reservation.principal);
  const principalFull = failed.includes(firstCounter);
  return principalFull
    ? {
        limit: 'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL',
        max: reservation.caps.maxBatchesPerPrincipal,
        in_flight: counts.principalBatches,
        requested: 1,
      }
    : {
        limit: 'MAX_ESSAYS_IN_FLIGHT',
        max: reservation.caps.maxEssaysInFlight,
        in_flight: counts.essays,
        requested: essays,
      };
}

/** A BatchWrite put → the delete of the same item. */
export function toDelete(request: WriteRequest): WriteRequest {
  const item = 'PutRequest' in request ? request.PutRequest.Item : request.DeleteRequest.Key;
  return { DeleteRequest: { Key: { [PK]: item[PK], [SK]: item[SK] } } };
}
