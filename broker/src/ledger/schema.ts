// Ledger schema and its migrations. The version lives in SQLite's `PRAGMA user_version`; each
// migration moves the file from `version - 1` to `version` inside one IMMEDIATE transaction, so a
// crash mid-migration leaves the old version intact and two processes can't migrate at once.
// Later versions append to MIGRATIONS (e.g. `ALTER TABLE usage ADD COLUMN ...`); never edit a
// released migration. A file from a newer broker (user_version > latest) is refused, not touched.
import type Database from "better-sqlite3";
import { LedgerError } from "./errors.js";

export interface Migration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "usage rows (time index), usage_hourly and usage_daily rollups (by period, user+period, team+period), ledger_meta",
    up(db) {
      db.exec(`
        CREATE TABLE usage (
          id TEXT NOT NULL PRIMARY KEY,
          time INTEGER NOT NULL,
          user TEXT NOT NULL,
          team TEXT NOT NULL,
          project TEXT,
          requested_model TEXT NOT NULL,
          served_model TEXT NOT NULL,
          deployment TEXT,
          status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'cancelled')),
          http_status INTEGER NOT NULL,
          input_tokens INTEGER NOT NULL CHECK (input_tokens >= 0),
          cache_read_tokens INTEGER NOT NULL CHECK (cache_read_tokens >= 0),
          cache_write_tokens INTEGER NOT NULL CHECK (cache_write_tokens >= 0),
          output_tokens INTEGER NOT NULL CHECK (output_tokens >= 0),
          cost_pico_usd INTEGER NOT NULL CHECK (cost_pico_usd >= 0),
          latency_ms INTEGER NOT NULL,
          ttft_ms INTEGER,
          fallbacks INTEGER NOT NULL,
          error_code TEXT
        ) STRICT;
        -- The only index on the rows besides the id: every secondary index costs a B-tree insert
        -- per request (a (user, time) index halved append throughput), so user and team queries go
        -- through the rollups' (user, period) and (team, period) indexes instead.
        CREATE INDEX usage_time ON usage (time);
        -- Hourly and daily (UTC) sums per (user, team, project, served model), kept in the same
        -- transaction as the rows. totals, spend and usage read whole days from usage_daily, whole
        -- hours at the edges from usage_hourly and the partial hours from the rows, so they cost
        -- O(days + hours at the edges) x active combinations, not O(requests).
        CREATE TABLE usage_hourly (
          hour INTEGER NOT NULL,
          user TEXT NOT NULL,
          team TEXT NOT NULL,
          project TEXT NOT NULL, -- '' for none
          served_model TEXT NOT NULL,
          requests INTEGER NOT NULL,
          input_tokens INTEGER NOT NULL,
          cache_read_tokens INTEGER NOT NULL,
          cache_write_tokens INTEGER NOT NULL,
          output_tokens INTEGER NOT NULL,
          cost_pico_usd INTEGER NOT NULL,
          PRIMARY KEY (hour, user, team, project, served_model)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX usage_hourly_user ON usage_hourly (user, hour);
        CREATE INDEX usage_hourly_team ON usage_hourly (team, hour);
        CREATE TABLE usage_daily (
          day INTEGER NOT NULL,
          user TEXT NOT NULL,
          team TEXT NOT NULL,
          project TEXT NOT NULL, -- '' for none
          served_model TEXT NOT NULL,
          requests INTEGER NOT NULL,
          input_tokens INTEGER NOT NULL,
          cache_read_tokens INTEGER NOT NULL,
          cache_write_tokens INTEGER NOT NULL,
          output_tokens INTEGER NOT NULL,
          cost_pico_usd INTEGER NOT NULL,
          PRIMARY KEY (day, user, team, project, served_model)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX usage_daily_user ON usage_daily (user, day);
        CREATE INDEX usage_daily_team ON usage_daily (team, day);
        CREATE TABLE ledger_meta (key TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL) STRICT;
      `);
    },
  },
  {
    version: 2,
    description: "usage.usage_estimated: 1 when Bedrock reported no usage (stream cut short) and the broker estimated it",
    up(db) {
      db.exec("ALTER TABLE usage ADD COLUMN usage_estimated INTEGER NOT NULL DEFAULT 0 CHECK (usage_estimated IN (0, 1))");
    },
  },
  {
    version: 3,
    description: "refusals: chat requests refused before Bedrock (no usage, no body); usage_not_ok: a partial index to list failed requests by status",
    up(db) {
      db.exec(`
        CREATE TABLE refusals (
          id TEXT NOT NULL PRIMARY KEY,
          time INTEGER NOT NULL,
          user TEXT,
          team TEXT,
          project TEXT,
          model TEXT,
          http_status INTEGER NOT NULL,
          code TEXT NOT NULL,
          reason TEXT,
          limit_name TEXT,
          limit_scope TEXT,
          key_hash_prefix TEXT,
          client TEXT,
          latency_ms INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX refusals_time ON refusals (time);
        -- Only the rows of requests that did not end 200 (a few percent): costs nothing per served
        -- request, and "who got 429 lately" reads it instead of walking every row's time index.
        CREATE INDEX usage_not_ok ON usage (http_status, time) WHERE http_status <> 200;
      `);
    },
  },
];

export const LEDGER_SCHEMA_VERSION: number = MIGRATIONS.length;

export function schemaVersion(db: Database.Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/** Returns the file's schema version; throws "unsupported_schema" if it's newer than `latest`. */
export function assertSupportedVersion(db: Database.Database, latest: number = LEDGER_SCHEMA_VERSION): number {
  const version = schemaVersion(db);
  if (version > latest) {
    throw new LedgerError(
      "unsupported_schema",
      `The usage ledger was written by a newer Tollgate (schema version ${version}; this broker knows up to ${latest}). ` +
        "Upgrade the broker, or point it at another data directory.",
    );
  }
  return version;
}

/** Brings `db` to the latest version in `migrations` (1, 2, 3, ... in order). */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[] = MIGRATIONS,
): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`ledger migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
  const latest = migrations.length;
  const run = db.transaction(() => {
    const from = assertSupportedVersion(db, latest);
    for (const m of migrations.slice(from)) {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }
    return { from, to: latest };
  });
  return run.immediate();
}
