import type { ConverseStreamOutput } from "@aws-sdk/client-bedrock-runtime";
import { ConverseCommand, ConverseStreamCommand } from "@aws-sdk/client-bedrock-runtime";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Harness } from "./sdk-harness.js";
import { HANDLERS, SONNET_4, startHarness, userText } from "./sdk-harness.js";
import { estimateTokens } from "./token-estimate.js";

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness.stop());
beforeEach(() => harness.emulator.reset());

async function collect(stream: AsyncIterable<ConverseStreamOutput> | undefined): Promise<ConverseStreamOutput[]> {
  const events: ConverseStreamOutput[] = [];
  for await (const event of stream ?? []) events.push(event);
  return events;
}

function eventNames(events: ConverseStreamOutput[]): string[] {
  return events.map((event) => Object.keys(event).find((key) => key !== "$unknown") ?? "?");
}

const weatherTool = {
  toolSpec: {
    name: "get_weather",
    description: "Weather for a city",
    inputSchema: { json: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  },
};

describe.each(HANDLERS)("over %s", (handler) => {
  it("answers Converse with the default text reply and records the call", async () => {
    const client = harness.client(handler);
    const reply = await client.send(new ConverseCommand({ modelId: SONNET_4, messages: [userText("Hi there")] }));
    const text = `Hello from the Bedrock emulator (${SONNET_4}). You sent 1 messages.`;
    expect(reply.output?.message?.content).toEqual([{ text }]);
    expect(reply.stopReason).toBe("end_turn");
    expect(reply.usage).toMatchObject({
      inputTokens: estimateTokens("Hi there"),
      outputTokens: estimateTokens(text),
      totalTokens: estimateTokens("Hi there") + estimateTokens(text),
      cacheReadInputTokens: 0,
      cacheWriteInputTokens: 0,
    });
    const [call] = harness.emulator.calls;
    expect(reply.$metadata.requestId).toBe(call?.id);
    expect(call).toMatchObject({ operation: "converse", modelId: SONNET_4, region: "us-east-1", finished: true, aborted: false });
    expect(call?.accessKeyId).toMatch(/^ASIAIMDS/);
    expect(call?.sessionToken).toBeTruthy();
    expect(harness.emulator.totals()).toMatchObject({ calls: 1, outputTokens: estimateTokens(text) });
    expect(harness.emulator.connections()[handler]).toBeGreaterThan(0);
  });

  it("decodes ARN model ids from the path", async () => {
    const arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123";
    await harness.client(handler).send(new ConverseCommand({ modelId: arn, messages: [userText("Hi")] }));
    expect(harness.emulator.calls[0]?.modelId).toBe(arn);
  });

  it("streams text in several deltas without a contentBlockStart, usage last", async () => {
    const client = harness.client(handler);
    const messages = [userText("one"), { role: "assistant" as const, content: [{ text: "two" }] }, userText("three")];
    const response = await client.send(new ConverseStreamCommand({ modelId: SONNET_4, messages }));
    const events = await collect(response.stream);
    expect(eventNames(events)).toEqual([
      "messageStart",
      "contentBlockDelta",
      "contentBlockDelta",
      "contentBlockStop",
      "messageStop",
      "metadata",
    ]);
    const text = events.map((event) => event.contentBlockDelta?.delta?.text ?? "").join("");
    expect(text).toBe(`Hello from the Bedrock emulator (${SONNET_4}). You sent 3 messages.`);
    expect(events.at(-2)?.messageStop?.stopReason).toBe("end_turn");
    expect(events.at(-1)?.metadata?.usage?.outputTokens).toBe(estimateTokens(text));
    expect(harness.emulator.calls[0]).toMatchObject({ operation: "converse-stream", finished: true });
    expect(harness.emulator.calls[0]?.usage?.outputTokens).toBe(estimateTokens(text));
  });

  it("streams a tool call with contentBlockStart and JSON input fragments", async () => {
    const client = harness.client(handler);
    const response = await client.send(
      new ConverseStreamCommand({
        modelId: SONNET_4,
        messages: [userText("Please CALL THE TOOL now")],
        toolConfig: { tools: [weatherTool] },
      }),
    );
    const events = await collect(response.stream);
    const start = events.find((event) => event.contentBlockStart)?.contentBlockStart;
    expect(start?.contentBlockIndex).toBe(1);
    expect(start?.start?.toolUse?.name).toBe("get_weather");
    expect(start?.start?.toolUse?.toolUseId).toMatch(/^tooluse_[a-zA-Z0-9_-]+$/);
    const fragments = events.flatMap((event) => event.contentBlockDelta?.delta?.toolUse?.input ?? []);
    expect(fragments.length).toBeGreaterThan(1);
    expect(JSON.parse(fragments.join(""))).toEqual({ city: "emulator" });
    expect(events.find((event) => event.messageStop)?.messageStop?.stopReason).toBe("tool_use");
  });

  it("streams reasoning first, its signature, then the text block", async () => {
    const client = harness.client(handler);
    const response = await client.send(
      new ConverseStreamCommand({
        modelId: SONNET_4,
        messages: [userText("Think first")],
        inferenceConfig: { maxTokens: 4000 },
        additionalModelRequestFields: { thinking: { type: "enabled", budget_tokens: 2000 } },
      }),
    );
    const events = await collect(response.stream);
    const deltas = events.flatMap((event) => (event.contentBlockDelta ? [event.contentBlockDelta] : []));
    const reasoning = deltas.filter((delta) => delta.contentBlockIndex === 0);
    expect(reasoning.at(-1)?.delta?.reasoningContent?.signature).toBeTruthy();
    expect(reasoning.slice(0, -1).every((delta) => delta.delta?.reasoningContent?.text !== undefined)).toBe(true);
    expect(deltas.filter((delta) => delta.contentBlockIndex === 1).every((delta) => delta.delta?.text)).toBe(true);
    expect(eventNames(events).filter((name) => name === "contentBlockStop")).toHaveLength(2);
  });

  it("plays a scenario: content, usage override and chunking", async () => {
    harness.emulator.setHandler(() => ({
      content: [{ text: "abcdef" }, { toolUse: { name: "get_weather", input: { city: "Oslo" }, toolUseId: "tooluse_fixed" } }],
      chunks: 3,
      usage: { inputTokens: 7 },
    }));
    const client = harness.client(handler);
    const response = await client.send(
      new ConverseStreamCommand({ modelId: SONNET_4, messages: [userText("x")], toolConfig: { tools: [weatherTool] } }),
    );
    const events = await collect(response.stream);
    const textDeltas = events.flatMap((event) => event.contentBlockDelta?.delta?.text ?? []);
    expect(textDeltas).toEqual(["ab", "cd", "ef"]);
    expect(events.find((event) => event.contentBlockStart)?.contentBlockStart?.start?.toolUse?.toolUseId).toBe("tooluse_fixed");
    expect(events.at(-1)?.metadata?.usage?.inputTokens).toBe(7);
    expect(events.find((event) => event.messageStop)?.messageStop?.stopReason).toBe("tool_use");
  });
});

describe("default reply", () => {
  it("stops at a stop sequence and at maxTokens", async () => {
    const client = harness.client("http1");
    const stopped = await client.send(
      new ConverseCommand({ modelId: SONNET_4, messages: [userText("Hi")], inferenceConfig: { stopSequences: ["emulator"] } }),
    );
    expect(stopped.output?.message?.content).toEqual([{ text: "Hello from the Bedrock " }]);
    expect(stopped.stopReason).toBe("stop_sequence");
    const cut = await client.send(new ConverseCommand({ modelId: SONNET_4, messages: [userText("Hi")], inferenceConfig: { maxTokens: 2 } }));
    expect(cut.output?.message?.content).toEqual([{ text: "Hello fr" }]);
    expect(cut.stopReason).toBe("max_tokens");
  });

  it("paces the stream: first byte delay and per-chunk delay", async () => {
    harness.emulator.setHandler(() => ({ content: [{ text: "one two three" }], chunks: 3, firstByteDelayMs: 60, chunkDelayMs: 40 }));
    const client = harness.client("http2");
    const started = Date.now();
    const response = await client.send(new ConverseStreamCommand({ modelId: SONNET_4, messages: [userText("x")] }));
    const arrivals: number[] = [];
    for await (const event of response.stream ?? []) {
      if (event.contentBlockDelta) arrivals.push(Date.now() - started);
    }
    expect(arrivals[0]).toBeGreaterThanOrEqual(55);
    expect((arrivals[2] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(70);
  });
});
