import { describe, expect, it } from "vitest";
import { parseDuration, parseRateLimitHeaders, parseRetryAfter } from "./headers.js";

describe("rate-limit headers", () => {
  it("reads the broker's headers from a Node header object or a fetch Headers", () => {
    const raw = {
      "x-ratelimit-limit-requests": "30",
      "x-ratelimit-remaining-requests": "27",
      "x-ratelimit-reset-requests": "12s",
      "x-ratelimit-limit-tokens": "400000",
      "x-ratelimit-remaining-tokens": "391000",
      "x-ratelimit-reset-tokens": "1m30s",
      "x-tollgate-budget-remaining-usd": "15.80",
    };
    const expected = {
      limitRequests: 30,
      remainingRequests: 27,
      resetRequestsSeconds: 12,
      limitTokens: 400000,
      remainingTokens: 391000,
      resetTokensSeconds: 90,
      budgetRemainingUsd: 15.8,
    };
    expect(parseRateLimitHeaders(raw)).toEqual(expected);
    expect(parseRateLimitHeaders(new Headers(raw))).toEqual(expected);
  });

  it("reads retry-after as seconds, milliseconds or a date, and x-should-retry", () => {
    const now = Date.parse("2026-11-24T00:00:00Z");
    expect(parseRetryAfter({ "retry-after": "12" })).toBe(12);
    expect(parseRetryAfter({ "retry-after": "12", "retry-after-ms": "1500" })).toBe(1.5);
    expect(parseRetryAfter({ "retry-after": "Tue, 24 Nov 2026 00:00:30 GMT" }, now)).toBe(30);
    expect(parseRateLimitHeaders({ "x-should-retry": "false" }).shouldRetry).toBe(false);
    expect(parseRateLimitHeaders({})).toEqual({});
  });

  it("ignores what it cannot read", () => {
    expect(parseRateLimitHeaders({ "x-ratelimit-remaining-requests": "lots", "x-ratelimit-reset-requests": "soon" })).toEqual({});
    expect(parseDuration("250ms")).toBe(0.25);
    expect(parseDuration("1h2m3s")).toBe(3723);
    expect(parseDuration("6m0s")).toBe(360);
    expect(parseDuration("12x")).toBeUndefined();
  });
});
