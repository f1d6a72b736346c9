import { describe, expect, it } from "vitest";
import { sseData } from "./chat-stream.js";
import { estimateTokens, toOpenAIMessages, toOpenAITools, ToolCallCollector } from "./lm-translate.js";

describe("language-model translation", () => {
  it("turns VS Code chat messages into OpenAI messages, tool results before the user's text", () => {
    expect(
      toOpenAIMessages([
        { role: "user", parts: [{ kind: "text", text: "List files" }] },
        { role: "assistant", parts: [{ kind: "text", text: "Sure." }, { kind: "toolCall", callId: "c1", name: "ls", input: { dir: "." } }] },
        { role: "user", parts: [{ kind: "toolResult", callId: "c1", content: "a.ts" }, { kind: "text", text: "and now?" }] },
        { role: "assistant", parts: [{ kind: "text", text: "Done" }] },
      ]),
    ).toEqual([
      { role: "user", content: "List files" },
      { role: "assistant", content: "Sure.", tool_calls: [{ id: "c1", type: "function", function: { name: "ls", arguments: '{"dir":"."}' } }] },
      { role: "tool", tool_call_id: "c1", content: "a.ts" },
      { role: "user", content: "and now?" },
      { role: "assistant", content: "Done" },
    ]);
  });

  it("declares tools as functions, with an empty object schema when none is given", () => {
    expect(toOpenAITools([{ name: "ls", description: "", inputSchema: undefined }])).toEqual([
      { type: "function", function: { name: "ls", description: "ls", parameters: { type: "object", properties: {} } } },
    ]);
  });

  it("collects streamed tool-call deltas by index", () => {
    const collector = new ToolCallCollector();
    collector.add([{ index: 0, id: "call_a", function: { name: "read", arguments: '{"pa' } }]);
    collector.add([{ index: 1, id: "call_b", function: { name: "ls", arguments: "" } }]);
    collector.add([{ index: 0, function: { arguments: 'th":"x"}' } }]);
    expect(collector.finish()).toEqual([
      { callId: "call_a", name: "read", input: { path: "x" } },
      { callId: "call_b", name: "ls", input: {} },
    ]);
    expect(estimateTokens("12345678")).toBe(2);
  });

  it("splits SSE into data payloads across arbitrary chunk boundaries", async () => {
    const text = 'data: {"a":1}\n\n: comment\n\ndata: {"b":\ndata: 2}\r\n\r\ndata: [DONE]\n\n';
    const bytes = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 5) controller.enqueue(bytes.slice(i, i + 5));
        controller.close();
      },
    });
    const out: string[] = [];
    for await (const data of sseData(stream)) out.push(data);
    expect(out).toEqual(['{"a":1}', '{"b":\n2}', "[DONE]"]);
  });
});
