// The shipper against a real SQLite ledger and a sink of our own that can refuse (the PostgreSQL
// side, CentralStore, is tested against the real server in broker/src/central and test/integration).
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteLedger, type SqliteLedger } from "../ledger/index.js";
import type { RefusalRecord, UsageRecord } from "../ledger/types.js";
import { silentLogger } from "../log.js";
import { CURSOR_FILE_NAME, Shipper, type CentralUsageSink } from "./shipper.js";

const logger = silentLogger();
const opened: Array<{ ledger: SqliteLedger; shipper: Shipper }> = [];

afterEach(async () => {
  for (const { ledger, shipper } of opened.splice(0)) {
    await shipper.stop(0);
    await ledger.close();
  }
});

function record(i: number): UsageRecord {
  return {
    id: `req-${String(i).padStart(6, "0")}`,
    time: 1_764_000_000_000 + i,
    user: `u${i % 3}`,
    team: "eng",
    project: null,
    requestedModel: "m",
    servedModel: "m",
    deployment: "d",
    status: "ok",
    httpStatus: 200,
    inputTokens: i,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 2 * i,
    costPicoUsd: 1_000 + i,
    latencyMs: 5,
    ttftMs: null,
    fallbacks: 0,
    errorCode: null,
  };
}

function refusal(i: number): RefusalRecord {
  return {
    id: `refused-${String(i).padStart(4, "0")}`,
    time: Date.UTC(2026, 10, 20, 12) + i,
    user: `user-${i % 5}`,
    team: "platform",
    project: null,
    model: "claude-sonnet",
    httpStatus: 429,
    code: "rate_limit_exceeded",
    reason: "user's rpm limit of 10 reached",
    limitName: "rpm",
    limitScope: `user user-${i % 5}`,
    keyHashPrefix: null,
    client: "127.0.0.1",
    latencyMs: 1,
  };
}

/** A central store of our own: keeps rows by id (as ON CONFLICT DO NOTHING does), refuses while `down`. */
class Sink implements CentralUsageSink {
  readonly rows = new Map<string, UsageRecord & { instanceId: string }>();
  batches = 0;
  down = false;
  async insertUsage(rows: ReadonlyArray<UsageRecord & { instanceId: string }>): Promise<{ inserted: number }> {
    if (this.down) throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
    this.batches++;
    let inserted = 0;
    for (const row of rows) if (!this.rows.has(row.id)) (this.rows.set(row.id, row), inserted++);
    return { inserted };
  }
  readonly refusals = new Map<string, RefusalRecord & { instanceId: string }>();
  async insertRefusals(rows: ReadonlyArray<RefusalRecord & { instanceId: string }>): Promise<void> {
    if (this.down) throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
    for (const row of rows) if (!this.refusals.has(row.id)) this.refusals.set(row.id, row);
  }
}

function setup(dataDir = mkdtempSync(join(tmpdir(), "tollgate-shipper-")), sink = new Sink(), maxWaitingRows?: number) {
  const ledger = openSqliteLedger(dataDir);
  const shipper = new Shipper({ ledger, central: sink, instanceId: "host-a", dataDir, logger, batchSize: 100, pollMs: 20, ...(maxWaitingRows ? { maxWaitingRows } : {}) });
  opened.push({ ledger, shipper });
  return { dataDir, ledger, shipper, sink };
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("Shipper", () => {
  it("ships every committed row once, in batches, with the instance id, and keeps the cursor on disk", async () => {
    const { dataDir, ledger, shipper, sink } = setup();
    await shipper.start();
    await Promise.all(Array.from({ length: 250 }, (_, i) => ledger.append(record(i))));
    shipper.wake();
    await until(() => shipper.status().waitingRows === 0);
    expect(sink.rows.size).toBe(250);
    expect(sink.batches).toBeGreaterThanOrEqual(3);
    expect([...sink.rows.values()].every((row) => row.instanceId === "host-a")).toBe(true);
    expect(sink.rows.get("req-000007")?.costPicoUsd).toBe(1_007);
    expect(shipper.status().waitingRows).toBe(0);
    expect(JSON.parse(readFileSync(join(dataDir, CURSOR_FILE_NAME), "utf8"))).toEqual({ shippedThroughRowid: ledger.lastRowid(), refusalsShippedThroughRowid: 0 });
  });

  it("keeps rows while the central store is down, says since when and how many, and drains when it returns", async () => {
    const { ledger, shipper, sink } = setup();
    sink.down = true;
    await shipper.start();
    for (let i = 0; i < 40; i++) await ledger.append(record(i));
    shipper.wake();
    await until(() => shipper.status().unreachableSince !== undefined);
    expect(shipper.status().waitingRows).toBe(40);
    expect(shipper.status().lastError).toContain("ECONNREFUSED");
    sink.down = false;
    await until(() => shipper.status().waitingRows === 0, 10_000);
    expect(sink.rows.size).toBe(40);
    expect(shipper.status()).toMatchObject({ waitingRows: 0, unreachableSince: undefined });
  });

  it("after a restart ships what was committed and not shipped; rows already shipped are not sent again", async () => {
    const first = setup();
    await first.shipper.start();
    for (let i = 0; i < 30; i++) await first.ledger.append(record(i));
    first.shipper.wake();
    await until(() => first.sink.rows.size === 30);
    first.sink.down = true;
    for (let i = 30; i < 50; i++) await first.ledger.append(record(i));
    await first.shipper.stop(0);
    await first.ledger.close();
    opened.splice(0);

    const sink = new Sink();
    const second = setup(first.dataDir, sink);
    await second.shipper.start();
    await until(() => sink.rows.size === 20);
    expect([...sink.rows.keys()].sort()[0]).toBe("req-000030");
  });

  it("ships refused requests on their own cursor, keeps them while the central store is down, and never again after a restart", async () => {
    const first = setup();
    first.sink.down = true;
    await first.shipper.start();
    for (let i = 0; i < 130; i++) first.ledger.recordRefusal(refusal(i));
    await first.ledger.append(record(0)); // the refusals queued before it commit with it
    await until(() => first.ledger.stats().refusalsWritten === 130);
    await until(() => first.shipper.status().unreachableSince !== undefined);
    expect(first.sink.refusals.size).toBe(0);
    first.sink.down = false;
    await until(() => first.sink.refusals.size === 130, 10_000);
    expect(first.sink.refusals.get("refused-0042")).toMatchObject({ instanceId: "host-a", httpStatus: 429, code: "rate_limit_exceeded", user: "user-2", limitName: "rpm" });
    // The cursor moves once the central store has committed: a moment after the sink holds the rows.
    const cursor = (): unknown => {
      try {
        return JSON.parse(readFileSync(join(first.dataDir, CURSOR_FILE_NAME), "utf8"));
      } catch {
        return undefined; // not written yet
      }
    };
    const shippedAll = { shippedThroughRowid: first.ledger.lastRowid(), refusalsShippedThroughRowid: first.ledger.lastRefusalRowid() };
    await until(() => JSON.stringify(cursor()) === JSON.stringify(shippedAll));
    expect(cursor()).toEqual(shippedAll);
    await first.shipper.stop(0);
    await first.ledger.close();
    opened.splice(0);

    const sink = new Sink();
    const second = setup(first.dataDir, sink);
    await second.shipper.start();
    second.ledger.recordRefusal(refusal(500));
    await until(() => sink.refusals.size === 1);
    expect([...sink.refusals.keys()]).toEqual(["refused-0500"]);
  });

  it("refuses new work once the outbox reaches its bound, only while the central store is unreachable", async () => {
    const { ledger, shipper, sink } = setup(undefined, undefined, 10);
    sink.down = true;
    await shipper.start();
    for (let i = 0; i < 10; i++) await ledger.append(record(i));
    shipper.wake();
    await until(() => shipper.status().unreachableSince !== undefined);
    expect(shipper.full()).toBe(true);
    sink.down = false;
    await until(() => !shipper.full() && shipper.status().waitingRows === 0, 10_000);
  });

  it("paused() sees the central store and the rows past the cursor as one split: each row in exactly one", async () => {
    const { ledger, shipper, sink } = setup();
    await shipper.start();
    const writes = (async () => {
      for (let i = 0; i < 300; i++) {
        await ledger.append(record(i));
        shipper.wake();
      }
    })();
    try {
    for (let check = 0; check < 30; check++) {
      await shipper.paused((through) => {
        // The writer thread keeps committing meanwhile: every row committed before this look is seen.
        const committedBefore = ledger.lastRowid();
        const unshipped = ledger.rowsAfter(through, 1_000_000).map((row) => row.record.id);
        const ids = new Set([...sink.rows.keys(), ...unshipped]);
        expect(ids.size).toBe(sink.rows.size + unshipped.length);
        expect(ids.size).toBeGreaterThanOrEqual(committedBefore);
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    } finally {
      await writes;
    }
  });
});
