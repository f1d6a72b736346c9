import { readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { LedgerError } from "./errors.js";
import { LEDGER_SCHEMA_VERSION, MIGRATIONS, migrate, schemaVersion, type Migration } from "./schema.js";
import { openSqliteLedger } from "./sqlite-ledger.js";
import { tempDataDir, usageRecord } from "./testing/records.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

function memoryDb(): Database.Database {
  const db = new Database(":memory:");
  cleanups.push(() => db.close());
  return db;
}

describe("ledger schema migrations", () => {
  it("creates the latest schema on an empty file and is a no-op the second time", () => {
    const db = memoryDb();
    expect(migrate(db)).toEqual({ from: 0, to: LEDGER_SCHEMA_VERSION });
    expect(schemaVersion(db)).toBe(LEDGER_SCHEMA_VERSION);
    expect(migrate(db)).toEqual({ from: LEDGER_SCHEMA_VERSION, to: LEDGER_SCHEMA_VERSION });
    const indexes = db.prepare("SELECT tbl_name || '.' || name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY 1").pluck().all();
    expect(indexes).toEqual([
      "refusals.refusals_time",
      "usage.usage_not_ok",
      "usage.usage_time",
      "usage_daily.usage_daily_team",
      "usage_daily.usage_daily_user",
      "usage_hourly.usage_hourly_team",
      "usage_hourly.usage_hourly_user",
    ]);
  });

  it("applies a later migration that adds a column, keeping existing rows", async () => {
    const tmp = tempDataDir();
    cleanups.push(tmp.remove);
    const ledger = openSqliteLedger(tmp.dir);
    const r = usageRecord();
    await ledger.append(r);
    await ledger.close();

    const v2: Migration = {
      version: LEDGER_SCHEMA_VERSION + 1,
      description: "test: add a region column",
      up: (db) => db.exec("ALTER TABLE usage ADD COLUMN region TEXT"),
    };
    const db = new Database(`${tmp.dir}/ledger.sqlite`);
    cleanups.push(() => db.close());
    expect(migrate(db, [...MIGRATIONS, v2])).toEqual({ from: LEDGER_SCHEMA_VERSION, to: LEDGER_SCHEMA_VERSION + 1 });
    expect(db.prepare("SELECT id, region FROM usage").all()).toEqual([{ id: r.id, region: null }]);
  });

  it("rolls a failing migration back whole, leaving the version where it was", () => {
    const db = memoryDb();
    migrate(db);
    const broken: Migration = {
      version: LEDGER_SCHEMA_VERSION + 1,
      description: "test: half done, then fails",
      up: (d) => {
        d.exec("ALTER TABLE usage ADD COLUMN region TEXT");
        d.exec("THIS IS NOT SQL");
      },
    };
    expect(() => migrate(db, [...MIGRATIONS, broken])).toThrow();
    expect(schemaVersion(db)).toBe(LEDGER_SCHEMA_VERSION);
    const columns = db.prepare("SELECT name FROM pragma_table_info('usage')").pluck().all();
    expect(columns).not.toContain("region");
  });

  it("refuses a file written by a newer broker without touching it", () => {
    const tmp = tempDataDir();
    cleanups.push(tmp.remove);
    const path = `${tmp.dir}/ledger.sqlite`;
    const db = new Database(path);
    db.pragma(`user_version = ${LEDGER_SCHEMA_VERSION + 5}`);
    db.close();
    const before = readFileSync(path);
    let error: unknown;
    try {
      openSqliteLedger(tmp.dir);
    } catch (e) {
      error = e;
    }
    expect(LedgerError.is(error, "unsupported_schema")).toBe(true);
    expect((error as Error).message).toMatch(/newer Tollgate/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("requires migrations numbered 1, 2, 3, ...", () => {
    const db = memoryDb();
    const skipped: Migration = { version: LEDGER_SCHEMA_VERSION + 2, description: "gap", up: () => {} };
    expect(() => migrate(db, [...MIGRATIONS, skipped])).toThrow(/expected/);
  });
});
