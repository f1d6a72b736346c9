// Prompt and completion text for exporters that opted in (per team): the conventions' opt-in
// attributes as JSON strings, redacted, each cut at the exporter's size limit.
import { GENAI, TOLLGATE } from "./genai-attributes.js";
import { redactSecrets } from "./redact-secrets.js";
import type { CapturedContent } from "./request-trace.js";

export const DEFAULT_MAX_CONTENT_CHARS = 20_000;

interface Part {
  type: string;
  content?: string;
  [key: string]: unknown;
}

/** OpenAI message content (string or parts) as the conventions' parts. */
function partsOf(content: unknown): Part[] {
  if (typeof content === "string") return [{ type: "text", content }];
  if (!Array.isArray(content)) return [];
  return content.map((part: Record<string, unknown>) =>
    part?.type === "text" ? { type: "text", content: String(part.text ?? "") } : { type: String(part?.type ?? "unknown"), content: "[not exported]" },
  );
}

function messagesOf(messages: unknown[]): { system: Part[]; input: unknown[] } {
  const system: Part[] = [];
  const input: unknown[] = [];
  for (const raw of messages) {
    const message = raw as Record<string, unknown>;
    const role = String(message.role ?? "user");
    if (role === "system" || role === "developer") {
      system.push(...partsOf(message.content));
      continue;
    }
    const parts = partsOf(message.content);
    if (Array.isArray(message.tool_calls)) {
      for (const call of message.tool_calls as Array<Record<string, unknown>>) {
        const fn = (call.function ?? {}) as Record<string, unknown>;
        parts.push({ type: "tool_call", id: call.id, name: fn.name, arguments: fn.arguments });
      }
    }
    if (role === "tool") input.push({ role, parts: [{ type: "tool_call_response", id: message.tool_call_id, response: typeof message.content === "string" ? message.content : parts.map((p) => p.content).join("") }] });
    else input.push({ role, parts });
  }
  return { system, input };
}

function capped(value: unknown, maxChars: number): { text: string; truncated: boolean } {
  const text = redactSecrets(JSON.stringify(value));
  return text.length <= maxChars ? { text, truncated: false } : { text: text.slice(0, maxChars), truncated: true };
}

/** The opt-in attributes for one span, or none when nothing was captured. */
export function contentAttributes(content: CapturedContent | undefined, maxChars: number, finishReason: string | undefined): Record<string, string | boolean> {
  if (!content) return {};
  const { system, input } = messagesOf(content.messages);
  const attributes: Record<string, string | boolean> = {};
  let truncated = false;
  const put = (key: string, value: unknown): void => {
    const out = capped(value, maxChars);
    attributes[key] = out.text;
    truncated ||= out.truncated;
  };
  put(GENAI.inputMessages, input);
  if (system.length > 0) put(GENAI.systemInstructions, system);
  if (content.output) {
    const parts: unknown[] = [];
    if (content.output.text !== "") parts.push({ type: "text", content: content.output.text });
    for (const call of content.output.toolCalls) parts.push({ type: "tool_call", ...(call as object) });
    put(GENAI.outputMessages, [{ role: "assistant", parts, finish_reason: finishReason ?? "" }]);
  }
  if (truncated) attributes[TOLLGATE.contentTruncated] = true;
  return attributes;
}
