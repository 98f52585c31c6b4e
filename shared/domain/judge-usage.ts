/**
 * Per-batch judge usage from the comparisons actually made (not n·(n−1)/2): tokens, estimated cost
 * and, for batches judged in both orders, the order-flip rate. Pure; the numbers come from each
 * verdict's `usage` as the judge reported it.
 */

/** What a completed comparison keeps of its verdict's usage (no essay text, no model output). */
export interface ComparisonUsage {
  input_tokens?: number;
  output_tokens?: number;
  /** Estimated USD; null when the model had no price. */
  cost_usd?: number | null;
  /** Judged in both orders: whether the two orders picked different essays. */
  order_flip?: boolean;
  /** The cost uses a provider-batch price not checked against the provider's own table. */
  price_unverified?: boolean;
}

/** How the batch's judge was asked: one call per comparison, or waves through a batch API. */
export type JudgeUsageMode = 'sync' | 'provider_batch';

export interface UsageTotals {
  /** `provider_batch`: costs are at the provider's batch prices. */
  mode: JudgeUsageMode;
  /** Comparisons summed (one per verdict, however many calls it took). */
  comparisons: number;
  input_tokens: number;
  output_tokens: number;
  /** Sum over the comparisons that had a price; null when none had one. */
  cost_usd: number | null;
  /** Comparisons whose cost is unknown (unknown model, no usage reported, or the mock). */
  unpriced_comparisons: number;
  /** Comparisons judged in both orders, and how many of those flipped with the order. */
  both_orders_comparisons: number;
  order_flips: number;
  /** order_flips / both_orders_comparisons; null when nothing was judged in both orders. */
  order_flip_rate: number | null;
  /** Priced comparisons whose batch price was not checked against the provider's own table. */
  unverified_price_comparisons: number;
}

/** The accounting fields of a verdict's usage, or undefined when it has none (e.g. the mock). */
export function comparisonUsageOf(usage: ComparisonUsage | undefined): ComparisonUsage | undefined {
  if (!usage) return undefined;
  const kept: ComparisonUsage = {
    ...(usage.input_tokens === undefined ? {} : { input_tokens: usage.input_tokens }),
    ...(usage.output_tokens === undefined ? {} : { output_tokens: usage.output_tokens }),
    ...(usage.cost_usd === undefined ? {} : { cost_usd: usage.cost_usd }),
    ...(usage.order_flip === undefined ? {} : { order_flip: usage.order_flip }),
    ...(usage.price_unverified ? { price_unverified: true } : {}),
  };
  return Object.keys(kept).length > 0 ? kept : undefined;
}

export function summarizeUsage(
  usages: ReadonlyArray<ComparisonUsage | undefined>,
  mode: JudgeUsageMode = 'sync',
): UsageTotals {
  const totals: UsageTotals = {
    mode,
    comparisons: usages.length,
    input_tokens: 0,
    output_tokens: 0,
    cost_usd: null,
    unpriced_comparisons: 0,
    both_orders_comparisons: 0,
    order_flips: 0,
    order_flip_rate: null,
    unverified_price_comparisons: 0,
  };
  for (const usage of usages) {
    totals.input_tokens += usage?.input_tokens ?? 0;
    totals.output_tokens += usage?.output_tokens ?? 0;
    const cost = usage?.cost_usd;
    if (typeof cost === 'number') {
      totals.cost_usd = (totals.cost_usd ?? 0) + cost;
      if (usage?.price_unverified) totals.unverified_price_comparisons += 1;
    } else {
      totals.unpriced_comparisons += 1;
    }
    if (usage?.order_flip !== undefined) {
      totals.both_orders_comparisons += 1;
      if (usage.order_flip) totals.order_flips += 1;
    }
  }
  if (totals.both_orders_comparisons > 0) {
    totals.order_flip_rate = totals.order_flips / totals.both_orders_comparisons;
  }
  return totals;
}
