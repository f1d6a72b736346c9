// Translation between VS Code's language-model chat messages (reduced here to plain data, so this
// stays free of `vscode`) and the OpenAI chat format the broker speaks.

export type LmPart =
  | { kind: "text"; text: string }
  | { kind: "toolCall"; callId: string; name: string; input: unknown }
  | { kind: "toolResult"; callId: string; content: string };

export interface LmMessage {
  role: "user" | "assistant";
  parts: LmPart[];
}

export interface LmTool {
  name: string;
  description: string;
  inputSchema?: object | undefined;
}

type OpenAIMessage =
  | { role: "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: Array<{ id: string; type: "function"; function: { name: string; arguments: string } }> }
  | { role: "tool"; tool_call_id: string; content: string };

export function toOpenAIMessages(messages: LmMessage[]): OpenAIMessage[] {
  const out: OpenAIMessage[] = [];
  for (const message of messages) {
    const text = message.parts.flatMap((part) => (part.kind === "text" ? [part.text] : [])).join("");
    if (message.role === "assistant") {
      const calls = message.parts.flatMap((part) =>
        part.kind === "toolCall" ? [{ id: part.callId, type: "function" as const, function: { name: part.name, arguments: JSON.stringify(part.input ?? {}) } }] : [],
      );
      out.push(calls.length ? { role: "assistant", content: text || null, tool_calls: calls } : { role: "assistant", content: text });
      continue;
    }
    // Tool results answer the previous assistant turn's calls, so they come before the user's text.
    for (const part of message.parts) {
      if (part.kind === "toolResult") out.push({ role: "tool", tool_call_id: part.callId, content: part.content });
    }
    if (text) out.push({ role: "user", content: text });
  }
  return out;
}

export function toOpenAITools(tools: readonly LmTool[]): Array<{ type: "function"; function: { name: string; description: string; parameters: object } }> {
  return tools.map((tool) => ({
    type: "function",
    function: { name: tool.name, description: tool.description || tool.name, parameters: tool.inputSchema ?? { type: "object", properties: {} } },
  }));
}

export interface CompletedToolCall {
  callId: string;
  name: string;
  input: object;
}

/** Collects streamed tool-call deltas (by index) into whole calls. */
export class ToolCallCollector {
  private readonly calls = new Map<number, { id: string; name: string; args: string }>();

  add(deltas: ReadonlyArray<{ index: number; id?: string; function?: { name?: string; arguments?: string } }> | undefined): void {
    for (const delta of deltas ?? []) {
      const call = this.calls.get(delta.index) ?? { id: "", name: "", args: "" };
      if (delta.id) call.id = delta.id;
      if (delta.function?.name) call.name += delta.function.name;
      if (delta.function?.arguments) call.args += delta.function.arguments;
      this.calls.set(delta.index, call);
    }
  }

  finish(): CompletedToolCall[] {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => {
        let input: object = {};
        try {
          const parsed: unknown = call.args.trim() ? JSON.parse(call.args) : {};
          if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) input = parsed;
        } catch {
          input = {};
        }
        return { callId: call.id || `call_${index}`, name: call.name, input };
      });
  }
}

/** A rough token count (4 characters a token), for VS Code's budget checks. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
