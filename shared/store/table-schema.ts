/**
 * The table's key schema: key, TTL and index attribute names, and the index names. Pure constants
 * without imports, so the CDK stack (infra), the store and the in-memory test table all read them
 * from here; docs/data-model.md describes the items and access patterns built on them.
 */

/** Partition and sort key of every item (`BATCH#<id>` and the item kind, see keys.ts). */
export const PK = 'pk';
export const SK = 'sk';

/** TTL attribute (epoch seconds) on every item. */
export const TTL_ATTRIBUTE = 'expires_at';

/** Sparse GSI of RUNNING batches; attributes removed at finalization or cancel. */
export const ACTIVE_INDEX = 'active-batches';
export const ACTIVE_PK = 'gsi2pk';
export const ACTIVE_SK = 'gsi2sk';

/**
 * GSI of batches by owner, newest first (`GET /batches`): every META carries it from creation.
 * Its partition is META's own `owner` (the owning principal, read by every access check, so not a
 * key-only attribute); its sort key is the creation time then the batch id (keys.ts).
 */
export const OWNER_INDEX = 'batches-by-owner';
export const OWNER_PK = 'owner';
export const OWNER_SK = 'gsi3sk';

/**
 * GSI of every batch, newest first (an admin's `GET /batches`): one partition, `BATCHES`, written
 * once at creation (its keys never change, so counter updates cost no index write).
 */
export const CREATED_INDEX = 'batches-by-created';
export const CREATED_PK = 'gsi4pk';
export const CREATED_SK = 'gsi3sk';

/** Every global secondary index with its key attributes (all string keys, keys-only projection). */
export const TABLE_INDEXES = {
  /** The sweeper's walk over running batches: timeouts, the pending-callbacks gauge, re-triggers. */
  [ACTIVE_INDEX]: { partitionKey: ACTIVE_PK, sortKey: ACTIVE_SK },
  /** The list route: one owner's batches, newest first. */
  [OWNER_INDEX]: { partitionKey: OWNER_PK, sortKey: OWNER_SK },
  /** An admin's list: every batch, newest first (same sort key as the owner index). */
  [CREATED_INDEX]: { partitionKey: CREATED_PK, sortKey: CREATED_SK },
} as const;
export type IndexName = keyof typeof TABLE_INDEXES;

/** Attributes that exist only to key items or indexes (stripped from what the store returns). */
export const KEY_ATTRIBUTES = [PK, SK, ACTIVE_PK, ACTIVE_SK, OWNER_SK, CREATED_PK, TTL_ATTRIBUTE];
