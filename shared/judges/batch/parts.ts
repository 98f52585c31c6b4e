/**
 * The pure rules of provider batch parts (no I/O): how a wave is cut into parts within a
 * provider's limits, which comparisons a results file answered, and what to do with a submission
 * whose create call lost its answer. A wave's comparisons have dense indices 0..n-1, so a part is
 * the index range [from, to).
 */
import type { ProviderBatchLimits, ProviderBatchStatus } from './port.ts';

/** Counts the requests and bytes of a part while it is produced; refuses what would overflow it. */
export class PartBudget {
  #count = 0;
  #bytes = 0;

  constructor(private readonly limits: ProviderBatchLimits) {}

  /** Takes a line of `bytes` (separator included) if it fits; the first line always fits. */
  tryAdd(bytes: number): boolean {
    const fits =
      this.#count === 0 ||
      (this.#count + 1 <= this.limits.maxRequests && this.#bytes + bytes <= this.limits.maxBytes);
    if (!fits) return false;
    this.#count += 1;
    this.#bytes += bytes;
    return true;
  }

  get count(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#bytes;
  }
}

/** Which indices of a part's range a results file answered (a bit per comparison). */
export class AnsweredSet {
  readonly #bits: Uint8Array;

  constructor(
    readonly from: number,
    readonly to: number,
  ) {
    this.#bits = new Uint8Array(Math.ceil(Math.max(0, to - from) / 8));
  }

  /** Whether `index` belongs to the part. */
  has(index: number): boolean {
    return Number.isInteger(index) && index >= this.from && index < this.to;
  }

  /** Marks `index` answered; false when it was already marked (a repeated line). */
  mark(index: number): boolean {
    const offset = index - this.from;
    const byte = offset >> 3;
    const bit = 1 << (offset & 7);
    const current = this.#bits[byte] ?? 0;
    if ((current & bit) !== 0) return false;
    this.#bits[byte] = current | bit;
    return true;
  }

  /** The indices no line answered, ascending. */
  *missing(): Generator<number> {
    for (let index = this.from; index < this.to; index += 1) {
      const offset = index - this.from;
      if (((this.#bits[offset >> 3] ?? 0) & (1 << (offset & 7))) === 0) yield index;
    }
  }
}

/** What to do with a part whose create call never recorded its answer (after the lease). */
export type RecoveryDecision =
  /** `duplicates`: further batches that are certainly ours (exact lookup): cancel them. */
  | { action: 'adopt'; batch: ProviderBatchStatus; duplicates: string[] }
  /** Nothing was created: submitting again cannot make a second batch. */
  | { action: 'resubmit' }
  /** Several batches could be ours and none can be told apart: never guess. */
  | { action: 'ambiguous'; candidates: string[] };

export interface RecoveryInput {
  /** The adapter identifies a submission exactly (OpenAI metadata) or only by time (Anthropic). */
  exact: boolean;
  /** What `find` returned for the submission's window. */
  candidates: readonly ProviderBatchStatus[];
  /** Provider batch ids already recorded by another part (never ours). */
  claimed: ReadonlySet<string>;
  /** How many requests the part holds (the same cut again, from the stored limits). */
  expectedRequests: number;
}

/**
 * Exact lookups adopt the oldest batch they find (any later one is a duplicate of ours to cancel;
 * the lease makes that practically impossible). A window lookup adopts the one unclaimed batch of the
 * window that holds exactly the part's request count; while OpenAI still validates a batch, its
 * request count is 0 and counts as unknown (it matches). Several matches are ambiguous.
 */
export function recoveryDecision(input: RecoveryInput): RecoveryDecision {
  const unclaimed = input.candidates.filter((candidate) => !input.claimed.has(candidate.id));
  const matches = input.exact
    ? unclaimed
    : unclaimed.filter(
        (candidate) =>
          candidate.requestCount === input.expectedRequests || candidate.requestCount === 0,
      );
  if (matches.length === 0) return { action: 'resubmit' };
  if (input.exact || matches.length === 1) {
    const [oldest, ...later] = [...matches].sort((x, y) => x.createdAtMs - y.createdAtMs);
    return {
      action: 'adopt',
      batch: oldest as ProviderBatchStatus,
      duplicates: later.map((batch) => batch.id),
    };
  }
  return { action: 'ambiguous', candidates: matches.map((match) => match.id) };
}
