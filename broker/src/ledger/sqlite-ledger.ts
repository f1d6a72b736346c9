// The durable usage ledger: one SQLite row per request (better-sqlite3, WAL), group commit on a
// writer thread, hourly/daily rollups for the aggregates.
//
// Write path. append() validates the record and queues it. The queue is flushed on the next
// setImmediate (or after `flushDelayMs`, or at once when `maxBatch` records are queued) as ONE
// transaction on the writer thread (writer-thread.ts): a prepared INSERT per row, one upsert per
// (hour | day, user, team, project, model) into the rollups, COMMIT. Each append resolves once that
// COMMIT returned. One transaction is in flight at a time and what arrives meanwhile becomes the next
// batch, so batches grow with load. Why a thread: on the main thread a 1000-record commit held the
// event loop 30-60 ms and WAL checkpoints up to ~200 ms (2-core VM, 1M-row file), stalling every
// stream; now the main thread only validates, posts and resolves (event-loop delay p99 ≈ 3-15 ms
// under 20k appends/s, most of it the benchmark's own record generation).
//
// synchronous=FULL by default. In WAL mode NORMAL survives a killed broker (the SIGKILL test passes
// with either) but can lose the last commits on power loss; FULL fsyncs every commit. Measured on the
// same run (1M-row ledger, time-ordered ids, bench/ledger-bench.ts): 1 writer p50 0.66 ms NORMAL vs
// 0.68 ms FULL; 1000 writers 28,370/s vs 32,561/s; open loop 20,000/s sustained by both, p50/p99
// 11.0/69.1 ms vs 7.4/50.5 ms. Group commit amortizes the fsync and it runs off the event loop, so
// FULL costs nothing measurable here; `synchronous: "NORMAL"` stays available.
//
// Figures (node 20, 2 vCPU AMD EPYC VM shared with other jobs, ext4 on a virtio disk; 1M rows over
// 30 days, 500 users, ~100 active per hour; append→durable latency):
//   time-ordered ids, FULL: 1 writer 1,099/s p50 0.68 ms p99 3.7 ms; 64 writers 17,309/s p50 3.6 ms
//     p99 10.3 ms; 1000 writers 32,561/s p50 31 ms p99 56 ms; open loop 20,000/s: 19,839/s p50 7.4 ms
//     p99 50.5 ms. Bulk fill 23,607/s.
//   the broker's random 96-bit ids, FULL: 1000 writers 12,114/s p50 63 ms p99 194 ms; open loop
//     20,000/s falls behind at 14,621/s. Every random id lands on its own page of the primary-key
//     index (one more page written to the WAL and checkpointed per record); time-ordered ids (a
//     ms-timestamp prefix) append to it instead. So the ≥ 20,000/s target holds with time-ordered
//     request ids; with random ones it is ~12-16k/s at 1M rows on this machine.
//   Queries, main thread, 1M rows: totals by user 0.3 ms, by team+model 4.7 ms; recent(user) 3.4 ms;
//     usage by day for a user 4.2 ms, for a team 21 ms (America/Los_Angeles, 30 days); org-wide by
//     model over 30 days 60 ms; spendByScope over 30 days (start-up) 103 ms; recentActivity 5 min 0.5 ms.
//
// Read path. Queries are synchronous on a main-thread connection (WAL readers never block the
// writer). totals/spendByScope/usage read whole UTC days from usage_daily, whole hours from
// usage_hourly and only the partial hours at the edges from the rows, so they cost O(days + edge
// hours) x active (user, team, project, model) combinations, not O(requests). The rows carry only
// the time index: a (user, time) index halved append throughput, so recent({user}) walks the
// hourly rollup's (user, hour) index to the user's hours and reads those through the time index.
//
// Failures. A commit that fails (I/O error, disk full, read-only, busy, or the file deleted or
// replaced under the broker: SQLite would keep writing to the orphaned inode) rejects every append
// of the batch with LedgerError("write_failed"), turns healthy() false and sets lastError; a probe
// write every `probeIntervalMs` (and any later append) turns it back once a write commits. A record
// that breaks a constraint (duplicate id) is rejected alone; the rest of its batch commits.
//
// Sums are exact integers in SQLite; in JavaScript they are exact while below 2^53 pico-USD ($9,007)
// and round to the nearest double above (relative error < 1.2e-16); a single SUM overflows int64
// at $9.2M.
import { chmodSync, closeSync, existsSync, fchmodSync, openSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { LedgerError } from "./errors.js";
import { assertSupportedVersion, migrate } from "./schema.js";
import { SqlFilters } from "./sql-filters.js";
import { dayBuckets } from "./time-zone.js";
import {
  recentLimit,
  teamModelKey,
  type ActivityRow,
  type RecentQuery,
  type RefusalLog,
  type RefusalRecord,
  type SpendByScope,
  type UsageLedger,
  type UsageQuery,
  type UsageRecord,
  type UsageRow,
  type UsageScope,
  type UsageStatus,
  type UsageTotals,
} from "./types.js";
import {
  REFUSAL_RETENTION_MS,
  lastRefusalRowid,
  queryRefusals,
  refusalRow,
  refusalsAfter,
  type RefusalRow,
} from "./refusals.js";
import { USAGE_COLUMN_LIST, usageRecordOf, usageRow, type UsageInsertRow } from "./usage-columns.js";
import type { WriterFailure, WriterReply, WriterRequest, WriterWorkerData } from "./writer-protocol.js";

export const LEDGER_FILE_NAME = "ledger.sqlite";

export interface SqliteLedgerOptions {
  /**
   * SQLite's `synchronous` in WAL mode. "NORMAL": a commit is durable once written to the WAL,
   * which survives a killed or crashed broker process but not a power loss or kernel panic (the WAL
   * is fsynced at checkpoints). "FULL" (default): fsync on every commit; survives power loss too.
   * See the figures at the top of this file.
   */
  synchronous?: "NORMAL" | "FULL";
  /** Largest batch committed in one transaction; reaching it flushes at once. Default 1000. */
  maxBatch?: number;
  /** 0 (default): flush on the next `setImmediate`; > 0: wait up to this many ms to gather a batch. */
  flushDelayMs?: number;
  /** While unhealthy, probe with a small write this often (ms) to notice recovery. Default 1000. */
  probeIntervalMs?: number;
  /** How long a commit waits for another connection's write lock. Default 1000 (on the writer thread). */
  busyTimeoutMs?: number;
  /** WAL pages between automatic checkpoints (run on the writer thread). Default 4000 (16 MB). */
  walAutocheckpointPages?: number;
  /** SQLite page cache of the reader connection (queries on the main thread), MB. Default 64. */
  cacheSizeMb?: number;
  /**
   * SQLite page cache of the writer thread's connection, MB. Default 4: appends touch only the right
   * edges of the indexes and the current rollup rows, so a big cache bought no throughput and only
   * grew the broker's memory with the file (bench/ledger-bench.ts --writer-cache-mb, docs/reliability.md).
   */
  writerCacheSizeMb?: number;
  /** How often refusals past their retention are deleted (ms). Default one hour. */
  refusalPruneIntervalMs?: number;
  /** Called after every commit attempt: for metrics, and for tests that count transactions. */
  onFlush?: (event: FlushEvent) => void;
  /** Called when `healthy()` changes. */
  onHealthChange?: (healthy: boolean, error: LedgerError | undefined) => void;
}

export interface FlushEvent {
  records: number;
  ok: boolean;
  /** From posting the batch to its acknowledgement (what an append waits for after its flush). */
  durationMs: number;
  /** Insert + COMMIT (+ any checkpoint) on the writer thread. */
  commitMs: number;
  error?: LedgerError;
}

export interface LedgerStats {
  /** Transactions committed by append flushes. */
  transactions: number;
  failedTransactions: number;
  recordsWritten: number;
  /** Records whose append was rejected (write failures, duplicates, invalid records). */
  recordsRejected: number;
  /** Largest batch committed in one transaction. */
  largestBatch: number;
  /** Records waiting for the next flush. */
  queued: number;
  /** Records in the transaction being committed now. */
  inFlight: number;
  /** Refused requests committed, and dropped (queue full, or their commit failed). */
  refusalsWritten: number;
  refusalsDropped: number;
}

interface Pending {
  row: UsageInsertRow;
  resolve: () => void;
  reject: (error: LedgerError) => void;
}

type InFlight =
  | { kind: "batch"; seq: number; batch: Pending[]; refusals: number; sentAt: number }
  | { kind: "probe"; seq: number; done: (ok: boolean) => void }
  | { kind: "close"; seq: number; done: () => void };

type Dimension = "user" | "team" | "project" | "model";

/** Column expressions in the raw rows (`usage`); the rollups store project '' for none. */
const RAW_DIMENSIONS: Record<Dimension, string> = {
  user: "user",
  team: "team",
  project: "COALESCE(project, '')",
  model: "served_model",
};
const ROLLUP_DIMENSIONS: Record<Dimension, string> = { user: "user", team: "team", project: "project", model: "served_model" };

/** Where a part of a range is summed from: raw rows, or a rollup keyed by its period's start. */
const SOURCES = {
  raw: { table: "usage", time: "time" },
  hourly: { table: "usage_hourly", time: "hour" },
  daily: { table: "usage_daily", time: "day" },
} as const;
type Source = keyof typeof SOURCES;

const SUM_COLUMNS = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "cost_pico_usd"] as const;
const RAW_SUMS = `COUNT(*), ${SUM_COLUMNS.map((c) => `SUM(${c})`).join(", ")}`;
const ROLLUP_SUMS = `SUM(requests), ${SUM_COLUMNS.map((c) => `SUM(${c})`).join(", ")}`;
const HOUR = 3_600_000;
const DAY = 86_400_000;

interface Filters {
  user?: string | undefined;
  team?: string | undefined;
  model?: string | undefined;
}

/** One group's sums: the group's dimension values, then requests, input, cache read, cache write, output, cost. */
type AggregateRow = { keys: string[]; sums: [number, number, number, number, number, number] };

/** Refusals waiting for a commit; a flood past it (a client hammering with a bad key) is counted, not kept. */
const MAX_QUEUED_REFUSALS = 10_000;
const REFUSAL_PRUNE_INTERVAL_MS = 3_600_000;

/**
 * Opens (creating if needed, mode 0600) `${dataDir}/ledger.sqlite` and migrates it to the current
 * schema. The data directory must exist. Throws `LedgerError` ("open_failed", "unsupported_schema").
 */
export function openSqliteLedger(dataDir: string, options: SqliteLedgerOptions = {}): SqliteLedger {
  const path = join(dataDir, LEDGER_FILE_NAME);
  let db: Database.Database | undefined;
  try {
    // Create the file 0600 before SQLite opens it: SQLite would create 0644, and it gives the
    // -wal/-shm files it creates later the database file's mode. Tighten an existing file too.
    const fd = openSync(path, "a", 0o600);
    try {
      fchmodSync(fd, 0o600);
    } finally {
      closeSync(fd);
    }
    for (const suffix of ["-wal", "-shm"]) if (existsSync(path + suffix)) chmodSync(path + suffix, 0o600);

    db = new Database(path);
    assertSupportedVersion(db); // before anything writes to a newer broker's file
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal") throw new Error(`SQLite refused WAL mode (journal_mode is "${String(mode)}")`);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 1000))}`);
    migrate(db);
    db.pragma(`cache_size = ${-1000 * Math.max(1, Math.floor(options.cacheSizeMb ?? 64))}`);
    db.pragma("query_only = ON"); // this connection reads; the writer thread has its own
    return new SqliteLedger(db, path, options);
  } catch (error) {
    db?.close();
    if (LedgerError.is(error)) throw error;
    throw new LedgerError(
      "open_failed",
      `Cannot open the usage ledger ${path}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

export class SqliteLedger implements UsageLedger, RefusalLog {
  readonly path: string;
  /** The most recent write failure (kept after recovery, for diagnostics); `healthy()` is the state. */
  lastError: LedgerError | undefined;

  private readonly db: Database.Database;
  private readonly options: SqliteLedgerOptions;
  private readonly maxBatch: number;
  private readonly workerData: WriterWorkerData;
  private worker: Worker | undefined;
  private queue: Pending[] = [];
  private refusalQueue: RefusalRow[] = [];
  /** Start-up counts as a prune: the first one runs an hour in, off the start-up path. */
  private lastRefusalPrune = Date.now();
  private inFlight: InFlight | undefined;
  private seq = 0;
  private idleWaiters: Array<() => void> = [];
  private immediate: NodeJS.Immediate | undefined;
  private timer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private ok = true;
  private closing = false;
  private closed: Promise<void> | undefined;
  private readonly counters = { transactions: 0, failedTransactions: 0, recordsWritten: 0, recordsRejected: 0, largestBatch: 0, refusalsWritten: 0, refusalsDropped: 0 };
  private readonly statements = new Map<string, Database.Statement>();

  /** Use `openSqliteLedger`: it creates, migrates and opens `db` for reading. */
  constructor(db: Database.Database, path: string, options: SqliteLedgerOptions = {}) {
    this.db = db;
    this.path = path;
    this.options = options;
    this.maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 1000));
    const st = statSync(path);
    this.workerData = {
      path,
      dev: st.dev,
      ino: st.ino,
      synchronous: options.synchronous ?? "FULL",
      busyTimeoutMs: Math.max(0, Math.floor(options.busyTimeoutMs ?? 1000)),
      walAutocheckpointPages: Math.max(0, Math.floor(options.walAutocheckpointPages ?? 4000)),
      cacheSizeMb: Math.max(1, Math.floor(options.writerCacheSizeMb ?? 4)),
    };
    this.startWorker();
  }

  /** False after a commit failed, until a later write (an append's or the probe's) succeeds. */
  healthy(): boolean {
    return this.ok;
  }

  stats(): LedgerStats {
    const inFlight = this.inFlight?.kind === "batch" ? this.inFlight.batch.length : 0;
    return { ...this.counters, queued: this.queue.length, inFlight };
  }

  append(record: UsageRecord): Promise<void> {
    if (this.closing) return Promise.reject(new LedgerError("closed", "The usage ledger is closed."));
    let row: UsageInsertRow;
    try {
      row = toRow(record);
    } catch (error) {
      this.counters.recordsRejected++;
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const promise = new Promise<void>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
    });
    if (this.queue.length >= this.maxBatch) this.flush();
    else this.schedule();
    return promise;
  }

  /**
   * Sends what is queued (up to `maxBatch`) to the writer as one transaction. One transaction is in
   * flight at a time: what arrives meanwhile is sent as the next batch when it commits.
   */
  flush(): void {
    this.unschedule();
    if (this.inFlight !== undefined || (this.queue.length === 0 && this.refusalQueue.length === 0)) return;
    const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
    this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);
    const refusals = this.refusalQueue;
    this.refusalQueue = [];
    const now = Date.now();
    const prune = now - this.lastRefusalPrune >= (this.options.refusalPruneIntervalMs ?? REFUSAL_PRUNE_INTERVAL_MS);
    if (prune) this.lastRefusalPrune = now;
    const seq = ++this.seq;
    this.inFlight = { kind: "batch", seq, batch, refusals: refusals.length, sentAt: performance.now() };
    this.send({ type: "batch", seq, rows: batch.map((p) => p.row), refusals, ...(prune ? { pruneRefusalsBefore: now - REFUSAL_RETENTION_MS } : {}) });
  }

  /** Tries a small write now (or flushes the queue); resolves to `healthy()` afterwards. */
  probe(): Promise<boolean> {
    if (this.closing) return Promise.resolve(false);
    if (this.inFlight !== undefined || this.queue.length > 0) {
      this.flush();
      return this.whenIdle().then(() => this.ok);
    }
    return new Promise((resolve) => {
      const seq = ++this.seq;
      this.inFlight = { kind: "probe", seq, done: resolve };
      this.send({ type: "probe", seq, now: Date.now() });
    });
  }

  async close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      this.flush();
      await this.whenIdle();
      if (this.probeTimer !== undefined) clearInterval(this.probeTimer);
      this.probeTimer = undefined;
      const worker = this.worker;
      if (worker !== undefined) {
        const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
        await new Promise<void>((resolve) => {
          const seq = ++this.seq;
          this.inFlight = { kind: "close", seq, done: resolve };
          this.send({ type: "close", seq });
        });
        await exited;
      }
      this.db.close();
    })();
    return this.closed;
  }

  private startWorker(): Worker {
    const worker = startWriterThread(this.workerData);
    worker.unref(); // an idle ledger doesn't keep the process alive; `send` refs it while writing
    worker.on("message", (reply: WriterReply) => this.onReply(worker, reply));
    worker.on("error", (error) => this.workerFailed(worker, error.message, undefined));
    worker.on("exit", (code) => {
      if (this.worker === worker) this.workerFailed(worker, `the ledger writer thread exited (code ${code})`, undefined);
    });
    this.worker = worker;
    return worker;
  }

  private send(request: WriterRequest): void {
    const worker = this.worker ?? this.startWorker();
    worker.ref();
    worker.postMessage(request);
  }

  private onReply(worker: Worker, reply: WriterReply): void {
    if (worker !== this.worker) return;
    if (reply.type === "ready") return;
    if (reply.type === "open-failed") {
      this.workerFailed(worker, reply.error.message, reply.error.sqliteCode);
      return;
    }
    const flight = this.inFlight;
    if (flight === undefined || flight.seq !== reply.seq) return;
    this.inFlight = undefined;
    if (flight.kind !== "close") worker.unref(); // stays ref'd until it has exited after a close
    if (flight.kind === "close") {
      this.worker = undefined;
      flight.done();
    } else if (flight.kind === "probe") {
      if (reply.ok) this.setHealth(true, undefined);
      else this.setHealth(false, writeFailure(reply.error, 0));
      flight.done(this.ok);
    } else {
      if (reply.ok) this.counters.refusalsWritten += flight.refusals;
      else this.counters.refusalsDropped += flight.refusals;
      this.settleBatch(flight.batch, reply, performance.now() - flight.sentAt);
    }
    this.afterReply();
  }

  private settleBatch(batch: Pending[], reply: Extract<WriterReply, { type: "done" }>, durationMs: number): void {
    if (!reply.ok) {
      const failure = writeFailure(reply.error, batch.length);
      this.counters.failedTransactions++;
      this.counters.recordsRejected += batch.length;
      for (const p of batch) p.reject(failure);
      this.setHealth(false, failure);
      this.notifyFlush({ records: batch.length, ok: false, durationMs, commitMs: reply.commitMs, error: failure });
      return;
    }
    const rejected = new Map(reply.rejected.map((r) => [r.index, r]));
    this.counters.transactions++;
    this.counters.largestBatch = Math.max(this.counters.largestBatch, batch.length);
    batch.forEach((p, index) => {
      const r = rejected.get(index);
      if (r === undefined) {
        this.counters.recordsWritten++;
        p.resolve();
        return;
      }
      this.counters.recordsRejected++;
      p.reject(
        r.sqliteCode === "SQLITE_CONSTRAINT_PRIMARYKEY"
          ? new LedgerError("duplicate_id", `A usage record with id "${p.row[0]}" is already in the ledger.`, { sqliteCode: r.sqliteCode })
          : new LedgerError("invalid_record", `Usage record "${p.row[0]}" violates the ledger schema: ${r.message}`, { sqliteCode: r.sqliteCode }),
      );
    });
    this.setHealth(true, undefined);
    this.notifyFlush({ records: batch.length, ok: true, durationMs, commitMs: reply.commitMs });
  }

  /** The writer thread died or could not open the file: fail what it held; a new one starts on demand. */
  private workerFailed(worker: Worker, message: string, sqliteCode: string | undefined): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    void worker.terminate();
    const flight = this.inFlight;
    this.inFlight = undefined;
    const failure = writeFailure({ message, sqliteCode, fileGone: false }, flight?.kind === "batch" ? flight.batch.length : 0);
    if (flight?.kind === "batch") {
      this.counters.refusalsDropped += flight.refusals;
      this.counters.failedTransactions++;
      this.counters.recordsRejected += flight.batch.length;
      for (const p of flight.batch) p.reject(failure);
      this.notifyFlush({ records: flight.batch.length, ok: false, durationMs: performance.now() - flight.sentAt, commitMs: 0, error: failure });
    }
    this.setHealth(false, failure);
    if (flight?.kind === "probe") flight.done(false);
    if (flight?.kind === "close") flight.done();
    this.afterReply();
  }

  private afterReply(): void {
    if (this.queue.length > 0 || this.refusalQueue.length > 0) {
      this.flush();
      return;
    }
    if (this.inFlight === undefined) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private whenIdle(): Promise<void> {
    if (this.inFlight === undefined && this.queue.length === 0 && this.refusalQueue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  totals(scope: UsageScope, sinceMs: number): UsageTotals {
    const [row] = this.aggregate(sinceMs, Number.MAX_SAFE_INTEGER, scope, []);
    return totalsOf(row?.sums ?? [0, 0, 0, 0, 0, 0]);
  }

  recentActivity(sinceMs: number): ActivityRow[] {
    return this.statement(
      "SELECT time, user, team, served_model AS servedModel, " +
        "input_tokens + cache_read_tokens + cache_write_tokens + output_tokens AS tokens, cost_pico_usd AS costPicoUsd " +
        "FROM usage WHERE time >= ? ORDER BY time, rowid",
    ).all(sinceMs) as ActivityRow[];
  }

  spendByScope(sinceMs: number): SpendByScope {
    const users = new Map<string, number>();
    const teams = new Map<string, number>();
    const teamModels = new Map<string, number>();
    const add = (map: Map<string, number>, key: string, value: number): void => {
      map.set(key, (map.get(key) ?? 0) + value);
    };
    for (const { keys, sums } of this.aggregate(sinceMs, Number.MAX_SAFE_INTEGER, {}, ["user", "team", "model"])) {
      const [user, team, model] = keys as [string, string, string];
      add(users, user, sums[5]);
      add(teams, team, sums[5]);
      add(teamModels, teamModelKey(team, model), sums[5]);
    }
    return { users, teams, teamModels };
  }

  usage(query: UsageQuery): UsageRow[] {
    const filters: Filters = { user: query.user, team: query.team };
    const savings = query.cacheSavings;
    if (query.groupBy === "day") {
      const buckets = dayBuckets(query.from, query.to, query.timezone);
      // One read transaction: every day sees the same snapshot.
      const read = this.db.transaction(() =>
        buckets.map((b) => combine(b.key, this.aggregate(b.start, b.end, filters, savings === undefined ? [] : ["model"]), savings)),
      );
      return read().filter((row): row is UsageRow => row !== undefined && row.requests > 0);
    }
    const dimension: Dimension | undefined = ({ model: "model", project: "project", user: "user", team: "team" } as const)[query.groupBy];
    if (dimension === undefined) throw new LedgerError("invalid_query", `Unknown usage grouping "${String(query.groupBy)}".`);
    const dims: Dimension[] = savings === undefined || dimension === "model" ? [dimension] : [dimension, "model"];
    const groups = new Map<string, AggregateRow[]>();
    for (const row of this.aggregate(query.from, query.to, filters, dims)) {
      const key = row.keys[0]!;
      const list = groups.get(key);
      if (list === undefined) groups.set(key, [row]);
      else list.push(row);
    }
    const out: UsageRow[] = [];
    for (const [key, list] of groups) {
      const row = combine(key, list, savings, dimension === "model" ? 0 : 1);
      if (row !== undefined) out.push(row);
    }
    return out.sort((a, b) => b.costPicoUsd - a.costPicoUsd || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * Sums over `start <= time < end`, grouped by `dims`: whole UTC days from usage_daily, whole hours
   * from usage_hourly, the partial hours at either edge from the raw rows (time index).
   */
  private aggregate(start: number, end: number, filters: Filters, dims: Dimension[]): AggregateRow[] {
    if (!(end > start)) return [];
    const parts: Array<{ source: Source; from: number; to: number }> = [];
    const add = (source: Source, from: number, to: number): void => {
      if (to > from) parts.push({ source, from, to });
    };
    const firstHour = Math.ceil(start / HOUR) * HOUR;
    const lastHour = Math.floor(end / HOUR) * HOUR;
    if (firstHour >= lastHour) {
      add("raw", start, end);
    } else {
      const firstDay = Math.ceil(firstHour / DAY) * DAY;
      const lastDay = Math.floor(lastHour / DAY) * DAY;
      add("raw", start, firstHour);
      if (firstDay < lastDay) {
        add("hourly", firstHour, firstDay);
        add("daily", firstDay, lastDay);
        add("hourly", lastDay, lastHour);
      } else {
        add("hourly", firstHour, lastHour);
      }
      add("raw", lastHour, end);
    }
    const merged = new Map<string, AggregateRow>();
    for (const part of parts) {
      const source = SOURCES[part.source];
      const raw = part.source === "raw";
      const conditions = [`${source.time} >= ? AND ${source.time} < ?`];
      const params: unknown[] = [part.from, part.to];
      if (filters.user !== undefined) (conditions.push("user = ?"), params.push(filters.user));
      if (filters.team !== undefined) (conditions.push("team = ?"), params.push(filters.team));
      if (filters.model !== undefined) (conditions.push("served_model = ?"), params.push(filters.model));
      const columns = dims.map((d) => (raw ? RAW_DIMENSIONS[d] : ROLLUP_DIMENSIONS[d]));
      const sql =
        `SELECT ${[...columns, raw ? RAW_SUMS : ROLLUP_SUMS].join(", ")} FROM ${source.table} ` +
        `WHERE ${conditions.join(" AND ")}${columns.length > 0 ? ` GROUP BY ${columns.join(", ")}` : ""}`;
      const rows = this.statement(sql).raw(true).all(params) as unknown[][];
      for (const r of rows) {
        const keys = r.slice(0, dims.length) as string[];
        const sums = r.slice(dims.length).map((v) => (v === null ? 0 : (v as number))) as AggregateRow["sums"];
        if (sums[0] === 0) continue;
        const id = keys.join("\u0000");
        const existing = merged.get(id);
        if (existing === undefined) merged.set(id, { keys, sums });
        else for (let i = 0; i < 6; i++) existing.sums[i]! += sums[i]!;
      }
    }
    return [...merged.values()];
  }

  recent(query: RecentQuery): UsageRecord[] {
    const limit = recentLimit(query);
    const since = query.since ?? 0;
    const until = query.until ?? Number.MAX_SAFE_INTEGER;
    const filters = new SqlFilters();
    if (query.user !== undefined) filters.add("user = ?", query.user);
    if (query.team !== undefined) filters.add("team = ?", query.team);
    if (query.model !== undefined) filters.add("requested_model = ?", query.model);
    const status = query.httpStatus;
    if (status !== undefined) filters.add("http_status BETWEEN ? AND ?", status.from, status.to);
    const and = filters.and();
    const params = filters.params;
    // Failed requests by status: the partial index usage_not_ok holds only the rows that did not
    // end 200 (SQLite uses it only when the query repeats its condition).
    if (status !== undefined && !(status.from <= 200 && status.to >= 200)) {
      const sql = `SELECT ${USAGE_COLUMN_LIST} FROM usage INDEXED BY usage_not_ok WHERE http_status <> 200 AND time >= ? AND time < ?${and} ORDER BY time DESC, rowid DESC LIMIT ?`;
      return (this.statement(sql).all(since, until, ...params, limit) as Array<Record<string, unknown>>).map(usageRecordOf);
    }
    const owner = query.user !== undefined ? { column: "user", value: query.user } : query.team !== undefined ? { column: "team", value: query.team } : undefined;
    if (owner === undefined) {
      const sql = `SELECT ${USAGE_COLUMN_LIST} FROM usage WHERE time >= ? AND time < ?${and} ORDER BY time DESC, rowid DESC LIMIT ?`;
      return (this.statement(sql).all(since, until, ...params, limit) as Array<Record<string, unknown>>).map(usageRecordOf);
    }
    // The rows have no user or team index: find the hours this user (team) was active from the
    // hourly rollup's (user, hour) or (team, hour) index, newest first, and read those hours
    // through the time index.
    const hoursOf = this.statement(`SELECT DISTINCT hour FROM usage_hourly WHERE ${owner.column} = ? AND hour < ? AND hour >= ? ORDER BY hour DESC LIMIT 64`);
    const rowsIn = this.statement(`SELECT ${USAGE_COLUMN_LIST} FROM usage WHERE time >= ? AND time < ?${and} ORDER BY time DESC, rowid DESC LIMIT ?`);
    const firstHour = Math.floor(since / HOUR) * HOUR;
    const read = this.db.transaction(() => {
      const out: UsageRecord[] = [];
      let before = until;
      while (out.length < limit) {
        const hours = hoursOf.pluck().all(owner.value, before, firstHour) as number[];
        for (const hour of hours) {
          const from = Math.max(hour, since);
          const to = Math.min(hour + HOUR, until);
          for (const row of rowsIn.all(from, to, ...params, limit - out.length) as Array<Record<string, unknown>>) out.push(usageRecordOf(row));
          if (out.length >= limit) break;
        }
        if (hours.length < 64) break;
        before = hours.at(-1)!;
      }
      return out;
    });
    return read();
  }

  /**
   * Queues a refused request; it commits with the next write (a usage batch or one of its own, on
   * the next tick). Fire and forget: past `MAX_QUEUED_REFUSALS` waiting, or when the commit fails,
   * refusals are dropped and counted in `stats().refusalsDropped`.
   */
  recordRefusal(refusal: RefusalRecord): void {
    if (this.closing) return;
    if (this.refusalQueue.length >= MAX_QUEUED_REFUSALS) {
      this.counters.refusalsDropped++;
      return;
    }
    this.refusalQueue.push(refusalRow(refusal));
    this.schedule();
  }

  refusals(query: RecentQuery): RefusalRecord[] {
    return queryRefusals((sql) => this.statement(sql), query);
  }

  /** The fleet's outbox for refusals (see `rowsAfter`). */
  refusalsAfter(rowid: number, limit: number): Array<{ rowid: number; record: RefusalRecord }> {
    return refusalsAfter((sql) => this.statement(sql), rowid, limit);
  }

  lastRefusalRowid(): number {
    return lastRefusalRowid((sql) => this.statement(sql));
  }

  // The outbox of fleet mode (fleet/shipper.ts): committed rows in commit order. Rows are only ever
  // appended, by one writer, so a row's rowid is above every row committed before it: "rows after the
  // rowid last shipped" is exactly what the central store does not have yet. (Never VACUUM a ledger:
  // it may renumber rowids.)

  /** Up to `limit` committed rows with rowid above `rowid`, oldest first. */
  rowsAfter(rowid: number, limit: number): Array<{ rowid: number; record: UsageRecord }> {
    const rows = this.statement(`SELECT rowid AS row_id, ${USAGE_COLUMN_LIST} FROM usage WHERE rowid > ? ORDER BY rowid LIMIT ?`).all(rowid, limit) as Array<Record<string, unknown> & { row_id: number }>;
    return rows.map((row) => ({ rowid: row.row_id, record: usageRecordOf(row) }));
  }

  /** The rowid of the newest committed row; 0 for an empty ledger. */
  lastRowid(): number {
    return (this.statement("SELECT COALESCE(MAX(rowid), 0) FROM usage").pluck().get() as number) ?? 0;
  }

  /** Totals of rows with rowid above `rowid` and `time >= sinceMs` for a scope (the rows not yet shipped). */
  totalsAfter(rowid: number, scope: UsageScope, sinceMs: number): UsageTotals {
    const where = ["rowid > ?", "time >= ?"];
    const params: Array<string | number> = [rowid, sinceMs];
    if (scope.user !== undefined) (where.push("user = ?"), params.push(scope.user));
    if (scope.team !== undefined) (where.push("team = ?"), params.push(scope.team));
    if (scope.model !== undefined) (where.push("served_model = ?"), params.push(scope.model));
    const row = this.statement(`SELECT ${RAW_SUMS} FROM usage WHERE ${where.join(" AND ")}`).raw().get(...params) as Array<number | null>;
    return totalsOf(row.map((value) => value ?? 0) as AggregateRow["sums"]);
  }

  private schedule(): void {
    if (this.immediate !== undefined || this.timer !== undefined) return;
    const delay = this.options.flushDelayMs ?? 0;
    if (delay > 0) this.timer = setTimeout(() => this.flush(), delay);
    else this.immediate = setImmediate(() => this.flush());
  }

  private unschedule(): void {
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.immediate = undefined;
    this.timer = undefined;
  }

  private setHealth(ok: boolean, error: LedgerError | undefined): void {
    if (error !== undefined) this.lastError = error;
    if (ok === this.ok) return;
    this.ok = ok;
    if (!ok && this.probeTimer === undefined && !this.closing) {
      this.probeTimer = setInterval(() => void this.probe(), this.options.probeIntervalMs ?? 1000);
      this.probeTimer.unref();
    } else if (ok && this.probeTimer !== undefined) {
      clearInterval(this.probeTimer);
      this.probeTimer = undefined;
    }
    callHook(() => this.options.onHealthChange?.(ok, error));
  }

  private notifyFlush(event: FlushEvent): void {
    callHook(() => this.options.onFlush?.(event));
  }

  private statement(sql: string): Database.Statement {
    if (this.closing) throw new LedgerError("closed", "The usage ledger is closed.");
    let stmt = this.statements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }
}

/** The writer thread's bundle beside the CLI's (esbuild.config.mjs builds both). */
const BUNDLED_WRITER = "./ledger-writer-thread.js";

/**
 * Starts writer-thread.ts: the bundled file when this module is the bundle; from the source (vitest,
 * tsx, the benchmarks), through tsx's require hook in a small bootstrap, because a worker thread does
 * not inherit the loader that runs this module.
 */
function startWriterThread(workerData: WriterWorkerData): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL(BUNDLED_WRITER, import.meta.url), { workerData });
  const require = createRequire(import.meta.url);
  const source = fileURLToPath(new URL("./writer-thread.ts", import.meta.url));
  const bootstrap = `require(${JSON.stringify(require.resolve("tsx/cjs/api"))}).register(); require(${JSON.stringify(source)});`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/** A hook that throws must not undo acknowledgements already given: report it as uncaught. */
function callHook(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

function writeFailure(error: WriterFailure, records: number): LedgerError {
  return new LedgerError(
    "write_failed",
    error.fileGone
      ? error.message
      : `The usage ledger could not commit${records > 0 ? ` ${records} record(s)` : ""}: ${error.message}${error.sqliteCode !== undefined ? ` (${error.sqliteCode})` : ""}`,
    { sqliteCode: error.sqliteCode },
  );
}

function totalsOf(sums: AggregateRow["sums"]): UsageTotals {
  const [requests, inputTokens, cacheReadTokens, cacheWriteTokens, outputTokens, costPicoUsd] = sums;
  return { requests, costPicoUsd, inputTokens, cacheReadTokens, cacheWriteTokens, outputTokens };
}

/** Adds up one output row's groups; `modelAt` is where the served model is in `keys` (for savings). */
function combine(key: string, rows: AggregateRow[], savings: UsageQuery["cacheSavings"], modelAt = 0): UsageRow | undefined {
  if (rows.length === 0) return undefined;
  const total: AggregateRow["sums"] = [0, 0, 0, 0, 0, 0];
  for (const r of rows) for (let i = 0; i < 6; i++) total[i]! += r.sums[i]!;
  const out: UsageRow = { key, ...totalsOf(total) };
  if (savings !== undefined) {
    out.cacheSavingsPicoUsd = 0;
    for (const r of rows) out.cacheSavingsPicoUsd += savings(r.keys[modelAt] ?? "", r.sums[2], r.sums[3]);
  }
  return out;
}

const STATUSES: ReadonlySet<string> = new Set<UsageStatus>(["ok", "error", "cancelled"]);

/** Validates a record and returns its insert parameters; throws `LedgerError("invalid_record")`. */
function toRow(r: UsageRecord): UsageInsertRow {
  const bad = (field: string, want: string): never => {
    const id = typeof r?.id === "string" ? ` "${r.id}"` : "";
    throw new LedgerError("invalid_record", `Usage record${id}: ${field} must be ${want}.`);
  };
  if (typeof r !== "object" || r === null) bad("the record", "an object");
  if (typeof r.id !== "string" || r.id.length === 0) bad("id", "a non-empty string");
  if (!Number.isSafeInteger(r.time)) bad("time", "an integer (ms epoch)");
  for (const f of ["user", "team", "requestedModel", "servedModel"] as const) if (typeof r[f] !== "string") bad(f, "a string");
  for (const f of ["project", "deployment", "errorCode"] as const) if (r[f] !== null && typeof r[f] !== "string") bad(f, "a string or null");
  if (!STATUSES.has(r.status)) bad("status", '"ok", "error" or "cancelled"');
  if (!Number.isSafeInteger(r.httpStatus)) bad("httpStatus", "an integer");
  for (const f of ["inputTokens", "cacheReadTokens", "cacheWriteTokens", "outputTokens", "costPicoUsd", "fallbacks"] as const) {
    if (!Number.isSafeInteger(r[f]) || r[f] < 0) bad(f, "a non-negative integer");
  }
  if (!Number.isFinite(r.latencyMs) || r.latencyMs < 0) bad("latencyMs", "a non-negative number");
  if (r.ttftMs !== null && (!Number.isFinite(r.ttftMs) || r.ttftMs < 0)) bad("ttftMs", "a non-negative number or null");
  if (r.usageEstimated !== undefined && typeof r.usageEstimated !== "boolean") bad("usageEstimated", "a boolean");
  return usageRow(r);
}
