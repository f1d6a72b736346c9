import type { Pricing, TokenUsage } from "./types.js";

/*
 * Money is counted in integer pico-USD (1e-12 USD) so that totals stay exact when summed: a price of
 * P USD per 1M tokens is P×1e6 micro-USD per 1M tokens, which is P×1e6 pico-USD per token. Prices
 * are therefore rounded to whole micro-USD per 1M tokens (far below any published price step).
 */

const PICO_PER_USD = 1e12;

/** Price in integer micro-USD per 1M tokens, i.e. integer pico-USD per token. */
export function priceToPicoUsdPerToken(usdPerMillionTokens: number): number {
  if (!Number.isFinite(usdPerMillionTokens) || usdPerMillionTokens < 0) {
    throw new RangeError(`price must be a non-negative finite number, got ${usdPerMillionTokens}`);
  }
  return Math.round(usdPerMillionTokens * 1e6);
}

/** Exact cost of one request in pico-USD (integer). Throws if it would exceed 2^53 (~9,000 USD). */
export function costPicoUsd(usage: TokenUsage, pricing: Pricing): number {
  const total =
    tokens(usage.inputTokens, "inputTokens") * priceToPicoUsdPerToken(pricing.input) +
    tokens(usage.outputTokens, "outputTokens") * priceToPicoUsdPerToken(pricing.output) +
    tokens(usage.cacheReadTokens, "cacheReadTokens") * priceToPicoUsdPerToken(pricing.cacheRead) +
    tokens(usage.cacheWriteTokens, "cacheWriteTokens") * priceToPicoUsdPerToken(pricing.cacheWrite);
  return safe(total, "cost");
}

export function picoUsdToUsd(pico: number): number {
  return pico / PICO_PER_USD;
}

export function costUsd(usage: TokenUsage, pricing: Pricing): number {
  return picoUsdToUsd(costPicoUsd(usage, pricing));
}

/**
 * What caching saved on this request in pico-USD: cache reads paid instead of full input price,
 * minus the surcharge paid for cache writes. Negative when writes cost more than reads saved.
 */
export function cacheSavingsPicoUsd(usage: TokenUsage, pricing: Pricing): number {
  const input = priceToPicoUsdPerToken(pricing.input);
  const readSaving =
    tokens(usage.cacheReadTokens, "cacheReadTokens") * (input - priceToPicoUsdPerToken(pricing.cacheRead));
  const writeSurcharge =
    tokens(usage.cacheWriteTokens, "cacheWriteTokens") * (priceToPicoUsdPerToken(pricing.cacheWrite) - input);
  return safe(readSaving - writeSurcharge, "cache savings");
}

function tokens(count: number, field: keyof TokenUsage): number {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`${field} must be a non-negative integer, got ${count}`);
  }
  return count;
}

function safe(pico: number, what: string): number {
  if (!Number.isSafeInteger(pico)) throw new RangeError(`${what} of ${pico} pico-USD is beyond exact range`);
  return pico;
}
