// The central store against the machine's real PostgreSQL, one database per test file. The key
// check: every query answers what the SQLite ledger answers for the same rows.
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteLedger, type SqliteLedger } from "../ledger/index.js";
import type { UsageRecord } from "../ledger/types.js";
import { openCentralStore, type CentralStore } from "./central-store.js";
import { clientConfig } from "./connection.js";
import { CentralStoreError } from "./errors.js";
import { CENTRAL_SCHEMA_VERSION } from "./migrations/index.js";
import { createTestDatabase } from "./testing.js";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let store: CentralStore;
let sqlite: SqliteLedger;
const records: UsageRecord[] = [];
// Around the US DST change of 2026-11-01 (America/Los_Angeles), 3 days either side.
const START = Date.UTC(2026, 9, 29, 0, 0, 0);

function record(i: number): UsageRecord {
  return {
    id: `r-${String(i).padStart(5, "0")}`,
    time: START + i * 3_517_000, // ~58.6 min apart: ~3.7 days of rows
    user: ["ann", "bob", "cyd", "dee"][i % 4]!,
    team: i % 3 === 0 ? "ml" : "web",
    project: i % 5 === 0 ? null : `p${i % 2}`,
    requestedModel: "claude",
    servedModel: i % 7 === 0 ? "haiku" : "sonnet",
    deployment: "use1",
    status: i % 11 === 0 ? "error" : "ok",
    httpStatus: i % 11 === 0 ? 502 : 200,
    inputTokens: 100 + i,
    cacheReadTokens: (i * 13) % 400,
    cacheWriteTokens: (i * 7) % 90,
    outputTokens: 20 + (i % 50),
    costPicoUsd: 1_000_003 * (i + 1),
    latencyMs: 30 + (i % 9),
    ttftMs: i % 2 === 0 ? 12 : null,
    fallbacks: i % 4 === 0 ? 1 : 0,
    errorCode: i % 11 === 0 ? "upstream_error" : null,
    usageEstimated: i % 13 === 0,
  };
}

beforeAll(async () => {
  database = await createTestDatabase();
  // Three brokers starting at once on an empty database.
  const stores = await Promise.all([0, 1, 2].map((i) => openCentralStore({ url: database.url, instanceId: `s${i}` })));
  store = stores[0]!;
  await Promise.all(stores.slice(1).map((s) => s.close()));
  sqlite = openSqliteLedger(mkdtempSync(join(tmpdir(), "tollgate-central-")));
  for (let i = 0; i < 90; i++) records.push(record(i));
  for (const r of records) await sqlite.append(r);
  await store.insertUsage(records.map((r, i) => ({ ...r, instanceId: i % 2 === 0 ? "host-a" : "host-b" })));
});

afterAll(async () => {
  await store?.close();
  await sqlite?.close();
  await database?.drop();
});

const savings = (model: string, read: number, write: number): number => (model === "haiku" ? 9 : 27) * read - 3 * write;

describe("CentralStore", () => {
  it("migrated once although three brokers started together", async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query<{ version: number }>("SELECT version FROM tollgate_schema_migrations ORDER BY version");
    await client.end();
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: CENTRAL_SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it("refuses a schema newer than it knows, saying which version it needs", async () => {
    const other = await createTestDatabase();
    try {
      const first = await openCentralStore({ url: other.url, instanceId: "x" });
      await first.pool.query("INSERT INTO tollgate_schema_migrations (version, description) VALUES ($1, 'from the future')", [CENTRAL_SCHEMA_VERSION + 1]);
      await first.close();
      const error = await openCentralStore({ url: other.url, instanceId: "x" }).catch((e: unknown) => e);
      expect(CentralStoreError.is(error) && error.code).toBe("schema_too_new");
      expect((error as Error).message).toContain(`schema is at version ${CENTRAL_SCHEMA_VERSION + 1}; this broker knows up to ${CENTRAL_SCHEMA_VERSION}`);
    } finally {
      await other.drop();
    }
  });

  it("inserts idempotently: a batch sent again counts nothing twice", async () => {
    const again = await store.insertUsage(records.slice(0, 40).map((r) => ({ ...r, instanceId: "host-a" })));
    expect(again.inserted).toBe(0);
    expect((await store.totals({}, 0)).requests).toBe(records.length);
  });

  it("takes a batch of 2,000 rows in one statement", async () => {
    const other = await createTestDatabase();
    const big = await openCentralStore({ url: other.url, instanceId: "x" });
    try {
      const rows = Array.from({ length: 2_000 }, (_, i) => ({ ...record(i), id: `big-${i}`, instanceId: "x" }));
      expect((await big.insertUsage(rows)).inserted).toBe(2_000);
      expect((await big.totals({}, 0)).costPicoUsd).toBe(rows.reduce((sum, r) => sum + r.costPicoUsd, 0));
    } finally {
      await big.close();
      await other.drop();
    }
  });

  it("answers totals, spend by scope and recent activity as the SQLite ledger does", async () => {
    const since = START + 20 * 3_517_000;
    for (const scope of [{}, { user: "ann" }, { team: "ml" }, { team: "web", model: "haiku" }]) {
      expect(await store.totals(scope, since)).toEqual(sqlite.totals(scope, since));
    }
    const spend = await store.spendByScope(since);
    const expected = sqlite.spendByScope(since);
    expect(Object.fromEntries(spend.users)).toEqual(Object.fromEntries(expected.users));
    expect(Object.fromEntries(spend.teams)).toEqual(Object.fromEntries(expected.teams));
    expect(Object.fromEntries(spend.teamModels)).toEqual(Object.fromEntries(expected.teamModels));
    expect(await store.recentActivity(since)).toEqual(sqlite.recentActivity(since));
  });

  it("answers every usage grouping as the SQLite ledger does, days in the policy's zone across a DST change", async () => {
    const from = START - 86_400_000;
    const to = START + 5 * 86_400_000;
    for (const groupBy of ["day", "model", "project", "user", "team"] as const) {
      for (const filter of [{}, { user: "bob" }, { team: "web" }]) {
        const query = { from, to, groupBy, timezone: "America/Los_Angeles", cacheSavings: savings, ...filter };
        expect(await store.usage(query), `${groupBy} ${JSON.stringify(filter)}`).toEqual(sqlite.usage(query));
      }
    }
    const days = await store.usage({ from, to, groupBy: "day", timezone: "America/Los_Angeles" });
    expect(days.map((d) => d.key)).toContain("2026-11-01");
  });

  it("lists recent requests, newest first, as the SQLite ledger does", async () => {
    expect(await store.recent({ limit: 10 })).toEqual(sqlite.recent({ limit: 10 }));
    expect(await store.recent({ user: "cyd", limit: 5 })).toEqual(sqlite.recent({ user: "cyd", limit: 5 }));
  });

  it("leaves out the excluded brokers' rows (a rebuild adds theirs from their own ledgers)", async () => {
    const all = await store.spendByScope(0);
    const withoutA = await store.spendByScope(0, { excludeInstances: ["host-a"] });
    const onlyB = records.filter((_, i) => i % 2 === 1).reduce((sum, r) => sum + r.costPicoUsd, 0);
    expect([...withoutA.teams.values()].reduce((a, b) => a + b, 0)).toBe(onlyB);
    expect([...all.teams.values()].reduce((a, b) => a + b, 0)).toBe(records.reduce((sum, r) => sum + r.costPicoUsd, 0));
    expect((await store.recentActivity(0, { excludeInstances: ["host-a", "host-b"] })).length).toBe(0);
  });

  it("gives two brokers pushing at once consecutive versions, and seeds an empty store once", async () => {
    const other = await openCentralStore({ url: database.url, instanceId: "other" });
    try {
      const entry = { kind: "seed" as const, by: "policy file", changes: ["initial"], document: { v: 0 } };
      const seeds = await Promise.all([store.policyRepository().seedIfEmpty(entry), other.policyRepository().seedIfEmpty(entry)]);
      expect(seeds.filter((s) => s.seeded).length).toBe(1);
      const pushes = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? store : other).policyRepository().append({ kind: "push", by: `admin ${i}`, changes: [`change ${i}`], document: { v: i + 1 } })),
      );
      expect(pushes.map((p) => p.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7]);
      expect((await store.policyRepository().list()).map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect((await other.policyRepository().get(4))?.by).toMatch(/^admin \d$/);
    } finally {
      await other.close();
    }
  });

  it("hears a push from another broker within 1 s, and after its connection is killed re-reads the latest version", async () => {
    const other = await openCentralStore({ url: database.url, instanceId: "pusher" });
    const heard: number[] = [];
    const listener = await store.listenForPolicy((version) => heard.push(version));
    try {
      const latest = (await store.policyRepository().latest())!.version;
      expect(heard).toEqual([latest]);
      const started = Date.now();
      const pushed = await other.policyRepository().append({ kind: "push", by: "admin", changes: [], document: { v: "n" } });
      while (!heard.includes(pushed.version)) {
        expect(Date.now() - started).toBeLessThan(1_000);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // Kill the listener's connection; push while it is down; it reconnects and reads the latest.
      await other.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tollgate s0' AND query LIKE 'LISTEN%'");
      const missed = await other.policyRepository().append({ kind: "push", by: "admin", changes: [], document: { v: "m" } });
      const deadline = Date.now() + 5_000;
      while (!heard.includes(missed.version)) {
        if (Date.now() > deadline) throw new Error(`heard ${heard.join(", ")}, not ${missed.version}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await listener.close();
      await other.close();
    }
  });

  it("keeps the broker registry", async () => {
    const startedAt = new Date("2026-12-01T00:00:00Z");
    await store.heartbeat({ instanceId: "host-a", startedAt, policyVersion: 3, info: { url: "http://127.0.0.1:1" } });
    await store.heartbeat({ instanceId: "host-a", startedAt, policyVersion: 4, info: { url: "http://127.0.0.1:1" } });
    const brokers = await store.brokers();
    expect(brokers.find((b) => b.instanceId === "host-a")).toMatchObject({ policyVersion: 4, startedAt, info: { url: "http://127.0.0.1:1" } });
  });

  it("reads a password from a 0600 file named in the URL, refuses one others may read, never echoes it", () => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-pw-"));
    const file = join(dir, "pg-password");
    writeFileSync(file, "s3cret-pass\n");
    chmodSync(file, 0o600);
    const config = clientConfig({ url: `postgres://tollgate@db.internal:5432/tollgate?password_file=${encodeURIComponent(file)}&sslmode=require`, instanceId: "a" });
    expect(config.password).toBe("s3cret-pass");
    expect(config.connectionString).not.toContain("password_file");
    expect(config.ssl).toEqual({ rejectUnauthorized: false });
    chmodSync(file, 0o644);
    expect(() => clientConfig({ url: `postgres://tollgate@db/tollgate?password_file=${file}`, instanceId: "a" })).toThrow(/may be read by other users \(mode 644\); chmod 600/);
    const refused = (() => {
      try {
        clientConfig({ url: "postgres://tollgate:hunter2@db/tollgate?password_file=/x", instanceId: "a" });
      } catch (error) {
        return (error as Error).message;
      }
      return "";
    })();
    expect(refused).toContain("both a password and a password_file");
    expect(refused).not.toContain("hunter2");
    expect(clientConfig({ url: "postgres://db/tollgate?sslmode=verify-full", instanceId: "a" }).ssl).toEqual({ rejectUnauthorized: true });
  });

  it("says the central store is unreachable (not a bad query) when PostgreSQL does not answer", async () => {
    const unreachable = await openCentralStore({ url: "postgres://postgres@127.0.0.1:1/none", instanceId: "x" }).catch((e: unknown) => e);
    expect(CentralStoreError.is(unreachable) && unreachable.code).toBe("unreachable");
  });
});
