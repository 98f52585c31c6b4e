/**
 * Who may see a batch (docs/security.md): the principal that created it, or an admin the
 * deployment names (ADMIN_PRINCIPALS). Anyone else is told the batch does not exist (404), so a
 * caller cannot learn which ids are taken.
 */
import { createHash } from 'node:crypto';
import { notFound } from './http-errors.ts';
import type { BatchMeta } from './store-records.ts';

/** The calling principal of a request (`apiCaller` in shared/runtime/caller-principal.ts). */
export interface Caller {
  /** The principal's id: its IAM ARN (an assumed role's session name dropped). */
  id: string;
  /** Named in the deployment's ADMIN_PRINCIPALS: may see and cancel every batch. */
  admin?: boolean;
}

/** Whether `caller` may see the batch: its owner or an admin (a batch without owner: admins only). */
export function maySee(caller: Caller, batch: Pick<BatchMeta, 'owner'>): boolean {
  return caller.admin === true || (batch.owner !== undefined && batch.owner === caller.id);
}

/** The batch when `caller` may see it; a 404 for a missing batch and for someone else's alike. */
export function visibleBatch<B extends Pick<BatchMeta, 'owner'>>(
  caller: Caller,
  batchId: string,
  batch: B | null | undefined,
): B {
  if (!batch || !maySee(caller, batch)) throw notFound(batchId);
  return batch;
}

/**
 * The scope an Idempotency-Key is stored under: a hash of the caller and the key, so the same key
 * from two principals names two batches and the item reveals neither.
 */
export function idempotencyScope(caller: Caller, idempotencyKey: string): string {
  return createHash('sha256').update(`${caller.id}\n${idempotencyKey}`).digest('hex').slice(0, 48);
}
