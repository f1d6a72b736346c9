// Bedrock accepts tool-use ids matching [a-zA-Z0-9_.:-]{1,64}; OpenAI-format histories may carry ids
// minted by other providers. Map foreign ids deterministically so a tool call and its result still
// pair up, and leave valid ids (all of ours) untouched so clients see the id Bedrock gave.
import { createHash } from "node:crypto";

const VALID_TOOL_USE_ID = /^[a-zA-Z0-9_.:-]{1,64}$/;

export function toBedrockToolUseId(id: string): string {
  if (VALID_TOOL_USE_ID.test(id)) return id;
  return `tc_${createHash("sha256").update(id).digest("hex").slice(0, 40)}`;
}
