import type { ModelCapabilities, ModelProvider, Pricing } from "./types.js";

/*
 * Built-in Bedrock model catalogue: on-demand prices in USD per 1M tokens, limits and capabilities.
 *
 * Sources (see shared/notes/research/bedrock.md §3.2 and §4):
 *  - BerriAI/litellm model_prices_and_context_window.json (prices, context, max output,
 *    prompt_cache_min_tokens), read Aug 2026; the AWS pricing page itself was not retrievable.
 *  - AWS prompt-caching table (via Portkey docs / Spring AI blog) for cache minimums and which
 *    fields are cacheable.
 * Entries marked "from public price list, check before relying" are not in those notes and come
 * from memory of the public AWS/Anthropic price lists.
 *
 * Models that cannot cache carry cacheRead = cacheWrite = input: should a cache token ever be
 * reported it is billed at the full input price, never for free.
 */

export interface CatalogueEntry {
  baseModelId: string;
  displayName: string;
  provider: ModelProvider;
  contextWindow: number;
  maxOutputTokens: number;
  capabilities: ModelCapabilities;
  /** Price for the base id and the `global.` profile. */
  pricing: Pricing;
  /**
   * Price for geographic profiles (us., eu., apac., jp., au., us-gov., ca.) where it differs:
   * from Sonnet 4.5 / Haiku 4.5 / Opus 4.5 on, these cost 10% more than `global.`.
   */
  geographicPricing?: Pricing;
}

function claudeCaps(cacheMinTokens: number, reasoning: boolean, vision = true): ModelCapabilities {
  return { promptCaching: cacheMinTokens > 0, cacheMinTokens, cacheTools: true, reasoning, vision, tools: true };
}

// Nova caches system and messages but not tools; minimum 1,000 tokens per checkpoint.
function novaCaps(vision: boolean): ModelCapabilities {
  return { promptCaching: true, cacheMinTokens: 1000, cacheTools: false, reasoning: false, vision, tools: true };
}

function llamaCaps(tools: boolean, vision = false): ModelCapabilities {
  return { promptCaching: false, cacheMinTokens: 0, cacheTools: false, reasoning: false, vision, tools };
}

function uncached(input: number, output: number): Pricing {
  return { input, output, cacheRead: input, cacheWrite: input };
}

const CLAUDE_200K = 200_000;
const LLAMA_128K = 128_000;

export const MODEL_CATALOGUE: readonly CatalogueEntry[] = [
  // ---- Anthropic Claude -------------------------------------------------------------------
  {
    // From public price list, check before relying. Cannot use prompt caching on Bedrock.
    baseModelId: "anthropic.claude-3-haiku-20240307-v1:0",
    displayName: "Claude 3 Haiku",
    provider: "anthropic",
    contextWindow: CLAUDE_200K,
    maxOutputTokens: 4096,
    capabilities: claudeCaps(0, false),
    pricing: uncached(0.25, 1.25),
  },
  {
    // Not in the caching table. May now be on "extended access" pricing ($6/$30) [UNVERIFIED].
    baseModelId: "anthropic.claude-3-5-sonnet-20240620-v1:0",
    displayName: "Claude 3.5 Sonnet",
    provider: "anthropic",
    contextWindow: CLAUDE_200K,
    maxOutputTokens: 4096,
    capabilities: claudeCaps(0, false),
    pricing: uncached(3.0, 15.0),
  },
  {
    // Caching is preview-only for this model (no new customers); extended-access caveat as v1.
    baseModelId: "anthropic.claude-3-5-sonnet-20241022-v2:0",
    displayName: "Claude 3.5 Sonnet v2",
    provider: "anthropic",
    contextWindow: CLAUDE_200K,
    maxOutputTokens: 8192,
    capabilities: claudeCaps(1024, false),
    pricing: { input: 3.0, output: 15.0, cacheRead: 0.3, cacheWrite: 3.75 },
  },
  {
    // Text only on Bedrock.
    baseModelId: "anthropic.claude-3-5-haiku-20241022-v1:0",
    displayName: "Claude 3.5 Haiku",
    provider: "anthropic",
    contextWindow: CLAUDE_200K,
    maxOutputTokens: 8192,
    capabilities: claudeCaps(2048, false, false),
    pricing: { input: 0.8, output: 4.0, cacheRead: 0.08, cacheWrite: 1.0 },
  },
  {
    // LiteLLM says 8,192 max output; Anthropic documents 64k, which extended-thinking budgets need.
    baseModelId: "anthropic.claude-3-7-sonnet-20250219-v1:0",
    displayName: "Claude 3.7 Sonnet",
    provider: "anthropic",
    contextWindow: CLAUDE_200K,
    maxOutputTokens: 64_000,
    capabilities: claudeCaps(1024, true),
    pricing: { input: 3.0, output: 15.0, cacheRead: 0.3, cacheWrite: 3.75 },
  },
  {
    // 1M context only with a beta flag and a higher price above 200k; we assume the standard 200k.
    baseModelId: "anthropic.claude-sonnet-4-20250514-v1:0",
    displayName: "Claude Sonnet 4",
    provider: "anthropic",
    contextWindow: CLAUDE_200K,
    maxOutputTokens: 64_000,
    capabilities: claudeCaps(1024, true),
    pricing: { input: 3.0, output: 15.0, cacheRead: 0.3, cacheWrite: 3.75 },
  },
  {
    baseModelId: "anthropic.claude-sonnet-4-5-20250929-v1:0",
    displayName: "Claude Sonnet 4.5",
    provider: "anthropic",
    contextWindow: CLAUDE_200K,
    maxOutputTokens: 64_000,
    capabilities: claudeCaps(1024, true),
    pricing: { input: 3.0, output: 15.0, cacheRead: 0.3, cacheWrite: 3.75 },
    geographicPricing: { input: 3.3, output: 16.5, cacheRead: 0.33, cacheWrite: 4.125 },
  },
  {
    baseModelId: "anthropic.claude-haiku-4-5-20251001-v1:0",
    displayName: "Claude Haiku 4.5",
    provider: "anthropic",
    contextWindow: CLAUDE_200K,
    maxOutputTokens: 64_000,
    capabilities: claudeCaps(4096, true),
    pricing: { input: 1.0, output: 5.0, cacheRead: 0.1, cacheWrite: 1.25 },
    geographicPricing: { input: 1.1, output: 5.5, cacheRead: 0.11, cacheWrite: 1.375 },
  },
  {
    baseModelId: "anthropic.claude-opus-4-20250514-v1:0",
    displayName: "Claude Opus 4",
    provider: "anthropic",
    contextWindow: CLAUDE_200K,
    maxOutputTokens: 32_000,
    capabilities: claudeCaps(1024, true),
    pricing: { input: 15.0, output: 75.0, cacheRead: 1.5, cacheWrite: 18.75 },
  },
  {
    baseModelId: "anthropic.claude-opus-4-1-20250805-v1:0",
    displayName: "Claude Opus 4.1",
    provider: "anthropic",
    contextWindow: CLAUDE_200K,
    maxOutputTokens: 32_000,
    capabilities: claudeCaps(1024, true),
    pricing: { input: 15.0, output: 75.0, cacheRead: 1.5, cacheWrite: 18.75 },
  },
  {
    // From public price list, check before relying (prices and 64k max output).
    baseModelId: "anthropic.claude-opus-4-5-20251101-v1:0",
    displayName: "Claude Opus 4.5",
    provider: "anthropic",
    contextWindow: CLAUDE_200K,
    maxOutputTokens: 64_000,
    capabilities: claudeCaps(4096, true),
    pricing: { input: 5.0, output: 25.0, cacheRead: 0.5, cacheWrite: 6.25 },
    geographicPricing: { input: 5.5, output: 27.5, cacheRead: 0.55, cacheWrite: 6.875 },
  },

  // ---- Amazon Nova ------------------------------------------------------------------------
  // Cache reads: from public price list, check before relying (75% off input; sources conflict
  // between 75% and 90%). Cache writes carry no surcharge.
  {
    baseModelId: "amazon.nova-micro-v1:0",
    displayName: "Amazon Nova Micro",
    provider: "amazon",
    contextWindow: 128_000,
    maxOutputTokens: 10_000,
    capabilities: novaCaps(false),
    pricing: { input: 0.035, output: 0.14, cacheRead: 0.00875, cacheWrite: 0.035 },
  },
  {
    baseModelId: "amazon.nova-lite-v1:0",
    displayName: "Amazon Nova Lite",
    provider: "amazon",
    contextWindow: 300_000,
    maxOutputTokens: 10_000,
    capabilities: novaCaps(true),
    pricing: { input: 0.06, output: 0.24, cacheRead: 0.015, cacheWrite: 0.06 },
  },
  {
    baseModelId: "amazon.nova-pro-v1:0",
    displayName: "Amazon Nova Pro",
    provider: "amazon",
    contextWindow: 300_000,
    maxOutputTokens: 10_000,
    capabilities: novaCaps(true),
    pricing: { input: 0.8, output: 3.2, cacheRead: 0.2, cacheWrite: 0.8 },
  },
  {
    // From public price list, check before relying (prices, 1M context, 32k max output, caching).
    baseModelId: "amazon.nova-premier-v1:0",
    displayName: "Amazon Nova Premier",
    provider: "amazon",
    contextWindow: 1_000_000,
    maxOutputTokens: 32_000,
    capabilities: novaCaps(true),
    pricing: { input: 2.5, output: 12.5, cacheRead: 0.625, cacheWrite: 2.5 },
  },

  // ---- Meta Llama -------------------------------------------------------------------------
  {
    // From public price list, check before relying.
    baseModelId: "meta.llama3-8b-instruct-v1:0",
    displayName: "Llama 3 8B Instruct",
    provider: "meta",
    contextWindow: 8192,
    maxOutputTokens: 2048,
    capabilities: llamaCaps(false),
    pricing: uncached(0.3, 0.6),
  },
  {
    baseModelId: "meta.llama3-70b-instruct-v1:0",
    displayName: "Llama 3 70B Instruct",
    provider: "meta",
    contextWindow: 8192,
    maxOutputTokens: 8192,
    capabilities: llamaCaps(false),
    pricing: uncached(2.65, 3.5),
  },
  {
    // From public price list, check before relying.
    baseModelId: "meta.llama3-1-8b-instruct-v1:0",
    displayName: "Llama 3.1 8B Instruct",
    provider: "meta",
    contextWindow: LLAMA_128K,
    maxOutputTokens: 2048,
    capabilities: llamaCaps(true),
    pricing: uncached(0.22, 0.22),
  },
  {
    baseModelId: "meta.llama3-1-70b-instruct-v1:0",
    displayName: "Llama 3.1 70B Instruct",
    provider: "meta",
    contextWindow: LLAMA_128K,
    maxOutputTokens: 2048,
    capabilities: llamaCaps(true),
    pricing: uncached(0.99, 0.99),
  },
  {
    // From public price list, check before relying (also whether Converse tool use works).
    baseModelId: "meta.llama3-2-1b-instruct-v1:0",
    displayName: "Llama 3.2 1B Instruct",
    provider: "meta",
    contextWindow: LLAMA_128K,
    maxOutputTokens: 4096,
    capabilities: llamaCaps(false),
    pricing: uncached(0.1, 0.1),
  },
  {
    // From public price list, check before relying (also whether Converse tool use works).
    baseModelId: "meta.llama3-2-3b-instruct-v1:0",
    displayName: "Llama 3.2 3B Instruct",
    provider: "meta",
    contextWindow: LLAMA_128K,
    maxOutputTokens: 4096,
    capabilities: llamaCaps(false),
    pricing: uncached(0.15, 0.15),
  },
  {
    // From public price list, check before relying.
    baseModelId: "meta.llama3-2-11b-instruct-v1:0",
    displayName: "Llama 3.2 11B Vision Instruct",
    provider: "meta",
    contextWindow: LLAMA_128K,
    maxOutputTokens: 4096,
    capabilities: llamaCaps(true, true),
    pricing: uncached(0.16, 0.16),
  },
  {
    baseModelId: "meta.llama3-2-90b-instruct-v1:0",
    displayName: "Llama 3.2 90B Vision Instruct",
    provider: "meta",
    contextWindow: LLAMA_128K,
    maxOutputTokens: 4096,
    capabilities: llamaCaps(true, true),
    pricing: uncached(2.0, 2.0),
  },
  {
    baseModelId: "meta.llama3-3-70b-instruct-v1:0",
    displayName: "Llama 3.3 70B Instruct",
    provider: "meta",
    contextWindow: LLAMA_128K,
    maxOutputTokens: 4096,
    capabilities: llamaCaps(true),
    pricing: uncached(0.72, 0.72),
  },
];
