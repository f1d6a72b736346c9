import { afterEach, describe, expect, it } from "vitest";
import { openSqliteLedger, type SqliteLedger } from "./sqlite-ledger.js";
import { refusalRecord, tempDataDir, usageRecord } from "./testing/records.js";
import { REFUSAL_RETENTION_MS } from "./refusals.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function open(options: Parameters<typeof openSqliteLedger>[1] = {}): SqliteLedger {
  const tmp = tempDataDir();
  const ledger = openSqliteLedger(tmp.dir, options);
  cleanups.push(tmp.remove, () => ledger.close());
  return ledger;
}

async function committed(ledger: SqliteLedger, count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (ledger.stats().refusalsWritten < count) {
    if (Date.now() > deadline) throw new Error(`only ${ledger.stats().refusalsWritten} of ${count} refusals committed`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("refused requests in the SQLite ledger", () => {
  it("commits a refusal on its own (no usage write needed) and reads it back field for field", async () => {
    const ledger = open();
    const refused = refusalRecord({ user: null, team: null, project: null, httpStatus: 401, code: "invalid_api_key", limitName: null, limitScope: null, keyHashPrefix: "3f2a9c00b1d4" });
    ledger.recordRefusal(refused);
    await committed(ledger, 1);
    expect(ledger.refusals({})).toEqual([refused]);
    // Not a request in the usage reports, and not activity for the rate windows restored at start-up.
    expect(ledger.totals({}, 0).requests).toBe(0);
    expect(ledger.recentActivity(0)).toEqual([]);
    expect(ledger.recent({})).toEqual([]);
  });

  it("filters by user, team, model, status range and time, newest first, up to the limit", async () => {
    const ledger = open();
    const base = Date.UTC(2026, 10, 23, 12);
    const rows = [
      refusalRecord({ time: base + 1, user: "alice", team: "platform" }),
      refusalRecord({ time: base + 2, user: "bob", team: "data", httpStatus: 402, code: "budget_exceeded", limitName: "monthlyUsd", limitScope: "team data" }),
      refusalRecord({ time: base + 3, user: "alice", team: "platform", httpStatus: 403, code: "model_not_allowed", model: "claude-opus", limitName: null, limitScope: null }),
      refusalRecord({ time: base + 4, user: "carol", team: "platform" }),
    ];
    for (const row of rows) ledger.recordRefusal(row);
    await committed(ledger, rows.length);
    const ids = (query: Parameters<SqliteLedger["refusals"]>[0]) => ledger.refusals(query).map((r) => r.id);
    expect(ids({})).toEqual([rows[3]!.id, rows[2]!.id, rows[1]!.id, rows[0]!.id]);
    expect(ids({ user: "alice" })).toEqual([rows[2]!.id, rows[0]!.id]);
    expect(ids({ team: "platform", httpStatus: { from: 429, to: 429 } })).toEqual([rows[3]!.id, rows[0]!.id]);
    expect(ids({ httpStatus: { from: 400, to: 499 }, model: "claude-opus" })).toEqual([rows[2]!.id]);
    expect(ids({ since: base + 2, until: base + 4 })).toEqual([rows[2]!.id, rows[1]!.id]);
    expect(ids({ limit: 1 })).toEqual([rows[3]!.id]);
  });

  it("counts a flood past its queue as dropped instead of holding it", async () => {
    const ledger = open();
    for (let i = 0; i < 10_005; i++) ledger.recordRefusal(refusalRecord());
    expect(ledger.stats().refusalsDropped).toBe(5);
    await committed(ledger, 10_000);
    expect(ledger.refusals({ limit: 1000 })).toHaveLength(1000);
  });

  it("deletes refusals past the retention but always keeps the newest row (the shipper's rowids never go back)", async () => {
    const ledger = open({ refusalPruneIntervalMs: 0 });
    const now = Date.now();
    const old = [refusalRecord({ time: now - REFUSAL_RETENTION_MS - 60_000 }), refusalRecord({ time: now - REFUSAL_RETENTION_MS - 30_000 })];
    for (const row of old) ledger.recordRefusal(row);
    await committed(ledger, 2);
    await ledger.append(usageRecord()); // a write that prunes
    expect(ledger.refusals({}).map((r) => r.id)).toEqual([old[1]!.id]);
    const last = ledger.lastRefusalRowid();
    const recent = refusalRecord({ time: now });
    ledger.recordRefusal(recent);
    await committed(ledger, 3);
    expect(ledger.refusals({}).map((r) => r.id)).toEqual([recent.id]);
    expect(ledger.lastRefusalRowid()).toBe(last + 1);
  });
});

describe("recent requests with filters", () => {
  it("finds failed requests by status through the index of the rows that did not end 200, with user, team and time filters", async () => {
    const ledger = open();
    const base = Date.UTC(2026, 10, 23, 9);
    const rows = [
      usageRecord({ time: base, user: "alice", team: "platform" }),
      usageRecord({ time: base + 1, user: "alice", team: "platform", status: "error", httpStatus: 429, errorCode: "bedrock_throttled" }),
      usageRecord({ time: base + 2, user: "bob", team: "data", status: "error", httpStatus: 429, errorCode: "bedrock_throttled" }),
      usageRecord({ time: base + 3 * 3_600_000, user: "bob", team: "data", status: "error", httpStatus: 502, errorCode: "upstream_error" }),
      usageRecord({ time: base + 3 * 3_600_000 + 1, user: "bob", team: "data", requestedModel: "claude-haiku" }),
    ];
    for (const row of rows) await ledger.append(row);
    const ids = (query: Parameters<SqliteLedger["recent"]>[0]) => ledger.recent(query).map((r) => r.id);
    expect(ids({ httpStatus: { from: 429, to: 429 } })).toEqual([rows[2]!.id, rows[1]!.id]);
    expect(ids({ httpStatus: { from: 400, to: 599 }, user: "bob" })).toEqual([rows[3]!.id, rows[2]!.id]);
    expect(ids({ httpStatus: { from: 200, to: 299 } })).toEqual([rows[4]!.id, rows[0]!.id]);
    expect(ids({ team: "data" })).toEqual([rows[4]!.id, rows[3]!.id, rows[2]!.id]);
    expect(ids({ team: "data", since: base + 2, until: base + 3 * 3_600_000 + 1 })).toEqual([rows[3]!.id, rows[2]!.id]);
    expect(ids({ model: "claude-haiku" })).toEqual([rows[4]!.id]);
    expect(ids({ user: "alice", limit: 1 })).toEqual([rows[1]!.id]);
  });
});
