// A cheap, deterministic token estimate. Bedrock has no tokenizer endpoint and Claude's tokenizer is
// not public; ~4 characters per token is the usual rule for English and code. Used only for decisions
// that tolerate error (where to place cache points); billing always uses what Bedrock reports.

export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function estimateJsonTokens(value: unknown): number {
  return estimateTextTokens(JSON.stringify(value) ?? "");
}

/** Images are billed by pixel count; a flat figure keeps the estimate simple and on the safe side. */
export const IMAGE_TOKEN_ESTIMATE = 1000;
