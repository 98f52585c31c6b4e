/**
 * How keys are built: the key values of every item kind (the attribute names are in
 * table-schema.ts); docs/data-model.md is the shared reference.
 */
import { PK, SK } from '#store/table-schema.ts';

/** Partition of the active-batches index (one partition: the index holds RUNNING batches only). */
export const ACTIVE_PARTITION = 'ACTIVE';

export const META_SK = 'META';

/** The batch's request settings (config overrides, judge choice): written once, read cached. */
export const SETTINGS_SK = 'SETTINGS';

/**
 * The processing metadata written at finalization. Its sort key starts with META's, so the API
 * reads both with one query (`begins_with(sk, META_SK)`).
 */
export const REPORT_SK = 'META#REPORT';

/** Prefixes of the sort keys of each item kind (queries select a kind by prefix). */
export const ESSAY_IDS_PREFIX = 'IDS#';
export const COMPARISON_PREFIX = 'CMP#';
export const RESULTS_PREFIX = 'RESULT#';
export const WAVE_PREFIX = 'WAVE#';
export const VERDICTS_PREFIX = 'VERDICTS#';
export const PROVIDER_BATCH_PART_PREFIX = 'PBATCH#';
export const CLAIM_PREFIX = 'CLAIM#';

/** Partition of the active-batches index holding open provider batch parts (not batches). */
export const PROVIDER_BATCH_PARTITION = 'PROVIDER_BATCH';

const PART_DIGITS = 3;

const INDEX_DIGITS = 6;

/** The shared provider rate limiter's record of one provider or endpoint (not a batch item). */
export function rateLimitKey(name: string): Record<string, string> {
  return { [PK]: `RATE#${name}`, [SK]: 'LIMITER' };
}

/**
 * The in-flight counter of one caller (IAM principal id): `batches` running now. Not a batch item:
 * it never expires (docs/data-model.md).
 */
export function inFlightPrincipalKey(principal: string): Record<string, string> {
  return { [PK]: `INFLIGHT#PRINCIPAL#${principal}`, [SK]: 'COUNTER' };
}

/** The deployment's in-flight counter: `essays` (and `batches`) of every running batch. */
export function inFlightDeploymentKey(): Record<string, string> {
  return { [PK]: 'INFLIGHT#DEPLOYMENT', [SK]: 'COUNTER' };
}

export function batchPk(batchId: string): string {
  return `BATCH#${batchId}`;
}

/** Partition of the all-batches index (every batch's META is in it). */
export const ALL_BATCHES_PARTITION = 'BATCHES';

/**
 * The item that maps one caller's Idempotency-Key to the batch its first create made: keyed by a
 * hash of the caller and the key, so the same key from two principals names two batches.
 */
export function idempotencyItemKey(scope: string): Record<string, string> {
  return { [PK]: `IDEMPOTENCY#${scope}`, [SK]: 'BATCH' };
}

/** Sort key of a batch in the owner index: creation time first (ISO 8601 sorts by time). */
export function ownerSortKey(createdAt: string, batchId: string): string {
  return `${createdAt}#${batchId}`;
}

export function batchIdFromPk(pk: string): string {
  return pk.slice('BATCH#'.length);
}

/** The key of one item of a batch. */
export function itemKey(batchId: string, sortKey: string): Record<string, string> {
  return { [PK]: batchPk(batchId), [SK]: sortKey };
}

export function metaKey(batchId: string): Record<string, string> {
  return itemKey(batchId, META_SK);
}

export function essaySk(index: number): string {
  return `ESSAY#${String(index).padStart(INDEX_DIGITS, '0')}`;
}

/** Chunk of essay ids starting at `offset` (one per stored page). */
export function essayIdsSk(offset: number): string {
  return `${ESSAY_IDS_PREFIX}${String(offset).padStart(INDEX_DIGITS, '0')}`;
}

export function comparisonSk(comparisonId: string): string {
  return `${COMPARISON_PREFIX}${comparisonId}`;
}

export function comparisonIdFromSk(sk: string): string {
  return sk.slice(COMPARISON_PREFIX.length);
}

/**
 * The judge's claim on one comparison (`CLAIM#<comparison id>`), beside the comparison item: the
 * judge writes it with PutItem, the one write it is allowed (docs/data-model.md).
 */
export function claimSk(comparisonId: string): string {
  return `${CLAIM_PREFIX}${comparisonId}`;
}

/** Prefix of every comparison of one iteration (ids start with the zero-padded iteration). */
export function iterationPrefix(iteration: number): string {
  return `${COMPARISON_PREFIX}${String(iteration).padStart(INDEX_DIGITS, '0')}-`;
}

/** The ledger record of wave `iteration` (plan, sending, closing; docs/data-model.md). */
export function waveSk(iteration: number): string {
  return `${WAVE_PREFIX}${String(iteration).padStart(INDEX_DIGITS, '0')}`;
}

/** Chunk `chunk` of the packed verdicts of closed wave `iteration`. */
export function verdictsSk(iteration: number, chunk: number): string {
  return `${verdictsIterationPrefix(iteration)}${String(chunk).padStart(3, '0')}`;
}

/** Prefix of every verdict chunk of wave `iteration` (sorts after the waves before it). */
export function verdictsIterationPrefix(iteration: number): string {
  return `${VERDICTS_PREFIX}${String(iteration).padStart(INDEX_DIGITS, '0')}#`;
}

/** Scores evaluated while the batch was at `iteration` (Float32 binary). */
export function scoresSk(iteration: number): string {
  return `SCORES#${String(iteration).padStart(INDEX_DIGITS, '0')}`;
}

export function resultsSk(chunk: number): string {
  return `${RESULTS_PREFIX}${String(chunk).padStart(INDEX_DIGITS, '0')}`;
}

export function expiresAt(createdAt: Date, ttlDays: number): number {
  return Math.floor(createdAt.getTime() / 1000) + ttlDays * 86_400;
}

/** A provider batch part of a wave: `PBATCH#<iteration>#<part>`. */
export function partSk(iteration: number, part: number): string {
  return `${PROVIDER_BATCH_PART_PREFIX}${String(iteration).padStart(INDEX_DIGITS, '0')}#${String(part).padStart(PART_DIGITS, '0')}`;
}

export function partKeyFromSk(sk: string): { iteration: number; part: number } | undefined {
  const match = /^PBATCH#(\d+)#(\d+)$/.exec(sk);
  if (!match) return undefined;
  return { iteration: Number(match[1]), part: Number(match[2]) };
}

/** Sort key of an open part in its index partition: planned time first, so oldest first. */
export function providerBatchSortKey(
  plannedAt: string,
  key: { batchId: string; iteration: number; part: number },
): string {
  return `${plannedAt}#${key.batchId}#${partSk(key.iteration, key.part)}`;
}

/** The claim item of a provider batch id: at most one part ever records it. */
export function providerBatchClaimKey(
  provider: string,
  providerBatchId: string,
): Record<string, string> {
  return { [PK]: `PBID#${provider}#${providerBatchId}`, [SK]: 'CLAIM' };
}
