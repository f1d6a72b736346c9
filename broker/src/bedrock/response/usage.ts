import type { TokenUsage as BedrockTokenUsage } from "@aws-sdk/client-bedrock-runtime";
import type { TokenUsage } from "@tollgate/shared";

/** Bedrock's usage (inputTokens excludes cache reads and writes) in our own field names. */
export function fromBedrockUsage(usage: BedrockTokenUsage | undefined): TokenUsage {
  return {
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    cacheReadTokens: usage?.cacheReadInputTokens ?? 0,
    cacheWriteTokens: usage?.cacheWriteInputTokens ?? 0,
  };
}

export const NO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
