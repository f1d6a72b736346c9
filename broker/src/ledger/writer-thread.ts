// The ledger's writer thread. Commits (and SQLite's WAL checkpoints, which copy pages into the
// database file and fsync it) take milliseconds to tens of milliseconds on a large ledger; run on
// the broker's thread they would stall every in-flight stream. So one worker thread owns the write
// connection: the main thread posts a batch, this thread inserts it in ONE transaction and answers
// once COMMIT returned; reads stay on a main-thread connection (WAL readers never block the writer).
//
// Its own entry point: esbuild bundles it as broker/dist/ledger-writer-thread.js beside the CLI, and
// from the source (vitest, tsx) the ledger starts it through tsx (see `startWriterThread`).
import { statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { INSERT_REFUSAL_SQL, PRUNE_REFUSALS_SQL, type RefusalRow } from "./refusals.js";
import { AT, INSERT_USAGE_SQL, type UsageInsertRow } from "./usage-columns.js";
import type { RowRejection, WriterFailure, WriterReply, WriterRequest, WriterWorkerData } from "./writer-protocol.js";

const HOUR = 3_600_000;
const DAY = 86_400_000;

function rollupSql(table: "usage_hourly" | "usage_daily", period: "hour" | "day"): string {
  return (
    `INSERT INTO ${table} (${period}, user, team, project, served_model, requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, cost_pico_usd) ` +
    `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (${period}, user, team, project, served_model) DO UPDATE SET ` +
    "requests = requests + excluded.requests, input_tokens = input_tokens + excluded.input_tokens, " +
    "cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens, " +
    "output_tokens = output_tokens + excluded.output_tokens, cost_pico_usd = cost_pico_usd + excluded.cost_pico_usd"
  );
}
const HEARTBEAT_SQL = "INSERT INTO ledger_meta (key, value) VALUES ('heartbeat', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/** The summed fields of a rollup row, in its column order after the keys. */
const SUMMED = [AT.inputTokens, AT.cacheReadTokens, AT.cacheWriteTokens, AT.outputTokens, AT.costPicoUsd] as const;

/** One rollup row: period, user, team, project, served model, requests, then the SUMMED sums. */
type Rollup = [number, string, string, string, string, number, number, number, number, number, number];

function failure(error: unknown): WriterFailure {
  const e = error as { message?: unknown; code?: unknown; fileGone?: unknown } | undefined;
  return {
    message: e?.message !== undefined ? String(e.message) : String(error),
    sqliteCode: typeof e?.code === "string" && e.code.startsWith("SQLITE_") ? e.code : undefined,
    fileGone: e?.fileGone === true,
  };
}

function run(port: NonNullable<typeof parentPort>, data: WriterWorkerData): void {
  const post = (reply: WriterReply): void => port.postMessage(reply);

  // SQLite goes on writing to a deleted (or replaced) file's inode; that would acknowledge records
  // that no one can ever read back. Refuse instead.
  const checkFile = (): void => {
    const st = statSync(data.path, { throwIfNoEntry: false });
    if (st === undefined || st.ino !== data.ino || st.dev !== data.dev) {
      const error = new Error(
        `The usage ledger file ${data.path} was ${st === undefined ? "deleted or its directory moved" : "replaced"} while the broker had it open; restore it (or restart the broker) to record usage again.`,
      );
      throw Object.assign(error, { fileGone: true });
    }
  };

  let db: Database.Database;
  try {
    db = new Database(data.path);
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${data.synchronous}`);
    db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
    db.pragma(`wal_autocheckpoint = ${data.walAutocheckpointPages}`);
    db.pragma("journal_size_limit = 67108864");
    db.pragma(`cache_size = ${-1000 * data.cacheSizeMb}`);
  } catch (error) {
    post({ type: "open-failed", error: failure(error) });
    process.exit(1);
  }

  const insert = db.prepare(INSERT_USAGE_SQL);
  const addHourly = db.prepare(rollupSql("usage_hourly", "hour"));
  const addDaily = db.prepare(rollupSql("usage_daily", "day"));
  const heartbeat = db.prepare(HEARTBEAT_SQL);
  const insertRefusal = db.prepare(INSERT_REFUSAL_SQL);
  const pruneRefusals = db.prepare(PRUNE_REFUSALS_SQL);

  const addTo = (sums: Map<string, Rollup>, period: number, r: UsageInsertRow): void => {
    const user = r[AT.user] as string;
    const team = r[AT.team] as string;
    const project = (r[AT.project] as string | null) ?? "";
    const model = r[AT.servedModel] as string;
    const key = `${period}\u0000${user}\u0000${team}\u0000${project}\u0000${model}`;
    const sum = sums.get(key);
    if (sum === undefined) {
      sums.set(key, [period, user, team, project, model, 1, ...(SUMMED.map((at) => r[at] as number) as [number, number, number, number, number])]);
      return;
    }
    sum[5] += 1;
    SUMMED.forEach((at, k) => (sum[6 + k] = (sum[6 + k] as number) + (r[at] as number)));
  };

  const insertBatch = db.transaction((rows: UsageInsertRow[], refusals: RefusalRow[], pruneBefore: number | undefined): RowRejection[] => {
    const rejected: RowRejection[] = [];
    const hourly = new Map<string, Rollup>();
    const daily = new Map<string, Rollup>();
    rows.forEach((r, index) => {
      try {
        insert.run(r);
      } catch (error) {
        // A constraint failure aborts only that statement; anything else (I/O, full, read-only,
        // busy) may have ended the transaction, so it fails the whole batch.
        const code = typeof (error as { code?: unknown }).code === "string" ? (error as { code: string }).code : "";
        if (!code.startsWith("SQLITE_CONSTRAINT")) throw error;
        rejected.push({ index, sqliteCode: code, message: String((error as Error).message) });
        return;
      }
      const time = r[AT.time] as number;
      addTo(hourly, Math.floor(time / HOUR) * HOUR, r);
      addTo(daily, Math.floor(time / DAY) * DAY, r);
    });
    for (const sum of hourly.values()) addHourly.run(sum);
    for (const sum of daily.values()) addDaily.run(sum);
    for (const r of refusals) insertRefusal.run(r);
    if (pruneBefore !== undefined) pruneRefusals.run(pruneBefore);
    return rejected;
  });

  port.on("message", (message: WriterRequest) => {
    const started = performance.now();
    if (message.type === "close") {
      try {
        db.pragma("wal_checkpoint(TRUNCATE)");
      } catch {
        // Best effort: the WAL is replayed on the next open anyway.
      }
      db.close();
      post({ type: "done", seq: message.seq, ok: true, rejected: [], commitMs: performance.now() - started });
      port.close();
      return;
    }
    try {
      checkFile();
      let rejected: RowRejection[] = [];
      if (message.type === "batch") rejected = insertBatch(message.rows, message.refusals, message.pruneRefusalsBefore);
      else heartbeat.run(message.now);
      post({ type: "done", seq: message.seq, ok: true, rejected, commitMs: performance.now() - started });
    } catch (error) {
      post({ type: "done", seq: message.seq, ok: false, error: failure(error), commitMs: performance.now() - started });
    }
  });
  post({ type: "ready" });
}

if (parentPort) run(parentPort, workerData as WriterWorkerData);
