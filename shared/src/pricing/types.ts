/** Prices in USD per 1 million tokens. */
export interface Pricing {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/**
 * Token counts with Bedrock semantics: `inputTokens` is the NON-cached input only, so the whole
 * prompt is inputTokens + cacheReadTokens + cacheWriteTokens.
 */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export interface ModelCapabilities {
  promptCaching: boolean;
  /** Smallest prompt prefix Bedrock will cache; 0 when the model cannot cache. */
  cacheMinTokens: number;
  /** Whether a cachePoint may be placed in toolConfig.tools (Nova: no). */
  cacheTools: boolean;
  /** Extended thinking ("reasoning") via additionalModelRequestFields. */
  reasoning: boolean;
  vision: boolean;
  tools: boolean;
}

export type ModelProvider = "anthropic" | "amazon" | "meta";

/** How a model id reaches the model: directly, through a geographic profile, or through `global.`. */
export type ModelIdScope = "base" | "geographic" | "global";

export type GeographicPrefix = "us" | "eu" | "apac" | "jp" | "au" | "us-gov" | "ca";

/** A catalogue model as seen through one specific model id (pricing depends on the id's scope). */
export interface KnownModel {
  /** The id the model id resolved to, e.g. "anthropic.claude-sonnet-4-20250514-v1:0". */
  baseModelId: string;
  displayName: string;
  provider: ModelProvider;
  scope: ModelIdScope;
  pricing: Pricing;
  contextWindow: number;
  maxOutputTokens: number;
  capabilities: ModelCapabilities;
}
