/**
 * Estimated cost of judge calls from the price table in config (USD per 1M input/output tokens).
 * An unknown model has cost null: a self-hosted or unlisted model is never given a guessed price.
 */
import type { EngineConfig } from '#domain/config.ts';

export type PriceTable = EngineConfig['JUDGE_MODEL_PRICES_USD_PER_MTOK'];
export interface ModelPrice {
  input: number;
  output: number;
}

const TOKENS_PER_PRICE_UNIT = 1_000_000;

/**
 * The entry for `model`: an exact match, else the longest entry that `model` extends at a `-`, `@`
 * or `:` boundary (`gpt-4o-2024-08-06` → `gpt-4o`, `gpt-4o-mini-2024-07-18` → `gpt-4o-mini`).
 */
export function priceFor(model: string, prices: PriceTable): ModelPrice | null {
  const exact = prices[model];
  if (exact) return exact;
  let best: { name: string; price: ModelPrice } | null = null;
  for (const [name, price] of Object.entries(prices)) {
    const boundary = model.charAt(name.length);
    if (
      model.startsWith(name) &&
      (boundary === '-' || boundary === '@' || boundary === ':') &&
      (best === null || name.length > best.name.length)
    ) {
      best = { name, price };
    }
  }
  return best?.price ?? null;
}

/** USD for one call's tokens; null when the model is unknown or the provider reported no usage. */
export function estimateCostUsd(
  model: string,
  tokens: { input_tokens?: number; output_tokens?: number },
  prices: PriceTable,
): number | null {
  const price = priceFor(model, prices);
  if (!price || tokens.input_tokens === undefined || tokens.output_tokens === undefined) {
    return null;
  }
  return (
    (tokens.input_tokens * price.input + tokens.output_tokens * price.output) /
    TOKENS_PER_PRICE_UNIT
  );
}

export interface UsageLike {
  input_tokens?: number;
  output_tokens?: number;
  cost_usd?: number | null;
  order_flip?: boolean;
}

export interface UsageTotals {
  /** Comparisons summed (one per verdict callback, however many calls it took). */
  comparisons: number;
  input_tokens: number;
  output_tokens: number;
  /** Sum over the comparisons that had a price; null when none had one. */
  cost_usd: number | null;
  /** Comparisons whose cost is unknown (unknown model or no usage reported). */
  unpriced_comparisons: number;
  /** Comparisons judged in both orders, and how many of those flipped with the order. */
  both_orders_comparisons: number;
  order_flips: number;
  /** order_flips / both_orders_comparisons; null when nothing was judged in both orders. */
  order_flip_rate: number | null;
}

/** Per-batch totals from the usage of the comparisons actually made (not n·(n−1)/2). */
export function summarizeUsage(usages: ReadonlyArray<UsageLike | undefined>): UsageTotals {
  const totals: UsageTotals = {
    comparisons: usages.length,
    input_tokens: 0,
    output_tokens: 0,
    cost_usd: null,
    unpriced_comparisons: 0,
    both_orders_comparisons: 0,
    order_flips: 0,
    order_flip_rate: null,
  };
  for (const usage of usages) {
    totals.input_tokens += usage?.input_tokens ?? 0;
    totals.output_tokens += usage?.output_tokens ?? 0;
    const cost = usage?.cost_usd;
    if (typeof cost === 'number') totals.cost_usd = (totals.cost_usd ?? 0) + cost;
    else totals.unpriced_comparisons += 1;
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
