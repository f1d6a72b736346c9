import { describe, expect, it } from "vitest";
import { baseModelId, resolveModel } from "./model-profiles.js";
import { splitJson, splitText } from "./text-chunks.js";
import { estimateInputTokens, estimateTokens } from "./token-estimate.js";

describe("model ids", () => {
  it.each([
    ["us.anthropic.claude-sonnet-4-20250514-v1:0", "anthropic.claude-sonnet-4-20250514-v1:0"],
    ["us-gov.anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0"],
    ["global.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-haiku-4-5-20251001-v1:0"],
    ["arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"],
    ["arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.meta.llama3-3-70b-instruct-v1:0", "meta.llama3-3-70b-instruct-v1:0"],
    ["arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc", "application-inference-profile/abc"],
  ])("%s is %s", (modelId, base) => {
    expect(baseModelId(modelId)).toBe(base);
  });

  it("knows each family's cache minimum and output limit", () => {
    expect(resolveModel("us.anthropic.claude-sonnet-4-20250514-v1:0")).toMatchObject({ cacheMinTokens: 1024, maxOutputTokens: 64_000 });
    expect(resolveModel("anthropic.claude-3-5-haiku-20241022-v1:0").cacheMinTokens).toBe(2048);
    expect(resolveModel("global.anthropic.claude-haiku-4-5-20251001-v1:0").cacheMinTokens).toBe(4096);
    expect(resolveModel("us.anthropic.claude-opus-4-5-20251101-v1:0").cacheMinTokens).toBe(4096);
    expect(resolveModel("us.anthropic.claude-opus-4-1-20250805-v1:0")).toMatchObject({ cacheMinTokens: 1024, maxOutputTokens: 32_000 });
    expect(resolveModel("us.amazon.nova-lite-v1:0")).toMatchObject({ family: "nova", cacheMinTokens: 1000, cachePointsInTools: false });
    expect(resolveModel("meta.llama3-3-70b-instruct-v1:0")).toMatchObject({ family: "llama", cacheMinTokens: undefined });
    const appProfile = resolveModel("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc");
    expect(appProfile).toMatchObject({ family: "claude", cacheMinTokens: 1024, supportsThinking: true });
  });
});

describe("token estimate", () => {
  it("is ceil(chars / 4) per piece, images 1000, tools as JSON", () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens("abcde")).toBe(2);
    const toolSpec = { name: "t", inputSchema: { json: { type: "object" } } };
    const tokens = estimateInputTokens({
      system: [{ text: "abcde" }],
      toolConfig: { tools: [{ toolSpec }] },
      messages: [
        { role: "user", content: [{ text: "abc" }, { image: { format: "png", source: { bytes: "AAAA" } } }] },
        { role: "assistant", content: [{ toolUse: { toolUseId: "t1", name: "t", input: { a: 1 } } }] },
        { role: "user", content: [{ toolResult: { toolUseId: "t1", content: [{ text: "ok" }, { json: { b: 2 } }] } }] },
      ],
    });
    const expected =
      estimateTokens(JSON.stringify(toolSpec)) + 2 + 1 + 1000 + estimateTokens('{"a":1}') + 1 + estimateTokens('{"b":2}');
    expect(tokens).toBe(expected);
  });
});

describe("stream chunking", () => {
  it("splits text into about eight words per chunk, losslessly", () => {
    const text = Array.from({ length: 20 }, (_, index) => `w${index}`).join(" ");
    const chunks = splitText(text);
    expect(chunks).toHaveLength(3);
    expect(chunks.join("")).toBe(text);
    expect(splitText("abc", 5)).toEqual(["a", "b", "c"]);
    expect(splitJson('{"a":1}').join("")).toBe('{"a":1}');
  });
});
