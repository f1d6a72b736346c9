// The ledger's writer thread. Commits (and SQLite's WAL checkpoints, which copy pages into the
// database file and fsync it) take milliseconds to tens of milliseconds on a large ledger; run on
// the broker's thread they would stall every in-flight stream. So one worker thread owns the write
// connection: the main thread posts a batch, the worker inserts it in ONE transaction and answers
// once COMMIT returned; reads stay on a main-thread connection (WAL readers never block the writer).
//
// The worker's source is a plain CommonJS string run with `eval: true`, so it works the same from
// TypeScript under tsx or vitest and from the esbuild bundle (which has no separate worker file).
// better-sqlite3's resolved path is passed in, because an eval worker resolves from the cwd.

/** Sent to the worker. */
export type WriterRequest =
  | {
      type: "batch";
      seq: number;
      rows: unknown[][];
      /** Refused requests (ledger/refusals.ts), inserted in the same transaction, duplicates ignored. */
      refusals: unknown[][];
      /** When set, refusals older than this are deleted in the same transaction. */
      pruneRefusalsBefore?: number;
    }
  | { type: "probe"; seq: number; now: number }
  | { type: "close"; seq: number };

/** A record the batch could not take (constraint failure); the rest of the batch committed. */
export interface RowRejection {
  index: number;
  sqliteCode: string;
  message: string;
}

export interface WriterFailure {
  message: string;
  sqliteCode: string | undefined;
  /** The ledger file was deleted or replaced under the broker. */
  fileGone: boolean;
}

/** Sent back by the worker. */
export type WriterReply =
  | { type: "ready" }
  | { type: "open-failed"; error: WriterFailure }
  | { type: "done"; seq: number; ok: true; rejected: RowRejection[]; commitMs: number }
  | { type: "done"; seq: number; ok: false; error: WriterFailure; commitMs: number };

export interface WriterWorkerData {
  sqlitePath: string;
  path: string;
  dev: number;
  ino: number;
  synchronous: "NORMAL" | "FULL";
  busyTimeoutMs: number;
  walAutocheckpointPages: number;
  cacheSizeMb: number;
  insertSql: string;
  hourlySql: string;
  dailySql: string;
  heartbeatSql: string;
  insertRefusalSql: string;
  pruneRefusalsSql: string;
}

export const WRITER_WORKER_SOURCE = String.raw`
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const { statSync } = require("node:fs");
const { performance } = require("node:perf_hooks");
const Database = require(workerData.sqlitePath);

function failure(error) {
  return {
    message: error && error.message ? String(error.message) : String(error),
    sqliteCode: error && typeof error.code === "string" && error.code.startsWith("SQLITE_") ? error.code : undefined,
    fileGone: Boolean(error && error.fileGone),
  };
}

// SQLite goes on writing to a deleted (or replaced) file's inode; that would acknowledge records
// that no one can ever read back. Refuse instead.
function checkFile() {
  const st = statSync(workerData.path, { throwIfNoEntry: false });
  if (st === undefined || st.ino !== workerData.ino || st.dev !== workerData.dev) {
    const error = new Error(
      "The usage ledger file " + workerData.path + " was " + (st === undefined ? "deleted or its directory moved" : "replaced") +
        " while the broker had it open; restore it (or restart the broker) to record usage again.",
    );
    error.fileGone = true;
    throw error;
  }
}

let db;
try {
  db = new Database(workerData.path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = " + workerData.synchronous);
  db.pragma("busy_timeout = " + workerData.busyTimeoutMs);
  db.pragma("wal_autocheckpoint = " + workerData.walAutocheckpointPages);
  db.pragma("journal_size_limit = 67108864");
  db.pragma("cache_size = " + -1000 * workerData.cacheSizeMb);
} catch (error) {
  parentPort.postMessage({ type: "open-failed", error: failure(error) });
  process.exit(1);
}

const insert = db.prepare(workerData.insertSql);
const addHourly = db.prepare(workerData.hourlySql);
const addDaily = db.prepare(workerData.dailySql);
const heartbeat = db.prepare(workerData.heartbeatSql);
const insertRefusal = db.prepare(workerData.insertRefusalSql);
const pruneRefusals = db.prepare(workerData.pruneRefusalsSql);
const HOUR = 3600000;
const DAY = 86400000;

// Row layout (see INSERT_SQL): 1 time, 2 user, 3 team, 4 project, 6 served model,
// 10 input, 11 cache read, 12 cache write, 13 output, 14 cost.
function addTo(sums, period, r) {
  const project = r[4] === null ? "" : r[4];
  const key = period + "\u0000" + r[2] + "\u0000" + r[3] + "\u0000" + project + "\u0000" + r[6];
  const sum = sums.get(key);
  if (sum === undefined) sums.set(key, [period, r[2], r[3], project, r[6], 1, r[10], r[11], r[12], r[13], r[14]]);
  else {
    sum[5] += 1;
    for (let k = 6; k <= 10; k++) sum[k] += r[k + 4];
  }
}

const insertBatch = db.transaction((rows, refusals, pruneRefusalsBefore) => {
  const rejected = [];
  const hourly = new Map();
  const daily = new Map();
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    try {
      insert.run(r);
    } catch (error) {
      // A constraint failure aborts only that statement; anything else (I/O, full, read-only,
      // busy) may have ended the transaction, so it fails the whole batch.
      const code = error && typeof error.code === "string" ? error.code : "";
      if (!code.startsWith("SQLITE_CONSTRAINT")) throw error;
      rejected.push({ index: i, sqliteCode: code, message: String(error.message) });
      continue;
    }
    addTo(hourly, Math.floor(r[1] / HOUR) * HOUR, r);
    addTo(daily, Math.floor(r[1] / DAY) * DAY, r);
  }
  for (const sum of hourly.values()) addHourly.run(sum);
  for (const sum of daily.values()) addDaily.run(sum);
  for (const r of refusals) insertRefusal.run(r);
  if (typeof pruneRefusalsBefore === "number") pruneRefusals.run(pruneRefusalsBefore);
  return rejected;
});

parentPort.on("message", (msg) => {
  const started = performance.now();
  if (msg.type === "close") {
    try {
      db.pragma("wal_checkpoint(TRUNCATE)");
    } catch {
      // Best effort: the WAL is replayed on the next open anyway.
    }
    db.close();
    parentPort.postMessage({ type: "done", seq: msg.seq, ok: true, rejected: [], commitMs: performance.now() - started });
    parentPort.close();
    return;
  }
  try {
    checkFile();
    const rejected = msg.type === "batch" ? insertBatch(msg.rows, msg.refusals, msg.pruneRefusalsBefore) : (heartbeat.run(msg.now), []);
    parentPort.postMessage({ type: "done", seq: msg.seq, ok: true, rejected, commitMs: performance.now() - started });
  } catch (error) {
    parentPort.postMessage({ type: "done", seq: msg.seq, ok: false, error: failure(error), commitMs: performance.now() - started });
  }
});
parentPort.postMessage({ type: "ready" });
`;
