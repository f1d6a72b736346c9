import type { ConverseStreamOutput } from "@aws-sdk/client-bedrock-runtime";
import { describe, expect, it } from "vitest";
import { MemoryReasoningStore } from "../request/reasoning-store.js";
import { StreamTranslator } from "./stream.js";

const pricing = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };

function run(events: ConverseStreamOutput[], includeUsage = true, store = new MemoryReasoningStore()) {
  const translator = new StreamTranslator({ id: "chatcmpl-1", model: "claude-sonnet-4", created: 1, pricing, includeUsage, reasoningStore: store });
  const chunks = events.flatMap((event) => translator.translate(event));
  return { translator, chunks, store };
}

const start: ConverseStreamOutput = { messageStart: { role: "assistant" } };
const text = (index: number, value: string): ConverseStreamOutput => ({ contentBlockDelta: { contentBlockIndex: index, delta: { text: value } } });
const stop = (index: number): ConverseStreamOutput => ({ contentBlockStop: { contentBlockIndex: index } });
const messageStop = (stopReason: string): ConverseStreamOutput => ({ messageStop: { stopReason: stopReason as never } });
const metadata = (usage: { inputTokens: number; outputTokens: number; cacheReadInputTokens?: number; cacheWriteInputTokens?: number }): ConverseStreamOutput => ({
  metadata: { usage: { ...usage, totalTokens: 0 }, metrics: { latencyMs: 1 } },
});

describe("StreamTranslator", () => {
  it("forwards each text delta as its own chunk, then the finish reason and a usage chunk", () => {
    const { chunks, translator } = run([start, text(0, "Hel"), text(0, "lo"), stop(0), messageStop("end_turn"), metadata({ inputTokens: 10, outputTokens: 2, cacheReadInputTokens: 1000, cacheWriteInputTokens: 5 })]);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta)).toEqual([{ role: "assistant", content: "" }, { content: "Hel" }, { content: "lo" }, {}, undefined]);
    expect(chunks[3]?.choices[0]?.finish_reason).toBe("stop");
    const usage = chunks[4]?.usage;
    expect(usage).toMatchObject({ prompt_tokens: 1015, completion_tokens: 2, total_tokens: 1017, prompt_tokens_details: { cached_tokens: 1000 }, cache_creation_input_tokens: 5 });
    expect(usage?.cost).toBeCloseTo((10 * 3 + 2 * 15 + 1000 * 0.3 + 5 * 3.75) / 1e6, 12);
    expect(translator.usageReported).toBe(true);
  });

  it("sends no usage chunk unless asked", () => {
    const { chunks } = run([start, text(0, "x"), messageStop("end_turn"), metadata({ inputTokens: 1, outputTokens: 1 })], false);
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
  });

  it("numbers tool calls from 0 whatever the content block index, and streams arguments incrementally", () => {
    const { chunks } = run([
      start,
      text(0, "Reading."),
      stop(0),
      { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: "tooluse_a", name: "read_file" } } } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"pa' } } } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: 'th":"a"}' } } } },
      stop(1),
      { contentBlockStart: { contentBlockIndex: 2, start: { toolUse: { toolUseId: "tooluse_b", name: "list_files" } } } },
      stop(2),
      messageStop("tool_use"),
    ]);
    const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toEqual([
      { index: 0, id: "tooluse_a", type: "function", function: { name: "read_file", arguments: "" } },
      { index: 0, function: { arguments: '{"pa' } },
      { index: 0, function: { arguments: 'th":"a"}' } },
      { index: 1, id: "tooluse_b", type: "function", function: { name: "list_files", arguments: "" } },
      { index: 1, function: { arguments: "{}" } },
    ]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("streams reasoning as reasoning_content and remembers the signed block for the tool call", () => {
    const { chunks, store } = run([
      start,
      { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { text: "Let me " } } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { text: "think." } } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { signature: "c2ln" } } } },
      stop(0),
      { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: "tooluse_z", name: "read_file" } } } },
      stop(1),
      messageStop("tool_use"),
    ]);
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.reasoning_content).map((chunk) => chunk.choices[0]?.delta.reasoning_content)).toEqual(["Let me ", "think."]);
    expect(store.recall("tooluse_z")).toEqual([{ reasoningText: { text: "Let me think.", signature: "c2ln" } }]);
  });

  it("maps stop reasons to OpenAI finish reasons", () => {
    const finish = (reason: string) => run([start, messageStop(reason)]).chunks.at(-1)?.choices[0]?.finish_reason;
    expect(finish("max_tokens")).toBe("length");
    expect(finish("stop_sequence")).toBe("stop");
    expect(finish("guardrail_intervened")).toBe("content_filter");
    expect(finish("content_filtered")).toBe("content_filter");
  });
});
