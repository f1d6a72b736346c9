// Automatic prompt caching. Cline never sends cache_control, yet an agent resends a long, stable
// prefix (system prompt, tools, the conversation so far) on every turn, so most of its bill is input
// that could be read from cache at a tenth of the price. We mark that prefix for Bedrock:
//   1. the end of the system prompt (which follows the tools, so it covers both), or of the tools
//      when there is no system prompt;
//   2. the ends of the last user turns — the newest one writes the cache for the next turn, the
//      previous ones read what the last turns wrote.
// At most 4 points per request (Bedrock's limit), and only where the prefix reaches the model's
// minimum, below which Bedrock silently caches nothing.
import type { ContentBlock, Message, SystemContentBlock, Tool } from "@aws-sdk/client-bedrock-runtime";
import { IMAGE_TOKEN_ESTIMATE, estimateJsonTokens, estimateTextTokens } from "./token-estimate.js";

export const MAX_CACHE_POINTS = 4;
const CACHE_POINT = { cachePoint: { type: "default" } } as const;

export interface CachePrefix {
  tools: Tool[] | undefined;
  system: SystemContentBlock[];
  messages: Message[];
}

export interface CachePlacement {
  minTokens: number;
  cacheTools: boolean;
}

/** Adds cache points in place; returns how many were placed. */
export function placeCachePoints(prefix: CachePrefix, placement: CachePlacement): number {
  let tokens = 0;
  let placed = 0;
  const budgetLeft = () => placed < MAX_CACHE_POINTS;

  if (prefix.tools && prefix.tools.length > 0) {
    tokens += estimateJsonTokens(prefix.tools);
    if (prefix.system.length === 0 && placement.cacheTools && tokens >= placement.minTokens) {
      prefix.tools.push(CACHE_POINT);
      placed++;
    }
  }
  if (prefix.system.length > 0) {
    for (const block of prefix.system) tokens += blockTokens(block);
    if (tokens >= placement.minTokens) {
      prefix.system.push(CACHE_POINT);
      placed++;
    }
  }

  // Token count at the end of each message, then mark user turns from the newest backwards.
  const endTokens: number[] = [];
  for (const message of prefix.messages) {
    for (const block of message.content ?? []) tokens += blockTokens(block);
    endTokens.push(tokens);
  }
  for (let i = prefix.messages.length - 1; i >= 0 && budgetLeft(); i--) {
    const message = prefix.messages[i];
    if (!message || message.role !== "user") continue;
    if ((endTokens[i] ?? 0) < placement.minTokens) break;
    message.content = [...(message.content ?? []), CACHE_POINT];
    placed++;
  }
  return placed;
}

function blockTokens(block: ContentBlock | SystemContentBlock): number {
  if ("text" in block && typeof block.text === "string") return estimateTextTokens(block.text);
  if ("image" in block && block.image) return IMAGE_TOKEN_ESTIMATE;
  if ("cachePoint" in block && block.cachePoint) return 0;
  if ("reasoningContent" in block && block.reasoningContent) {
    return estimateTextTokens(block.reasoningContent.reasoningText?.text ?? "");
  }
  return estimateJsonTokens(block);
}
