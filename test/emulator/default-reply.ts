// What the emulator answers when no scenario says otherwise: deterministic, short, and shaped by
// the request the way a model would be (thinking, tool calls, stop sequences, maxTokens).

import type { ConverseRequestBody, ToolSpec } from "./bedrock-request.js";
import { enabledThinking, isRecord } from "./bedrock-request.js";
import { estimateTokens } from "./token-estimate.js";
import type { ScenarioContent } from "./types.js";

const TOOL_TRIGGER = "call the tool";

export interface DefaultReply {
  content: ScenarioContent[];
  stopReason: string;
}

export function defaultReply(body: ConverseRequestBody, modelId: string, maxTokens: number): DefaultReply {
  const messageCount = body.messages?.length ?? 0;
  const content: ScenarioContent[] = [];
  if (enabledThinking(body) !== undefined) {
    content.push({ reasoning: { text: `The user sent ${messageCount} messages. A short friendly answer fits.` } });
  }
  const tool = requestedTool(body);
  if (tool !== undefined) {
    content.push({ text: `Calling ${tool.name}.` });
    content.push({ toolUse: { name: tool.name, input: sampleInput(tool) } });
    return { content, stopReason: "tool_use" };
  }
  const reasoningTokens = content.reduce((sum, block) => sum + ("reasoning" in block ? estimateTokens(block.reasoning.text) : 0), 0);
  const { text, stopReason } = cutText(
    `Hello from the Bedrock emulator (${modelId}). You sent ${messageCount} messages.`,
    body.inferenceConfig?.stopSequences ?? [],
    maxTokens - reasoningTokens,
  );
  if (text.length > 0) content.push({ text });
  return { content, stopReason };
}

function cutText(reply: string, stopSequences: string[], tokenBudget: number): { text: string; stopReason: string } {
  let text = reply;
  let stopReason = "end_turn";
  for (const sequence of stopSequences) {
    const at = sequence.length > 0 ? text.indexOf(sequence) : -1;
    if (at >= 0) {
      text = text.slice(0, at);
      stopReason = "stop_sequence";
    }
  }
  if (estimateTokens(text) > tokenBudget) {
    text = text.slice(0, Math.max(0, tokenBudget) * 4);
    stopReason = "max_tokens";
  }
  return { text, stopReason };
}

/** The first tool, when the last user turn asks for a tool call. */
function requestedTool(body: ConverseRequestBody): (ToolSpec & { name: string }) | undefined {
  const spec = body.toolConfig?.tools?.find((tool) => tool.toolSpec !== undefined)?.toolSpec;
  if (spec?.name === undefined) return undefined;
  const lastUser = [...(body.messages ?? [])].reverse().find((message) => message.role === "user");
  const text = (lastUser?.content ?? []).map((block) => block.text ?? "").join(" ").toLowerCase();
  return text.includes(TOOL_TRIGGER) ? { ...spec, name: spec.name } : undefined;
}

/** A small input that satisfies the tool's required properties. */
function sampleInput(tool: ToolSpec): Record<string, unknown> {
  const schema = tool.inputSchema?.json;
  if (!isRecord(schema) || !isRecord(schema.properties) || !Array.isArray(schema.required)) return {};
  const input: Record<string, unknown> = {};
  for (const name of schema.required) {
    if (typeof name !== "string") continue;
    const property = schema.properties[name];
    const type = isRecord(property) ? property.type : undefined;
    input[name] = type === "number" || type === "integer" ? 1 : type === "boolean" ? true : type === "array" ? [] : type === "object" ? {} : "emulator";
  }
  return input;
}
