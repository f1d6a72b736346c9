import { statSync } from "node:fs";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { LedgerError } from "./errors.js";
import { LEDGER_SCHEMA_VERSION, schemaVersion } from "./schema.js";
import { openSqliteLedger, type FlushEvent, type SqliteLedger, type SqliteLedgerOptions } from "./sqlite-ledger.js";
import { tempDataDir, usageRecord } from "./testing/records.js";
import { teamModelKey, type UsageRecord } from "./types.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function open(options: SqliteLedgerOptions = {}): { ledger: SqliteLedger; dir: string; flushes: FlushEvent[] } {
  const tmp = tempDataDir();
  const flushes: FlushEvent[] = [];
  const ledger = openSqliteLedger(tmp.dir, { ...options, onFlush: (e) => flushes.push(e) });
  cleanups.push(tmp.remove, () => ledger.close());
  return { ledger, dir: tmp.dir, flushes };
}

async function appendAll(ledger: SqliteLedger, records: UsageRecord[]): Promise<void> {
  await Promise.all(records.map((r) => ledger.append(r)));
}

const T0 = Date.UTC(2026, 10, 1);
const MIN = 60_000;

describe("SqliteLedger: append and read back", () => {
  it("round-trips every field, nulls included, and rounds fractional latencies", async () => {
    const { ledger } = open();
    const full = usageRecord({ latencyMs: 2300.4, ttftMs: 640.6, usageEstimated: true });
    const sparse = usageRecord({
      project: null,
      deployment: null,
      status: "error",
      httpStatus: 502,
      inputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 0,
      costPicoUsd: 0,
      ttftMs: null,
      fallbacks: 2,
      errorCode: "upstream_unavailable",
    });
    await appendAll(ledger, [full, sparse]);
    const rows = ledger.recent({});
    // usageEstimated left out reads back as false.
    expect(rows).toEqual([{ ...sparse, usageEstimated: false }, { ...full, latencyMs: 2300, ttftMs: 641 }]);
  });

  it("resolves append only once another connection can read the row (committed)", async () => {
    const { ledger } = open();
    const r = usageRecord();
    await ledger.append(r);
    const other = new Database(ledger.path, { readonly: true });
    try {
      expect(other.prepare("SELECT id FROM usage").pluck().all()).toEqual([r.id]);
    } finally {
      other.close();
    }
  });

  it("creates ledger.sqlite and its WAL files with mode 0600, schema at the current version", async () => {
    const { ledger, dir } = open();
    await ledger.append(usageRecord());
    for (const name of ["ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"]) {
      expect(statSync(`${dir}/${name}`).mode & 0o777, name).toBe(0o600);
    }
    const db = new Database(ledger.path, { readonly: true });
    try {
      expect(schemaVersion(db)).toBe(LEDGER_SCHEMA_VERSION);
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    } finally {
      db.close();
    }
  });

  it("keeps records across close and reopen", async () => {
    const tmp = tempDataDir();
    cleanups.push(tmp.remove);
    const first = openSqliteLedger(tmp.dir);
    const records = [usageRecord(), usageRecord(), usageRecord()];
    await appendAll(first, records);
    await first.close();
    const again = openSqliteLedger(tmp.dir);
    cleanups.push(() => again.close());
    expect(again.recent({}).map((r) => r.id)).toEqual(records.map((r) => r.id).reverse());
  });

  it("flushes queued appends on close, then refuses new ones", async () => {
    const tmp = tempDataDir();
    cleanups.push(tmp.remove);
    const ledger = openSqliteLedger(tmp.dir);
    const r = usageRecord();
    const pending = ledger.append(r);
    await ledger.close();
    await expect(pending).resolves.toBeUndefined();
    await expect(ledger.append(usageRecord())).rejects.toMatchObject({ code: "closed" });
    await ledger.close(); // idempotent
    const again = openSqliteLedger(tmp.dir);
    cleanups.push(() => again.close());
    expect(again.recent({}).map((x) => x.id)).toEqual([r.id]);
  });

  it("rejects invalid records without touching the others or the ledger's health", async () => {
    const { ledger } = open();
    const good = usageRecord();
    const results = await Promise.allSettled([
      ledger.append(usageRecord({ costPicoUsd: 0.5 })),
      ledger.append(usageRecord({ inputTokens: -1 })),
      ledger.append(usageRecord({ status: "done" as UsageRecord["status"] })),
      ledger.append(usageRecord({ id: "" })),
      ledger.append(usageRecord({ time: Number.NaN })),
      ledger.append(good),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected", "rejected", "rejected", "fulfilled"]);
    for (const r of results.slice(0, 5)) {
      expect(r.status === "rejected" && LedgerError.is(r.reason, "invalid_record")).toBe(true);
    }
    expect((results[0] as PromiseRejectedResult).reason.message).toMatch(/costPicoUsd must be a non-negative integer/);
    expect(ledger.recent({}).map((r) => r.id)).toEqual([good.id]);
    expect(ledger.healthy()).toBe(true);
  });

  it("rejects a duplicate id with duplicate_id while the rest of its batch commits", async () => {
    const { ledger, flushes } = open();
    const first = usageRecord();
    await ledger.append(first);
    const others = [usageRecord(), usageRecord()];
    const results = await Promise.allSettled([ledger.append(others[0]!), ledger.append({ ...first }), ledger.append(others[1]!)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: "duplicate_id" });
    expect(flushes.at(-1)).toMatchObject({ records: 3, ok: true });
    expect(ledger.recent({}).length).toBe(3);
    expect(ledger.healthy()).toBe(true);
  });
});

describe("SqliteLedger: group commit", () => {
  it("writes many concurrent appends in few transactions", async () => {
    const { ledger, flushes } = open();
    const records = Array.from({ length: 2500 }, () => usageRecord());
    await appendAll(ledger, records);
    // Default maxBatch 1000: appended in one tick, committed as 1000 + 1000 + 500.
    expect(flushes.map((f) => f.records)).toEqual([1000, 1000, 500]);
    expect(ledger.stats()).toMatchObject({ transactions: 3, recordsWritten: 2500, largestBatch: 1000, queued: 0 });
    expect(ledger.totals({}, 0).requests).toBe(2500);
  });

  it("batches appends that arrive within one event-loop turn, and again in the next", async () => {
    const { ledger, flushes } = open({ maxBatch: 64 });
    const firstWave = Array.from({ length: 10 }, () => ledger.append(usageRecord()));
    expect(ledger.stats().queued).toBe(10);
    await Promise.all(firstWave);
    await appendAll(ledger, Array.from({ length: 130 }, () => usageRecord()));
    expect(flushes.map((f) => f.records)).toEqual([10, 64, 64, 2]);
  });

  it("with flushDelayMs gathers appends from several turns into one transaction", async () => {
    const { ledger, flushes } = open({ flushDelayMs: 20 });
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) {
      pending.push(ledger.append(usageRecord()));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(pending);
    expect(flushes.map((f) => f.records)).toEqual([5]);
  });
});

describe("SqliteLedger: totals, spend and activity", () => {
  it("sums pico-USD exactly, where floating-point dollars would drift", async () => {
    const { ledger } = open();
    // 0.1 USD, 1,000 times: 100 USD exactly (0.1 summed as a double gives 99.9999999999986).
    await appendAll(ledger, Array.from({ length: 1000 }, () => usageRecord({ costPicoUsd: 100_000_000_000 })));
    expect(ledger.totals({}, 0).costPicoUsd).toBe(100_000_000_000_000);
    // Odd amounts near a single request's maximum still sum exactly (below 2^53 pico-USD ≈ $9,007).
    const odd = [1, 999_999_999_999, 123_456_789_012_345, 7];
    await appendAll(ledger, odd.map((c) => usageRecord({ costPicoUsd: c, user: "odd" })));
    expect(ledger.totals({ user: "odd" }, 0).costPicoUsd).toBe(odd.reduce((a, b) => a + b));
  });

  it("filters totals by user, team and served model (ANDed) from sinceMs inclusive", async () => {
    const { ledger } = open();
    const rec = (user: string, team: string, servedModel: string, time: number, costPicoUsd: number): UsageRecord =>
      usageRecord({ user, team, servedModel, time, costPicoUsd, inputTokens: 10, cacheReadTokens: 20, cacheWriteTokens: 30, outputTokens: 40 });
    await appendAll(ledger, [
      rec("ann", "red", "m1", T0 - 1, 1_000), // before the window
      rec("ann", "red", "m1", T0, 2_000),
      rec("ann", "red", "m2", T0 + MIN, 4_000),
      rec("bob", "red", "m1", T0 + 2 * MIN, 8_000),
      rec("cat", "blue", "m1", T0 + 3 * MIN, 16_000),
    ]);
    expect(ledger.totals({}, T0)).toEqual({
      requests: 4,
      costPicoUsd: 30_000,
      inputTokens: 40,
      cacheReadTokens: 80,
      cacheWriteTokens: 120,
      outputTokens: 160,
    });
    expect(ledger.totals({ user: "ann" }, T0).costPicoUsd).toBe(6_000);
    expect(ledger.totals({ user: "ann" }, 0).costPicoUsd).toBe(7_000);
    expect(ledger.totals({ team: "red" }, T0).costPicoUsd).toBe(14_000);
    expect(ledger.totals({ model: "m1" }, T0).costPicoUsd).toBe(26_000);
    expect(ledger.totals({ team: "red", model: "m1" }, T0).costPicoUsd).toBe(10_000);
    expect(ledger.totals({ user: "ann", team: "blue" }, T0)).toEqual({
      requests: 0,
      costPicoUsd: 0,
      inputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 0,
    });
  });

  it("restores spend per user, team and (team, served model)", async () => {
    const { ledger } = open();
    await appendAll(ledger, [
      usageRecord({ user: "ann", team: "red", servedModel: "m1", time: T0 - 1, costPicoUsd: 1 }),
      usageRecord({ user: "ann", team: "red", servedModel: "m1", time: T0, costPicoUsd: 10 }),
      usageRecord({ user: "ann", team: "red", servedModel: "m2", time: T0, costPicoUsd: 20 }),
      usageRecord({ user: "bob", team: "red", servedModel: "m1", time: T0, costPicoUsd: 40 }),
      usageRecord({ user: "cat", team: "blue", servedModel: "m1", time: T0, costPicoUsd: 80 }),
    ]);
    const spend = ledger.spendByScope(T0);
    expect(spend.users).toEqual(new Map([["ann", 30], ["bob", 40], ["cat", 80]]));
    expect(spend.teams).toEqual(new Map([["red", 70], ["blue", 80]]));
    expect(spend.teamModels).toEqual(
      new Map([
        [teamModelKey("red", "m1"), 50],
        [teamModelKey("red", "m2"), 20],
        [teamModelKey("blue", "m1"), 80],
      ]),
    );
    expect(teamModelKey("red", "m1")).toBe("red\u0000m1");
  });

  it("lists recent activity oldest first with total tokens", async () => {
    const { ledger } = open();
    const late = usageRecord({ time: T0 + 2 * MIN, user: "ann", inputTokens: 1, cacheReadTokens: 2, cacheWriteTokens: 3, outputTokens: 4, costPicoUsd: 5 });
    const early = usageRecord({ time: T0 + MIN, user: "bob", team: "blue", servedModel: "m9", inputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 5, costPicoUsd: 7 });
    await appendAll(ledger, [usageRecord({ time: T0 - 1 }), late, early]);
    expect(ledger.recentActivity(T0)).toEqual([
      { time: T0 + MIN, user: "bob", team: "blue", servedModel: "m9", tokens: 15, costPicoUsd: 7 },
      { time: T0 + 2 * MIN, user: "ann", team: late.team, servedModel: late.servedModel, tokens: 10, costPicoUsd: 5 },
    ]);
  });
});

describe("SqliteLedger: usage aggregates", () => {
  async function seeded(): Promise<SqliteLedger> {
    const { ledger } = open();
    await appendAll(ledger, [
      usageRecord({ time: T0, user: "ann", team: "red", project: "p1", servedModel: "m1", costPicoUsd: 100, cacheReadTokens: 1000, cacheWriteTokens: 10 }),
      usageRecord({ time: T0 + MIN, user: "ann", team: "red", project: null, servedModel: "m2", costPicoUsd: 300, cacheReadTokens: 2000, cacheWriteTokens: 0 }),
      usageRecord({ time: T0 + 2 * MIN, user: "bob", team: "red", project: "p1", servedModel: "m1", costPicoUsd: 50, cacheReadTokens: 0, cacheWriteTokens: 20 }),
      usageRecord({ time: T0 + 3 * MIN, user: "cat", team: "blue", project: "p2", servedModel: "m1", costPicoUsd: 200, cacheReadTokens: 0, cacheWriteTokens: 0 }),
      usageRecord({ time: T0 + 4 * MIN, user: "cat", team: "blue", project: "p2", servedModel: "m1", costPicoUsd: 999 }), // at `to`: excluded
    ]);
    return ledger;
  }
  const range = { from: T0, to: T0 + 4 * MIN, timezone: "UTC" };
  const keysAndCost = (rows: Array<{ key: string; costPicoUsd: number; requests: number }>) =>
    rows.map((r) => [r.key, r.requests, r.costPicoUsd]);

  it("groups by served model, project ('' for none), user and team, most expensive first", async () => {
    const ledger = await seeded();
    expect(keysAndCost(ledger.usage({ ...range, groupBy: "model" }))).toEqual([["m1", 3, 350], ["m2", 1, 300]]);
    expect(keysAndCost(ledger.usage({ ...range, groupBy: "project" }))).toEqual([["", 1, 300], ["p2", 1, 200], ["p1", 2, 150]]);
    expect(keysAndCost(ledger.usage({ ...range, groupBy: "user" }))).toEqual([["ann", 2, 400], ["cat", 1, 200], ["bob", 1, 50]]);
    expect(keysAndCost(ledger.usage({ ...range, groupBy: "team" }))).toEqual([["red", 3, 450], ["blue", 1, 200]]);
  });

  it("applies user and team filters and returns token sums", async () => {
    const ledger = await seeded();
    expect(keysAndCost(ledger.usage({ ...range, groupBy: "model", user: "ann" }))).toEqual([["m2", 1, 300], ["m1", 1, 100]]);
    expect(keysAndCost(ledger.usage({ ...range, groupBy: "user", team: "red" }))).toEqual([["ann", 2, 400], ["bob", 1, 50]]);
    expect(ledger.usage({ ...range, groupBy: "team", team: "red", user: "bob" })).toEqual([
      { key: "red", requests: 1, inputTokens: 1200, cacheReadTokens: 0, cacheWriteTokens: 20, outputTokens: 350, costPicoUsd: 50 },
    ]);
    expect(ledger.usage({ ...range, groupBy: "team", user: "nobody" })).toEqual([]);
  });

  it("computes cache savings per served model when the caller supplies prices", async () => {
    const ledger = await seeded();
    // m1 saves 9 per cache-read token and costs 1 extra per cache-write token; m2 saves 2 per read.
    const cacheSavings = (model: string, reads: number, writes: number): number => (model === "m1" ? 9 * reads - writes : 2 * reads);
    const byTeam = ledger.usage({ ...range, groupBy: "team", cacheSavings });
    expect(byTeam.map((r) => [r.key, r.cacheSavingsPicoUsd])).toEqual([
      ["red", 9 * 1000 - 10 + 2 * 2000 - 20],
      ["blue", 0],
    ]);
    const byDay = ledger.usage({ ...range, groupBy: "day", cacheSavings });
    expect(byDay.map((r) => [r.key, r.cacheSavingsPicoUsd])).toEqual([["2026-11-01", 9 * 1000 - 10 + 2 * 2000 - 20]]);
    expect(ledger.usage({ ...range, groupBy: "team" })[0]).not.toHaveProperty("cacheSavingsPicoUsd");
  });

  it("buckets days in the query's time zone (America/Los_Angeles around midnight and DST)", async () => {
    const { ledger } = open();
    const at = (iso: string, costPicoUsd: number) => usageRecord({ time: Date.parse(iso), costPicoUsd });
    await appendAll(ledger, [
      at("2026-03-06T23:59:59.999-08:00", 1), // Friday, last ms of the local day (PST)
      at("2026-03-07T00:00:00.000-08:00", 2), // Saturday's first ms
      at("2026-03-07T16:30:00.000-08:00", 4), // Saturday afternoon: already Sunday in UTC
      at("2026-03-08T01:59:59.999-08:00", 8), // Sunday, just before clocks spring forward
      at("2026-03-08T03:00:00.000-07:00", 16), // Sunday, just after (a 23-hour day)
      at("2026-03-08T23:59:59.999-07:00", 32), // Sunday's last ms (PDT)
      at("2026-03-09T00:00:00.000-07:00", 64), // Monday
    ]);
    const query = { from: Date.parse("2026-03-06T00:00:00-08:00"), to: Date.parse("2026-03-10T00:00:00-07:00"), groupBy: "day" as const };
    expect(keysAndCost(ledger.usage({ ...query, timezone: "America/Los_Angeles" }))).toEqual([
      ["2026-03-06", 1, 1],
      ["2026-03-07", 2, 6],
      ["2026-03-08", 3, 56],
      ["2026-03-09", 1, 64],
    ]);
    expect(keysAndCost(ledger.usage({ ...query, timezone: "UTC" }))).toEqual([
      ["2026-03-07", 2, 3],
      ["2026-03-08", 3, 28],
      ["2026-03-09", 2, 96],
    ]);
    // Clipped to [from, to): a range starting at Saturday 16:00 local counts only from there.
    expect(
      keysAndCost(ledger.usage({ from: Date.parse("2026-03-07T16:00:00-08:00"), to: Date.parse("2026-03-08T03:00:00-07:00"), groupBy: "day", timezone: "America/Los_Angeles" })),
    ).toEqual([["2026-03-07", 1, 4], ["2026-03-08", 1, 8]]);
  });

  it("refuses an unknown time zone with invalid_query", async () => {
    const ledger = await seeded();
    expect(() => ledger.usage({ ...range, groupBy: "day", timezone: "Mars/Olympus" })).toThrow(
      expect.objectContaining({ code: "invalid_query" }),
    );
  });
});

describe("SqliteLedger: recent()", () => {
  it("returns newest first, ties in reverse append order, filtered by user", async () => {
    const { ledger } = open();
    const a = usageRecord({ time: T0 + 5, user: "ann" });
    const b = usageRecord({ time: T0 + 9, user: "bob" });
    const c = usageRecord({ time: T0 + 5, user: "ann" });
    const d = usageRecord({ time: T0 + 1, user: "ann" });
    await appendAll(ledger, [a, b, c, d]);
    expect(ledger.recent({}).map((r) => r.id)).toEqual([b.id, c.id, a.id, d.id]);
    expect(ledger.recent({ user: "ann" }).map((r) => r.id)).toEqual([c.id, a.id, d.id]);
    expect(ledger.recent({ user: "ann", limit: 2 }).map((r) => r.id)).toEqual([c.id, a.id]);
    expect(ledger.recent({ user: "zed" })).toEqual([]);
  });

  it("finds a user's records across many hours, newest first, interleaved with others'", async () => {
    const { ledger } = open();
    const HOUR = 3_600_000;
    const ann = Array.from({ length: 200 }, (_, i) => usageRecord({ user: "ann", time: T0 + i * 2 * HOUR + (i % 7) * 1000 }));
    const others = Array.from({ length: 300 }, (_, i) => usageRecord({ user: i % 2 === 0 ? "bob" : "cat", time: T0 + i * HOUR }));
    await appendAll(ledger, [...others, ...ann].sort(() => Math.random() - 0.5));
    const newestFirst = [...ann].sort((a, b) => b.time - a.time).map((r) => r.id);
    expect(ledger.recent({ user: "ann", limit: 150 }).map((r) => r.id)).toEqual(newestFirst.slice(0, 150));
    expect(ledger.recent({ user: "ann", limit: 1000 }).map((r) => r.id)).toEqual(newestFirst);
    expect(ledger.recent({ user: "bob", limit: 3 }).map((r) => r.time)).toEqual([T0 + 298 * HOUR, T0 + 296 * HOUR, T0 + 294 * HOUR]);
  });

  it("defaults to 50 and clamps the limit to 1..1000", async () => {
    const { ledger } = open();
    await appendAll(ledger, Array.from({ length: 1100 }, (_, i) => usageRecord({ time: T0 + i })));
    expect(ledger.recent({}).length).toBe(50);
    expect(ledger.recent({}).map((r) => r.time)).toEqual(Array.from({ length: 50 }, (_, i) => T0 + 1099 - i));
    expect(ledger.recent({ limit: 5000 }).length).toBe(1000);
    expect(ledger.recent({ limit: 0 }).length).toBe(1);
    expect(ledger.recent({ limit: 7.9 }).length).toBe(7);
  });
});
