/**
 * Estimated cost of judge calls from the price table in config (USD per 1M input/output tokens).
 * An unknown model has cost null: a self-hosted or unlisted model is never given a guessed price.
 */
import type { EngineConfig } from '#domain/config.ts';

export type PriceTable = EngineConfig['JUDGE_MODEL_PRICES_USD_PER_MTOK'];
export interface ModelPrice {
  input: number;
  output: number;
  /** The price through the provider's batch API, when the table has one. */
  batch?: { input: number; output: number; verified: boolean };
}

/** Which price applies: synchronous calls, or the provider's batch API (judge.mode provider_batch). */
export type PriceTier = 'sync' | 'batch';

/** One comparison's estimated cost; `price_unverified` when a batch price was not checked. */
export interface CostEstimate {
  cost_usd: number | null;
  price_unverified?: true;
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

/**
 * USD for one call's tokens at the tier's price. A batch call of a model without a batch price is
 * null (never the list price, never a guessed discount); `price_unverified` marks a batch price
 * that was not checked against the provider's own table.
 */
export function estimateCost(
  model: string,
  tokens: { input_tokens?: number; output_tokens?: number },
  prices: PriceTable,
  tier: PriceTier,
): CostEstimate {
  if (tier === 'sync') return { cost_usd: estimateCostUsd(model, tokens, prices) };
  const batch = priceFor(model, prices)?.batch;
  if (!batch || tokens.input_tokens === undefined || tokens.output_tokens === undefined) {
    return { cost_usd: null };
  }
  const cost =
    (tokens.input_tokens * batch.input + tokens.output_tokens * batch.output) /
    TOKENS_PER_PRICE_UNIT;
  return batch.verified ? { cost_usd: cost } : { cost_usd: cost, price_unverified: true };
}

/** Per-batch totals live in the domain (finalization builds them); re-exported for adapters. */
export {
  type ComparisonUsage as UsageLike,
  summarizeUsage,
  type UsageTotals,
} from '#domain/judge-usage.ts';
