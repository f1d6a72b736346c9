import { describe, expect, it } from "vitest";
import type { ConverseRequestBody } from "./bedrock-request.js";
import { canonicalJson, PromptCache } from "./prompt-cache.js";

const MINUTE = 60_000;
const cachePoint = { cachePoint: { type: "default" } };
const body = (system: string, ttl?: string): ConverseRequestBody => ({
  system: [{ text: system }, { cachePoint: { type: "default", ...(ttl ? { ttl } : {}) } }],
  messages: [{ role: "user", content: [{ text: "hi" }] }],
});

describe("PromptCache", () => {
  it("expires a prefix after five minutes, and a hit refreshes it", () => {
    const cache = new PromptCache();
    const request = body("a".repeat(4000));
    expect(cache.apply("model", request, 1000, 0)).toEqual({ cacheReadInputTokens: 0, cacheWriteInputTokens: 1000 });
    expect(cache.apply("model", request, 1000, 4 * MINUTE)).toEqual({ cacheReadInputTokens: 1000, cacheWriteInputTokens: 0 });
    expect(cache.apply("model", request, 1000, 8 * MINUTE)).toEqual({ cacheReadInputTokens: 1000, cacheWriteInputTokens: 0 });
    expect(cache.apply("model", request, 1000, 14 * MINUTE)).toEqual({ cacheReadInputTokens: 0, cacheWriteInputTokens: 1000 });
  });

  it("keeps a 1h cache point for an hour", () => {
    const cache = new PromptCache();
    const request = body("a".repeat(4000), "1h");
    cache.apply("model", request, 1000, 0);
    expect(cache.apply("model", request, 1000, 50 * MINUTE).cacheReadInputTokens).toBe(1000);
  });

  it("keys by model and by the exact prefix, not by key order", () => {
    const cache = new PromptCache();
    cache.apply("model-a", body("a".repeat(4000)), 1000, 0);
    expect(cache.apply("model-b", body("a".repeat(4000)), 1000, 0).cacheReadInputTokens).toBe(0);
    expect(cache.apply("model-a", body(`${"a".repeat(3999)}b`), 1000, 0).cacheReadInputTokens).toBe(0);
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
  });

  it("finds a cached prefix up to 20 blocks before a cache point, not further", () => {
    const blocks = (count: number) => Array.from({ length: count }, (_, index) => ({ text: `block ${index}` }));
    const start: ConverseRequestBody = {
      system: [{ text: "s".repeat(4000) }, cachePoint],
      messages: [{ role: "user", content: [{ text: "first" }, cachePoint] }],
    };
    const grown = (extra: number): ConverseRequestBody => ({
      system: [{ text: "s".repeat(4000) }],
      messages: [{ role: "user", content: [{ text: "first" }, ...blocks(extra), cachePoint] }],
    });
    const near = new PromptCache();
    near.apply("m", start, 1000, 0);
    expect(near.apply("m", grown(19), 1000, 0).cacheReadInputTokens).toBe(1002);
    const far = new PromptCache();
    far.apply("m", start, 1000, 0);
    expect(far.apply("m", grown(25), 1000, 0).cacheReadInputTokens).toBe(0);
  });
});
