// The input-token estimate reserved against tpm and budgets before a call (billing uses Bedrock's
// real figures; the reservation is replaced by them when the call settles).
import type { ConverseBody } from "../bedrock/request/index.js";
import { estimateJsonTokens, estimateTextTokens, IMAGE_TOKEN_ESTIMATE } from "../bedrock/request/token-estimate.js";

export function estimateInputTokens(body: ConverseBody): number {
  let tokens = 0;
  for (const block of body.system ?? []) tokens += "text" in block && typeof block.text === "string" ? estimateTextTokens(block.text) : 0;
  for (const message of body.messages ?? []) {
    for (const block of message.content ?? []) {
      if (block.text !== undefined) tokens += estimateTextTokens(block.text);
      else if (block.image) tokens += IMAGE_TOKEN_ESTIMATE;
      else if (block.cachePoint) continue;
      else tokens += estimateJsonTokens(block);
    }
  }
  if (body.toolConfig?.tools) tokens += estimateJsonTokens(body.toolConfig.tools);
  return tokens;
}
