/**
 * Cost estimates from the config price table: exact and dated model names, unknown models at
 * null, and per-batch totals summed over the comparisons actually made.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { estimateCost, estimateCostUsd, priceFor, summarizeUsage } from '#shared/judges/pricing.ts';

const PRICES = DEFAULT_CONFIG.JUDGE_MODEL_PRICES_USD_PER_MTOK;

describe('priceFor', () => {
  it.each([
    ['gpt-4o', 'gpt-4o'],
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['claude-sonnet-4-20250514', 'claude-sonnet-4'],
    ['claude-opus-4-5-20251101', 'claude-opus-4-5'],
  ])('prices %s as %s', (model, entry) => {
    // Act
    const price = priceFor(model, PRICES);

    // Assess
    expect(price).toEqual(PRICES[entry]);
  });

  it.each([['llama-3.1-8b-instruct'], ['gpt-4oX'], ['my-gpt-4o']])(
    'has no price for %s',
    (model) => {
      // Act
      const price = priceFor(model, PRICES);

      // Assess
      expect(price).toBeNull();
    },
  );
});

describe('estimateCostUsd', () => {
  it('charges input and output tokens at their own rates per million', () => {
    // Act
    const cost = estimateCostUsd('gpt-4o', { input_tokens: 2_000, output_tokens: 100 }, PRICES);

    // Assess: 2,000 × 2.50 + 100 × 10 USD per 1M tokens
    expect(cost).toBeCloseTo(0.006, 12);
  });

  it('is null for an unknown model or missing token counts', () => {
    // Act
    const unknown = estimateCostUsd('local-model', { input_tokens: 1, output_tokens: 1 }, PRICES);
    const noUsage = estimateCostUsd('gpt-4o', { input_tokens: 10 }, PRICES);

    // Assess
    expect(unknown).toBeNull();
    expect(noUsage).toBeNull();
  });
});

describe('estimateCost at batch prices', () => {
  it('charges a verified batch price without a mark', () => {
    // Act: Anthropic's batch table, checked: 1.50 / 7.50 USD per 1M
    const estimate = estimateCost(
      'claude-sonnet-4-20250514',
      { input_tokens: 2_000, output_tokens: 100 },
      PRICES,
      'batch',
    );

    // Assess
    expect(estimate.cost_usd).toBeCloseTo(0.00375, 12);
    expect(estimate.price_unverified).toBeUndefined();
  });

  it('marks a batch price that was not checked against the provider', () => {
    // Act: OpenAI's stated 50 % applied to the list price: 1.25 / 5 USD per 1M
    const estimate = estimateCost(
      'gpt-4o-2024-08-06',
      { input_tokens: 2_000, output_tokens: 100 },
      PRICES,
      'batch',
    );

    // Assess
    expect(estimate).toEqual({ cost_usd: expect.closeTo(0.003, 12), price_unverified: true });
  });

  it('is half the synchronous cost for every priced model, and null without a batch price', () => {
    // Prepare
    const tokens = { input_tokens: 1_000, output_tokens: 1_000 };
    const noBatch = { 'local-model': { input: 1, output: 1 } };

    // Act + Assess
    for (const model of Object.keys(PRICES)) {
      const sync = estimateCost(model, tokens, PRICES, 'sync').cost_usd as number;
      expect(estimateCost(model, tokens, PRICES, 'batch').cost_usd).toBeCloseTo(sync / 2, 12);
    }
    expect(estimateCost('local-model', tokens, noBatch, 'batch')).toEqual({ cost_usd: null });
    expect(estimateCost('local-model', tokens, noBatch, 'sync').cost_usd).toBeCloseTo(0.002, 12);
  });
});

describe('summarizeUsage', () => {
  it('sums the comparisons made, counting unpriced ones and order flips apart', () => {
    // Prepare
    const usages = [
      { input_tokens: 100, output_tokens: 10, cost_usd: 0.001 },
      { input_tokens: 200, output_tokens: 20, cost_usd: 0.002, order_flip: true },
      { input_tokens: 300, output_tokens: 30, cost_usd: null, order_flip: false },
      undefined,
    ];

    // Act
    const totals = summarizeUsage(usages);

    // Assess
    expect(totals).toEqual({
      mode: 'sync',
      comparisons: 4,
      input_tokens: 600,
      output_tokens: 60,
      cost_usd: expect.closeTo(0.003, 12),
      unpriced_comparisons: 2,
      both_orders_comparisons: 2,
      order_flips: 1,
      order_flip_rate: 0.5,
      unverified_price_comparisons: 0,
    });
  });

  it('reports the mode and counts the costs whose batch price was not checked', () => {
    // Prepare
    const usages = [
      { input_tokens: 100, output_tokens: 10, cost_usd: 0.001, price_unverified: true },
      { input_tokens: 100, output_tokens: 10, cost_usd: 0.002 },
      { input_tokens: 100, output_tokens: 10, cost_usd: null, price_unverified: true },
    ];

    // Act
    const totals = summarizeUsage(usages, 'provider_batch');

    // Assess: an unpriced comparison is counted as unpriced, not as unverified
    expect(totals).toMatchObject({
      mode: 'provider_batch',
      cost_usd: expect.closeTo(0.003, 12),
      unpriced_comparisons: 1,
      unverified_price_comparisons: 1,
    });
  });

  it('reports cost and flip rate as null when nothing was priced or judged both ways', () => {
    // Act
    const totals = summarizeUsage([{ input_tokens: 5, output_tokens: 1, cost_usd: null }]);

    // Assess
    expect(totals.cost_usd).toBeNull();
    expect(totals.order_flip_rate).toBeNull();
  });
});
