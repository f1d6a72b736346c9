// Small builders for ledger tests and the ledger benchmark.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RefusalRecord, UsageRecord } from "../types.js";

let sequence = 0;

/** A plausible successful request; override what the test is about. Ids are unique per process. */
export function usageRecord(overrides: Partial<UsageRecord> = {}): UsageRecord {
  sequence++;
  return {
    id: `req-${process.pid}-${sequence}`,
    time: Date.UTC(2026, 10, 23, 12, 0, 0) + sequence,
    user: "alice@example.com",
    team: "platform",
    project: "tollgate",
    requestedModel: "claude-sonnet-4-5",
    servedModel: "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    deployment: "us-east-1",
    status: "ok",
    httpStatus: 200,
    inputTokens: 1200,
    cacheReadTokens: 20_000,
    cacheWriteTokens: 800,
    outputTokens: 350,
    costPicoUsd: 14_850_000_000, // $0.01485
    latencyMs: 2300,
    ttftMs: 640,
    fallbacks: 0,
    errorCode: null,
    ...overrides,
  };
}

/** A fresh directory under the OS temp dir; `remove()` deletes it. */
export function tempDataDir(prefix = "tollgate-ledger-"): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A request refused by a rate limit; override what the test is about. */
export function refusalRecord(overrides: Partial<RefusalRecord> = {}): RefusalRecord {
  sequence++;
  return {
    id: `refused-${process.pid}-${sequence}`,
    time: Date.UTC(2026, 10, 23, 12, 0, 0) + sequence,
    user: "alice@example.com",
    team: "platform",
    project: "tollgate",
    model: "claude-sonnet-4-5",
    httpStatus: 429,
    code: "rate_limit_exceeded",
    reason: "user alice@example.com's rpm limit of 10 is reached; retry in 12 s.",
    limitName: "rpm",
    limitScope: "user alice@example.com",
    keyHashPrefix: null,
    client: "127.0.0.1",
    latencyMs: 2,
    ...overrides,
  };
}
