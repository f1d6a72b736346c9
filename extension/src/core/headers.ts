// Reads the broker's rate-limit and budget headers (RATE_LIMIT_HEADERS in the user-API contract).
import { RATE_LIMIT_HEADERS } from "./api.js";

export type HeaderBag = Record<string, string | string[] | undefined> | Headers;

export interface RateLimitInfo {
  limitRequests?: number;
  remainingRequests?: number;
  /** Seconds until a request slot frees. */
  resetRequestsSeconds?: number;
  limitTokens?: number;
  remainingTokens?: number;
  resetTokensSeconds?: number;
  /** What is left of the tightest budget that applies, in USD. */
  budgetRemainingUsd?: number;
  /** `retry-after` (or `retry-after-ms`), in seconds. */
  retryAfterSeconds?: number;
  /** `x-should-retry: false`: a hard stop (e.g. a budget), retrying will not help. */
  shouldRetry?: boolean;
}

function get(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const value = bag[name] ?? bag[Object.keys(bag).find((key) => key.toLowerCase() === name) ?? ""];
  return Array.isArray(value) ? value[0] : value;
}

function number(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const value = Number(text.trim());
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * A duration as OpenAI writes resets ("12s", "1m30s", "250ms", "6m0s") or plain seconds ("12").
 * Returns seconds, or undefined when unreadable.
 */
export function parseDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const plain = number(trimmed);
  if (plain !== undefined) return plain;
  const pattern = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(pattern)) {
    const value = Number(match[1]);
    const unit = match[2];
    total += unit === "h" ? value * 3600 : unit === "m" ? value * 60 : unit === "ms" ? value / 1000 : value;
    consumed += match[0].length;
  }
  return consumed === trimmed.length && consumed > 0 ? total : undefined;
}

/** `retry-after` is seconds or an HTTP date; `retry-after-ms` wins when present. */
export function parseRetryAfter(headers: HeaderBag, now = Date.now()): number | undefined {
  const ms = number(get(headers, "retry-after-ms"));
  if (ms !== undefined) return ms / 1000;
  const value = get(headers, "retry-after");
  if (value === undefined) return undefined;
  const seconds = number(value);
  if (seconds !== undefined) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}

export function parseRateLimitHeaders(headers: HeaderBag, now = Date.now()): RateLimitInfo {
  const info: RateLimitInfo = {};
  const set = <K extends keyof RateLimitInfo>(key: K, value: RateLimitInfo[K] | undefined): void => {
    if (value !== undefined) info[key] = value;
  };
  set("limitRequests", number(get(headers, RATE_LIMIT_HEADERS.limitRequests)));
  set("remainingRequests", number(get(headers, RATE_LIMIT_HEADERS.remainingRequests)));
  set("resetRequestsSeconds", parseDuration(get(headers, RATE_LIMIT_HEADERS.resetRequests)));
  set("limitTokens", number(get(headers, RATE_LIMIT_HEADERS.limitTokens)));
  set("remainingTokens", number(get(headers, RATE_LIMIT_HEADERS.remainingTokens)));
  set("resetTokensSeconds", parseDuration(get(headers, RATE_LIMIT_HEADERS.resetTokens)));
  set("budgetRemainingUsd", number(get(headers, RATE_LIMIT_HEADERS.budgetRemainingUsd)));
  set("retryAfterSeconds", parseRetryAfter(headers, now));
  const shouldRetry = get(headers, "x-should-retry");
  if (shouldRetry !== undefined) info.shouldRetry = shouldRetry.trim().toLowerCase() !== "false";
  return info;
}
