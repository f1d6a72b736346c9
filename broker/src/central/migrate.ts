// Schema migrations at start-up, under an advisory lock: brokers starting together take turns, the
// first migrates, the others find the schema current. A schema newer than this broker knows is
// refused before anything touches it.
import type pg from "pg";
import { CentralStoreError } from "./errors.js";
import { CENTRAL_MIGRATIONS, type CentralMigration } from "./migrations/index.js";

/** Arbitrary, fixed: "tollgate migrations" as a 64-bit advisory lock key. */
const MIGRATION_LOCK_KEY = 7_461_727_163_001;

export async function migrate(pool: pg.Pool, migrations: readonly CentralMigration[] = CENTRAL_MIGRATIONS): Promise<{ from: number; to: number }> {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`central migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
  const latest = migrations.length;
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await client.query(
        "CREATE TABLE IF NOT EXISTS tollgate_schema_migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
      );
      const { rows } = await client.query<{ version: number | null }>("SELECT max(version) AS version FROM tollgate_schema_migrations");
      const from = rows[0]?.version ?? 0;
      if (from > latest) {
        throw new CentralStoreError(
          "schema_too_new",
          `the central store's schema is at version ${from}; this broker knows up to ${latest}: upgrade the broker (every broker of a fleet should run the same release)`,
        );
      }
      for (const migration of migrations.slice(from)) {
        await client.query("BEGIN");
        try {
          await client.query(migration.sql);
          await client.query("INSERT INTO tollgate_schema_migrations (version, description) VALUES ($1, $2)", [migration.version, migration.description]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw error;
        }
      }
      return { from, to: latest };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}
