import type { ContentBlock, Message, SystemContentBlock, Tool } from "@aws-sdk/client-bedrock-runtime";
import { ConverseCommand, ValidationException } from "@aws-sdk/client-bedrock-runtime";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Harness } from "./sdk-harness.js";
import { SONNET_4, startHarness, userText } from "./sdk-harness.js";
import { estimateTokens } from "./token-estimate.js";

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness.stop());
beforeEach(() => harness.emulator.reset());

const CACHE_POINT = { cachePoint: { type: "default" as const } };
/** Text of exactly `tokens` estimated tokens. */
const textOf = (tokens: number, letter = "a"): string => letter.repeat(tokens * 4);

async function converse(modelId: string, system: SystemContentBlock[], messages: Message[], tools?: Tool[]) {
  const client = harness.client("http1");
  return client.send(
    new ConverseCommand({ modelId, system, messages, ...(tools ? { toolConfig: { tools } } : {}) }),
  );
}

describe("prompt caching", () => {
  it("writes a long enough prefix on the first call and reads it on the second", async () => {
    const system = [{ text: textOf(1500) }, CACHE_POINT];
    const first = await converse(SONNET_4, system, [userText("Hi")]);
    expect(first.usage).toMatchObject({ cacheWriteInputTokens: 1500, cacheReadInputTokens: 0, inputTokens: estimateTokens("Hi") });
    const second = await converse(SONNET_4, system, [userText("Hello again")]);
    expect(second.usage).toMatchObject({ cacheWriteInputTokens: 0, cacheReadInputTokens: 1500, inputTokens: estimateTokens("Hello again") });
    const output = second.usage?.outputTokens ?? 0;
    expect(second.usage?.totalTokens).toBe(1500 + estimateTokens("Hello again") + output);
    expect(harness.emulator.totals()).toMatchObject({ cacheWriteInputTokens: 1500, cacheReadInputTokens: 1500 });
  });

  it("caches nothing below the model's minimum", async () => {
    const system = [{ text: textOf(1000) }, CACHE_POINT];
    for (let call = 0; call < 2; call += 1) {
      const reply = await converse(SONNET_4, system, [userText("Hi")]);
      expect(reply.usage).toMatchObject({ cacheWriteInputTokens: 0, cacheReadInputTokens: 0, inputTokens: 1000 + 1 });
    }
    // Claude 3.5 Haiku needs 2048 tokens, so 1500 is not enough there either.
    const haiku = await converse("anthropic.claude-3-5-haiku-20241022-v1:0", [{ text: textOf(1500) }, CACHE_POINT], [userText("Hi")]);
    expect(haiku.usage?.cacheWriteInputTokens).toBe(0);
  });

  it("reads the cached part of a growing conversation and writes only the new part", async () => {
    const system = [{ text: textOf(1200) }, CACHE_POINT];
    const turn1: Message[] = [{ role: "user", content: [{ text: textOf(300, "b") }, CACHE_POINT] }];
    const first = await converse(SONNET_4, system, turn1);
    expect(first.usage).toMatchObject({ cacheWriteInputTokens: 1500, cacheReadInputTokens: 0, inputTokens: 0 });
    const turn2: Message[] = [
      { role: "user", content: [{ text: textOf(300, "b") }] },
      { role: "assistant", content: [{ text: textOf(100, "c") }] },
      { role: "user", content: [{ text: textOf(50, "d") }, CACHE_POINT] },
    ];
    const second = await converse(SONNET_4, system, turn2);
    expect(second.usage).toMatchObject({ cacheReadInputTokens: 1500, cacheWriteInputTokens: 150, inputTokens: 0 });
  });

  it("puts tools before system in the prefix and shares the cache across geo profiles", async () => {
    const tool: Tool = { toolSpec: { name: "lookup", description: textOf(1100), inputSchema: { json: { type: "object" } } } };
    const toolTokens = estimateTokens(JSON.stringify(tool.toolSpec));
    const first = await converse(SONNET_4, [{ text: "Be brief." }], [userText("Hi")], [tool, CACHE_POINT]);
    expect(first.usage).toMatchObject({ cacheWriteInputTokens: toolTokens, inputTokens: estimateTokens("Be brief.") + 1 });
    const other = await converse("anthropic.claude-sonnet-4-20250514-v1:0", [{ text: "Be verbose." }], [userText("Hi")], [tool, CACHE_POINT]);
    expect(other.usage).toMatchObject({ cacheReadInputTokens: toolTokens, cacheWriteInputTokens: 0 });
  });

  it("rejects more than four cache points", async () => {
    const content: ContentBlock[] = [{ text: "x" }, CACHE_POINT, { text: "y" }, CACHE_POINT, { text: "z" }, CACHE_POINT];
    const error = await converse(SONNET_4, [{ text: "s" }, CACHE_POINT, { text: "t" }, CACHE_POINT], [{ role: "user", content }]).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ValidationException);
    expect((error as Error).message).toContain("A maximum of 4 blocks with cache_control may be provided. Found 5.");
  });

  it("rejects cache points where the model family has none", async () => {
    const llama = await converse("us.meta.llama3-3-70b-instruct-v1:0", [{ text: "s" }, CACHE_POINT], [userText("Hi")]).catch(
      (caught: unknown) => caught,
    );
    expect(llama).toBeInstanceOf(ValidationException);
    expect((llama as Error).message).toBe("This model doesn't support prompt caching");
    const tool: Tool = { toolSpec: { name: "lookup", inputSchema: { json: { type: "object" } } } };
    const nova = await converse("us.amazon.nova-pro-v1:0", [{ text: "s" }], [userText("Hi")], [tool, CACHE_POINT]).catch(
      (caught: unknown) => caught,
    );
    expect(nova).toBeInstanceOf(ValidationException);
    const novaSystem = await converse("us.amazon.nova-pro-v1:0", [{ text: textOf(1000) }, CACHE_POINT], [userText("Hi")]);
    expect(novaSystem.usage?.cacheWriteInputTokens).toBe(1000);
  });
});
