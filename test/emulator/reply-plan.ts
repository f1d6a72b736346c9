// The answer to one accepted request, decided before the first byte: blocks, stop reason, usage
// and pacing. The Converse and ConverseStream writers only render it.

import { randomBytes } from "node:crypto";
import type { ReasoningSigner } from "./reasoning-signature.js";
import { estimateTokens } from "./token-estimate.js";
import type { ReportedUsage, Scenario, ScenarioContent } from "./types.js";

export type ReplyBlock =
  | { kind: "text"; text: string }
  | { kind: "reasoning"; text: string; signature: string }
  | { kind: "toolUse"; toolUseId: string; name: string; input: unknown };

export interface ReplyPlan {
  blocks: ReplyBlock[];
  stopReason: string;
  usage: ReportedUsage;
  firstByteDelayMs: number;
  chunkDelayMs: number;
  chunks: number | undefined;
  midStreamError: Scenario["midStreamError"];
  dropAfterEvents: number | undefined;
}

export function toReplyBlocks(content: ScenarioContent[], signer: ReasoningSigner): ReplyBlock[] {
  return content.map((block): ReplyBlock => {
    if ("text" in block) return { kind: "text", text: block.text };
    if ("reasoning" in block) {
      return { kind: "reasoning", text: block.reasoning.text, signature: signer.sign(block.reasoning.text) };
    }
    const { name, input, toolUseId } = block.toolUse;
    return { kind: "toolUse", name, input, toolUseId: toolUseId ?? newToolUseId() };
  });
}

function newToolUseId(): string {
  return `tooluse_${randomBytes(16).toString("base64url")}`;
}

export function outputTokens(blocks: ReplyBlock[]): number {
  let tokens = 0;
  for (const block of blocks) {
    tokens += estimateTokens(block.kind === "toolUse" ? JSON.stringify(block.input ?? {}) : block.text);
  }
  return tokens;
}

export interface UsageParts {
  inputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
  outputTokens: number;
}

/** Bedrock's inputTokens exclude cached input; totalTokens include it. */
export function reportedUsage(parts: UsageParts, overrides: Partial<ReportedUsage> = {}): ReportedUsage {
  const cacheReadInputTokens = overrides.cacheReadInputTokens ?? parts.cacheReadInputTokens;
  const cacheWriteInputTokens = overrides.cacheWriteInputTokens ?? parts.cacheWriteInputTokens;
  const inputTokens =
    overrides.inputTokens ?? Math.max(0, parts.inputTokens - parts.cacheReadInputTokens - parts.cacheWriteInputTokens);
  const output = overrides.outputTokens ?? parts.outputTokens;
  return {
    inputTokens,
    outputTokens: output,
    totalTokens: overrides.totalTokens ?? inputTokens + cacheReadInputTokens + cacheWriteInputTokens + output,
    cacheReadInputTokens,
    cacheWriteInputTokens,
  };
}

/** The blocks as they appear in a Converse response message. */
export function messageContent(blocks: ReplyBlock[]): Array<Record<string, unknown>> {
  return blocks.map((block) => {
    if (block.kind === "text") return { text: block.text };
    if (block.kind === "reasoning") {
      return { reasoningContent: { reasoningText: { text: block.text, signature: block.signature } } };
    }
    return { toolUse: { toolUseId: block.toolUseId, name: block.name, input: block.input } };
  });
}
