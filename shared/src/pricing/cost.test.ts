import { describe, expect, it } from "vitest";
import { cacheSavingsPicoUsd, costPicoUsd, costUsd, picoUsdToUsd } from "./cost.js";
import { lookupModel } from "./lookup.js";
import { toOpenAiUsage } from "./openai-usage.js";
import type { Pricing, TokenUsage } from "./types.js";

function usage(counts: Partial<TokenUsage>): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, ...counts };
}

function priceOf(modelId: string): Pricing {
  const model = lookupModel(modelId);
  if (!model) throw new Error(`test needs ${modelId} in the catalogue`);
  return model.pricing;
}

const SONNET_4_5_US = priceOf("us.anthropic.claude-sonnet-4-5-20250929-v1:0");

describe("costPicoUsd", () => {
  it("matches a hand-computed figure exactly at Sonnet 4.5 us. prices", () => {
    const request = usage({ inputTokens: 1_234_567, cacheReadTokens: 2_000_000, outputTokens: 1_000 });
    // 1,234,567 × 3.30 + 2,000,000 × 0.33 + 1,000 × 16.50 micro-USD… in pico-USD per token:
    // 1,234,567 × 3,300,000 + 2,000,000 × 330,000 + 1,000 × 16,500,000
    const expected = 4_074_071_100_000 + 660_000_000_000 + 16_500_000_000;
    expect(costPicoUsd(request, SONNET_4_5_US)).toBe(expected);
    expect(costUsd(request, SONNET_4_5_US)).toBe(4.7505711);
  });

  it("charges cache writes at the write price", () => {
    expect(costPicoUsd(usage({ cacheWriteTokens: 1_000_000 }), SONNET_4_5_US)).toBe(4_125_000 * 1_000_000);
  });

  it("sums 10,000 small costs exactly", () => {
    const small = usage({ inputTokens: 7, cacheReadTokens: 3, outputTokens: 1 });
    const one = costPicoUsd(small, SONNET_4_5_US); // 7×3.3 + 3×0.33 + 16.5 micro-USD
    expect(one).toBe(23_100_000 + 990_000 + 16_500_000);
    let total = 0;
    for (let i = 0; i < 10_000; i++) total += costPicoUsd(small, SONNET_4_5_US);
    expect(total).toBe(one * 10_000);
    expect(picoUsdToUsd(total)).toBe(0.4059);
  });

  it("handles sub-cent prices such as Nova Micro cache reads exactly", () => {
    const micro = priceOf("amazon.nova-micro-v1:0");
    expect(costPicoUsd(usage({ cacheReadTokens: 1_000_000 }), micro)).toBe(8_750 * 1_000_000);
  });

  it("rejects token counts that are not non-negative integers", () => {
    expect(() => costPicoUsd(usage({ inputTokens: -1 }), SONNET_4_5_US)).toThrow(/inputTokens/);
    expect(() => costPicoUsd(usage({ outputTokens: 1.5 }), SONNET_4_5_US)).toThrow(/outputTokens/);
  });

  it("refuses to lose precision past 2^53 pico-USD", () => {
    expect(() => costPicoUsd(usage({ outputTokens: 2 ** 40 }), SONNET_4_5_US)).toThrow(RangeError);
  });
});

describe("cacheSavingsPicoUsd", () => {
  const sonnet = priceOf("anthropic.claude-sonnet-4-20250514-v1:0");

  it("counts reads at the input discount", () => {
    // 1,000 reads × (3.00 − 0.30) micro-USD per token
    expect(cacheSavingsPicoUsd(usage({ cacheReadTokens: 1_000 }), sonnet)).toBe(1_000 * 2_700_000);
  });

  it("goes negative when only writes happened", () => {
    // 1,000 writes × (3.75 − 3.00)
    expect(cacheSavingsPicoUsd(usage({ cacheWriteTokens: 1_000 }), sonnet)).toBe(-1_000 * 750_000);
  });

  it("is zero without cache tokens", () => {
    expect(cacheSavingsPicoUsd(usage({ inputTokens: 5, outputTokens: 5 }), sonnet)).toBe(0);
  });
});

describe("toOpenAiUsage", () => {
  it("folds cache tokens into prompt_tokens and reports them separately", () => {
    const result = toOpenAiUsage(usage({ inputTokens: 10, outputTokens: 20, cacheReadTokens: 300, cacheWriteTokens: 4_000 }), 0.25);
    expect(result).toEqual({
      prompt_tokens: 4_310,
      completion_tokens: 20,
      total_tokens: 4_330,
      prompt_tokens_details: { cached_tokens: 300, cache_write_tokens: 4_000 },
      cache_creation_input_tokens: 4_000,
      cache_read_input_tokens: 300,
      cost: 0.25,
    });
  });
});
