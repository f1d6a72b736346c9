// Bedrock prompt caching, simulated: a cache point caches the prefix before it (tools → system →
// messages) when that prefix reaches the model's minimum, and a later request that starts with a
// cached prefix reads it instead of paying full input for it. Reads = the longest cached prefix
// found at a cache point or a block boundary shortly before one; writes = the longest counting
// prefix minus what was read.

import { createHash } from "node:crypto";
import type { ConverseRequestBody } from "./bedrock-request.js";
import { walkPrompt } from "./token-estimate.js";

const DEFAULT_TTL_MS = 5 * 60_000;
const ONE_HOUR_MS = 60 * 60_000;
// Bounds memory in long benchmarks; the oldest entries go first.
const MAX_ENTRIES = 50_000;

export interface CacheUsage {
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
}

interface CachePrefix {
  key: string;
  tokens: number;
  ttlMs: number;
  /** Earlier block boundaries a read may also hit, nearest last. */
  lookback: Boundary[];
}

interface Boundary {
  key: string;
  tokens: number;
}

// A cache point also reads prefixes ending at block boundaries up to about 20 blocks before it,
// which is what makes "move the cache point to the newest message" hit the previous turn's write.
const LOOKBACK_BLOCKS = 20;

export class PromptCache {
  private readonly expiries = new Map<string, number>();

  /** Reads and writes the cache for one request of `cacheKey`'s model. */
  apply(cacheKey: string, body: ConverseRequestBody, minTokens: number, now: number): CacheUsage {
    const prefixes = countingPrefixes(cacheKey, body, minTokens);
    if (prefixes.length === 0) return { cacheReadInputTokens: 0, cacheWriteInputTokens: 0 };
    let read = 0;
    for (const prefix of prefixes) {
      for (const boundary of [...prefix.lookback, prefix]) {
        const expiresAt = this.expiries.get(boundary.key);
        if (expiresAt !== undefined && expiresAt > now && boundary.tokens > read) read = boundary.tokens;
      }
    }
    const longest = Math.max(...prefixes.map((prefix) => prefix.tokens));
    // Storing again refreshes the TTL of a prefix that was just read.
    for (const prefix of prefixes) this.store(prefix.key, now + prefix.ttlMs);
    return { cacheReadInputTokens: read, cacheWriteInputTokens: longest - read };
  }

  clear(): void {
    this.expiries.clear();
  }

  private store(key: string, expiresAt: number): void {
    // Re-inserting moves the key to the end, so eviction order follows last use.
    this.expiries.delete(key);
    this.expiries.set(key, expiresAt);
    if (this.expiries.size > MAX_ENTRIES) {
      const oldest = this.expiries.keys().next();
      if (oldest.done !== true) this.expiries.delete(oldest.value);
    }
  }
}

/** The cache points whose prefix is long enough to be cached, with their prefix hash and size. */
function countingPrefixes(cacheKey: string, body: ConverseRequestBody, minTokens: number): CachePrefix[] {
  const prefixes: CachePrefix[] = [];
  const hash = createHash("sha256").update(cacheKey);
  const recent: Boundary[] = [];
  let current: Boundary = { key: hash.copy().digest("base64"), tokens: 0 };
  walkPrompt(body, (piece) => {
    if (piece.kind === "boundary") hash.update(`\u0000${piece.label}\u0000`);
    else if (piece.kind === "content") {
      hash.update(canonicalJson(piece.value)).update("\u0001");
      recent.push(current);
      if (recent.length > LOOKBACK_BLOCKS) recent.shift();
      current = { key: hash.copy().digest("base64"), tokens: current.tokens + piece.tokens };
    } else if (current.tokens >= minTokens) {
      prefixes.push({
        ...current,
        ttlMs: piece.ttl === "1h" ? ONE_HOUR_MS : DEFAULT_TTL_MS,
        lookback: [...recent],
      });
    }
  });
  return prefixes;
}

/** JSON with object keys sorted, so key order never changes a cache key. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
