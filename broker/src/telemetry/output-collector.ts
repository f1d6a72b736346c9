// The model's answer as text and tool calls, gathered only for exporters that capture content:
// from a whole completion, or chunk by chunk from a stream.
import type { ChatCompletion, ChatCompletionChunk } from "@tollgate/shared";
import type { CapturedContent } from "./request-trace.js";

export class OutputCollector {
  private text = "";
  private readonly toolCalls = new Map<number, { id?: string; name?: string; arguments: string }>();

  constructor(private readonly messages: unknown[]) {}

  add(chunk: ChatCompletionChunk): void {
    const delta = chunk.choices[0]?.delta;
    if (!delta) return;
    if (typeof delta.content === "string") this.text += delta.content;
    for (const call of delta.tool_calls ?? []) {
      const entry = this.toolCalls.get(call.index) ?? { arguments: "" };
      if (call.id) entry.id = call.id;
      if (call.function?.name) entry.name = call.function.name;
      entry.arguments += call.function?.arguments ?? "";
      this.toolCalls.set(call.index, entry);
    }
  }

  addCompletion(completion: ChatCompletion): void {
    const message = completion.choices[0]?.message;
    if (!message) return;
    if (typeof message.content === "string") this.text += message.content;
    (message.tool_calls ?? []).forEach((call, index) => this.toolCalls.set(index, { id: call.id, name: call.function.name, arguments: call.function.arguments }));
  }

  content(): CapturedContent {
    return { messages: this.messages, output: { text: this.text, toolCalls: [...this.toolCalls.values()] } };
  }
}
