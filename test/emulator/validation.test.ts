import type { ContentBlock, ConverseCommandInput, Message, Tool } from "@aws-sdk/client-bedrock-runtime";
import { ConverseCommand, ConverseStreamCommand, ValidationException } from "@aws-sdk/client-bedrock-runtime";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Harness } from "./sdk-harness.js";
import { SONNET_4, startHarness, userText } from "./sdk-harness.js";

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness.stop());
beforeEach(() => harness.emulator.reset());

const tool: Tool = {
  toolSpec: { name: "get_weather", description: "Weather", inputSchema: { json: { type: "object" } } },
};
const thinking = { thinking: { type: "enabled", budget_tokens: 2048 } };

async function send(input: Partial<ConverseCommandInput>): Promise<unknown> {
  const command = new ConverseCommand({ modelId: SONNET_4, messages: [userText("Hi")], ...input });
  return harness.client("http1").send(command);
}

async function rejection(input: Partial<ConverseCommandInput>): Promise<string> {
  const error = await send(input).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ValidationException);
  expect((error as ValidationException).$metadata.httpStatusCode).toBe(400);
  return (error as Error).message;
}

describe("request validation", () => {
  it.each<[string, Partial<ConverseCommandInput>, string]>([
    ["no messages", { messages: [] }, "at least one message is required"],
    ["a first assistant message", { messages: [{ role: "assistant", content: [{ text: "x" }] }] }, "must start with a user message"],
    ["two user messages in a row", { messages: [userText("a"), userText("b")] }, "must alternate between user and assistant roles"],
    ["blank text", { messages: [userText("  \n")] }, "The text field in the ContentBlock object at messages.0.content.0 is blank"],
    ["blank system text", { system: [{ text: "" }] }, "The text field in the SystemContentBlock object at system.0 is blank"],
    [
      "an empty tool description",
      { toolConfig: { tools: [{ toolSpec: { name: "t", description: "", inputSchema: { json: {} } } }] } },
      "'toolConfig.tools.1.member.toolSpec.description' failed to satisfy constraint",
    ],
    [
      "a tool name with a space",
      { toolConfig: { tools: [{ toolSpec: { name: "get weather", inputSchema: { json: {} } } }] } },
      "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+",
    ],
    [
      "tool blocks without toolConfig",
      { messages: [userText("a"), { role: "assistant", content: [{ toolUse: { toolUseId: "t1", name: "get_weather", input: {} } }] }, { role: "user", content: [{ toolResult: { toolUseId: "t1", content: [{ text: "ok" }] } }] }] },
      "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
    ],
    [
      "a toolResult without its toolUse",
      { toolConfig: { tools: [tool] }, messages: [userText("a"), { role: "assistant", content: [{ text: "no tool" }] }, { role: "user", content: [{ toolResult: { toolUseId: "t9", content: [{ text: "ok" }] } }] }] },
      "unexpected `tool_use_id` found in `tool_result` blocks: t9",
    ],
    [
      "a bad toolUse id",
      { toolConfig: { tools: [tool] }, messages: [userText("a"), { role: "assistant", content: [{ toolUse: { toolUseId: "id with space", name: "get_weather", input: {} } }] }, { role: "user", content: [{ toolResult: { toolUseId: "x", content: [{ text: "ok" }] } }] }] },
      "toolUse.toolUseId' failed to satisfy constraint",
    ],
    [
      "a toolUse input that is not an object",
      { toolConfig: { tools: [tool] }, messages: [userText("a"), { role: "assistant", content: [{ toolUse: { toolUseId: "t1", name: "get_weather", input: "x" } }] }, { role: "user", content: [{ toolResult: { toolUseId: "t1", content: [{ text: "ok" }] } }] }] },
      "Provide a json object for the field",
    ],
    [
      "an empty tool output",
      { toolConfig: { tools: [tool] }, messages: [userText("a"), { role: "assistant", content: [{ toolUse: { toolUseId: "t1", name: "get_weather", input: {} } }] }, { role: "user", content: [{ toolResult: { toolUseId: "t1", content: [{ text: "" }] } }] }] },
      "The text field in the ToolResultContentBlock object at messages.2.content.0.toolResult.content.0 is blank",
    ],
    ["maxTokens 0", { inferenceConfig: { maxTokens: 0 } }, "'inferenceConfig.maxTokens' failed to satisfy constraint"],
    ["maxTokens above the model limit", { inferenceConfig: { maxTokens: 100_000 } }, "exceeds the model limit of 64000"],
    ["temperature 1.5", { inferenceConfig: { temperature: 1.5 } }, "Member must have value less than or equal to 1"],
    ["a thinking budget below 1024", { additionalModelRequestFields: { thinking: { type: "enabled", budget_tokens: 500 } } }, "greater than or equal to 1024"],
    ["a thinking budget not below maxTokens", { inferenceConfig: { maxTokens: 2048 }, additionalModelRequestFields: thinking }, "`max_tokens` must be greater than `thinking.budget_tokens`"],
    ["temperature with thinking", { inferenceConfig: { temperature: 0.5 }, additionalModelRequestFields: thinking }, "`temperature` may only be set to 1 when thinking is enabled"],
    ["an empty image", { messages: [{ role: "user", content: [{ image: { format: "png", source: { bytes: new Uint8Array() } } }] }] }, "image source"],
  ])("rejects %s", async (_case, input, message) => {
    expect(await rejection(input)).toContain(message);
  });

  it("accepts an image and temperature 1 with thinking", async () => {
    const image: ContentBlock = { image: { format: "png", source: { bytes: new Uint8Array([137, 80, 78, 71]) } } };
    await send({ messages: [{ role: "user", content: [{ text: "look" }, image] }] });
    await send({ inferenceConfig: { temperature: 1 }, additionalModelRequestFields: thinking });
  });

  it("rejects input over the context window, before the stream starts too", async () => {
    harness.emulator.setOptions({ contextWindowTokens: 10 });
    expect(await rejection({ messages: [userText("x".repeat(44))] })).toBe("Input is too long for requested model.");
    const stream = harness.client("http2").send(new ConverseStreamCommand({ modelId: SONNET_4, messages: [userText("x".repeat(44))] }));
    await expect(stream).rejects.toBeInstanceOf(ValidationException);
    harness.emulator.setOptions({ contextWindowTokens: 200_000 });
  });
});

describe("thinking signatures in a tool loop", () => {
  async function firstTurn(): Promise<{ messages: Message[]; assistant: ContentBlock[] }> {
    const messages: Message[] = [userText("Please call the tool")];
    const reply = (await send({ messages, toolConfig: { tools: [tool] }, additionalModelRequestFields: thinking })) as {
      output?: { message?: { content?: ContentBlock[] } };
    };
    const assistant = reply.output?.message?.content ?? [];
    expect(assistant[0]?.reasoningContent?.reasoningText?.signature).toBeTruthy();
    return { messages, assistant };
  }

  function nextTurn(messages: Message[], assistant: ContentBlock[]): Partial<ConverseCommandInput> {
    const toolUseId = assistant.find((block) => block.toolUse)?.toolUse?.toolUseId ?? "";
    return {
      toolConfig: { tools: [tool] },
      additionalModelRequestFields: thinking,
      messages: [
        ...messages,
        { role: "assistant", content: assistant },
        { role: "user", content: [{ toolResult: { toolUseId, content: [{ json: { temperature: 21 } }] } }] },
      ],
    };
  }

  it("accepts the signed thinking block sent back unchanged", async () => {
    const { messages, assistant } = await firstTurn();
    await send(nextTurn(messages, assistant));
  });

  it("rejects the turn when the broker dropped the thinking block", async () => {
    const { messages, assistant } = await firstTurn();
    const withoutThinking = assistant.filter((block) => !block.reasoningContent);
    const message = await rejection(nextTurn(messages, withoutThinking));
    expect(message).toContain("Expected `thinking` or `redacted_thinking`, but found `text`");
    const onlyTool = assistant.filter((block) => block.toolUse);
    expect(await rejection(nextTurn(messages, onlyTool))).toContain("but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block");
  });

  it("rejects a thinking block whose text no longer matches its signature", async () => {
    const { messages, assistant } = await firstTurn();
    const [first, ...rest] = assistant;
    const signature = first?.reasoningContent?.reasoningText?.signature;
    const tampered: ContentBlock = { reasoningContent: { reasoningText: { text: "edited", signature } } };
    expect(await rejection(nextTurn(messages, [tampered, ...rest]))).toContain("Invalid `signature` in `thinking` block");
  });
});
