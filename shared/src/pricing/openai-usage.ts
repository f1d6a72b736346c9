import type { TokenUsage } from "./types.js";

/** OpenAI `usage` object, plus the cache and cost fields agents such as Cline read. */
export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  /** USD. */
  cost: number;
}

/** Bedrock counts non-cached input separately; OpenAI's prompt_tokens is the whole prompt. */
export function toOpenAiUsage(usage: TokenUsage, costUsd: number): OpenAiUsage {
  const promptTokens = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: promptTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens, cache_write_tokens: usage.cacheWriteTokens },
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cacheReadTokens,
    cost: costUsd,
  };
}
