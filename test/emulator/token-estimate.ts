// A deterministic stand-in for a tokenizer, so tests can compute the exact usage they expect.
// The prompt is walked in cache-prefix order (tools → system → messages); every piece is rounded
// up on its own, so a test can add up its pieces the same way.

import type { ContentBlock, ConverseRequestBody } from "./bedrock-request.js";
import { isRecord } from "./bedrock-request.js";

/** Tokens an image or a document counts for, whatever its size. */
export const ATTACHMENT_TOKENS = 1000;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export type PromptPiece =
  /** Where a new part of the prompt starts: keeps "same text, other role" apart in cache keys. */
  | { kind: "boundary"; label: string }
  | { kind: "content"; tokens: number; value: unknown }
  | { kind: "cachePoint"; ttl: string | undefined };

/** Visits every piece of the prompt in cache-prefix order. */
export function walkPrompt(body: ConverseRequestBody, visit: (piece: PromptPiece) => void): void {
  const tools = body.toolConfig?.tools ?? [];
  if (tools.length > 0) visit({ kind: "boundary", label: "tools" });
  for (const tool of tools) {
    if (tool.cachePoint !== undefined) visit({ kind: "cachePoint", ttl: tool.cachePoint.ttl });
    else if (isRecord(tool.toolSpec)) {
      visit({ kind: "content", tokens: estimateTokens(JSON.stringify(tool.toolSpec)), value: tool.toolSpec });
    }
  }
  const system = body.system ?? [];
  if (system.length > 0) visit({ kind: "boundary", label: "system" });
  for (const block of system) {
    if (block.cachePoint !== undefined) visit({ kind: "cachePoint", ttl: block.cachePoint.ttl });
    else if (typeof block.text === "string") {
      visit({ kind: "content", tokens: estimateTokens(block.text), value: block.text });
    }
  }
  for (const message of body.messages ?? []) {
    visit({ kind: "boundary", label: `message:${message.role ?? ""}` });
    for (const block of message.content ?? []) {
      if (block.cachePoint !== undefined) visit({ kind: "cachePoint", ttl: block.cachePoint.ttl });
      else visit({ kind: "content", tokens: contentBlockTokens(block), value: block });
    }
  }
}

/** Tokens of one message content block; unknown blocks count nothing. */
export function contentBlockTokens(block: ContentBlock): number {
  if (typeof block.text === "string") return estimateTokens(block.text);
  if (block.image !== undefined || block.document !== undefined) return ATTACHMENT_TOKENS;
  if (block.toolUse !== undefined) return estimateTokens(JSON.stringify(block.toolUse.input ?? {}));
  if (block.reasoningContent !== undefined) {
    return estimateTokens(block.reasoningContent.reasoningText?.text ?? "");
  }
  if (block.toolResult !== undefined) {
    let tokens = 0;
    for (const part of block.toolResult.content ?? []) {
      if (typeof part.text === "string") tokens += estimateTokens(part.text);
      else if (part.json !== undefined) tokens += estimateTokens(JSON.stringify(part.json));
      else if (part.image !== undefined || part.document !== undefined) tokens += ATTACHMENT_TOKENS;
    }
    return tokens;
  }
  return 0;
}

/** The input tokens the emulator counts for a request, cached or not. */
export function estimateInputTokens(body: ConverseRequestBody): number {
  let tokens = 0;
  walkPrompt(body, (piece) => {
    if (piece.kind === "content") tokens += piece.tokens;
  });
  return tokens;
}
