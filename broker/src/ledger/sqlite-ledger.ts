// The durable usage ledger: SQLite (better-sqlite3) in WAL mode with group commit.
//
// FIGURES_PLACEHOLDER
import { closeSync, fchmodSync, openSync, statSync, chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import { LedgerError, sqliteCodeOf } from "./errors.js";
import { assertSupportedVersion, migrate } from "./schema.js";
import { dayBuckets } from "./time-zone.js";
import {
  teamModelKey,
  type ActivityRow,
  type RecentQuery,
  type SpendByScope,
  type UsageLedger,
  type UsageQuery,
  type UsageRecord,
  type UsageRow,
  type UsageScope,
  type UsageStatus,
  type UsageTotals,
} from "./types.js";

export const LEDGER_FILE_NAME = "ledger.sqlite";

export interface SqliteLedgerOptions {
  /**
   * SQLite's `synchronous` in WAL mode. "NORMAL" (default): a commit is durable once written to the
   * WAL, which survives a killed or crashed broker process but not a power loss / kernel panic
   * (the WAL is fsynced at checkpoints). "FULL": fsync on every commit; survives power loss.
   */
  synchronous?: "NORMAL" | "FULL";
  /** Flush at once when this many records are queued. Default 1000. */
  maxBatch?: number;
  /** 0 (default): flush on the next `setImmediate`; > 0: wait up to this many ms to gather a batch. */
  flushDelayMs?: number;
  /** While unhealthy, probe with a small write this often (ms) to notice recovery. Default 1000. */
  probeIntervalMs?: number;
  /** How long a commit waits for another connection's write lock (blocks the event loop). Default 200. */
  busyTimeoutMs?: number;
  /** Called after every commit attempt: for metrics, and for tests that count transactions. */
  onFlush?: (event: FlushEvent) => void;
  /** Called when `healthy()` changes. */
  onHealthChange?: (healthy: boolean, error: LedgerError | undefined) => void;
}

export interface FlushEvent {
  records: number;
  ok: boolean;
  durationMs: number;
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
}

interface Pending {
  row: RowParams;
  resolve: () => void;
  reject: (error: LedgerError) => void;
  error: LedgerError | undefined;
}

type RowParams = [
  string, number, string, string, string | null, string, string, string | null, UsageStatus, number,
  number, number, number, number, number, number, number | null, number, string | null,
];

const COLUMNS =
  "id, time, user, team, project, requested_model, served_model, deployment, status, http_status, " +
  "input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, cost_pico_usd, latency_ms, ttft_ms, fallbacks, error_code";

const SUMS =
  "COUNT(*) AS requests, COALESCE(SUM(input_tokens), 0) AS inputTokens, COALESCE(SUM(cache_read_tokens), 0) AS cacheReadTokens, " +
  "COALESCE(SUM(cache_write_tokens), 0) AS cacheWriteTokens, COALESCE(SUM(output_tokens), 0) AS outputTokens, " +
  "COALESCE(SUM(cost_pico_usd), 0) AS costPicoUsd";

interface RecordRow {
  id: string;
  time: number;
  user: string;
  team: string;
  project: string | null;
  requested_model: string;
  served_model: string;
  deployment: string | null;
  status: UsageStatus;
  http_status: number;
  input_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
  cost_pico_usd: number;
  latency_ms: number;
  ttft_ms: number | null;
  fallbacks: number;
  error_code: string | null;
}

interface SumRow extends UsageTotals {
  key?: string;
  model?: string;
}

const DEFAULT_RECENT_LIMIT = 50;
const MAX_RECENT_LIMIT = 1000;

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
    db.pragma(`synchronous = ${options.synchronous ?? "NORMAL"}`);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 200))}`);
    db.pragma("cache_size = -32000"); // 32 MB of page cache for the 1M-row queries
    db.pragma("journal_size_limit = 67108864"); // truncate the WAL back to 64 MB after a checkpoint
    migrate(db);
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

export class SqliteLedger implements UsageLedger {
  readonly path: string;
  /** The most recent write failure (kept after recovery, for diagnostics); `healthy()` is the state. */
  lastError: LedgerError | undefined;

  private readonly db: Database.Database;
  private readonly options: SqliteLedgerOptions;
  private readonly maxBatch: number;
  private readonly fileIdentity: { dev: number; ino: number };
  private queue: Pending[] = [];
  private immediate: NodeJS.Immediate | undefined;
  private timer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private ok = true;
  private closing = false;
  private readonly counters = { transactions: 0, failedTransactions: 0, recordsWritten: 0, recordsRejected: 0, largestBatch: 0 };

  private readonly insertBatch: (batch: Pending[]) => void;
  private readonly heartbeat: Database.Statement;
  private readonly statements = new Map<string, Database.Statement>();

  /** Use `openSqliteLedger`. */
  constructor(db: Database.Database, path: string, options: SqliteLedgerOptions = {}) {
    this.db = db;
    this.path = path;
    this.options = options;
    this.maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 1000));
    const st = statSync(path);
    this.fileIdentity = { dev: st.dev, ino: st.ino };

    const insert = db.prepare(`INSERT INTO usage (${COLUMNS}) VALUES (${Array(19).fill("?").join(", ")})`);
    this.insertBatch = db.transaction((batch: Pending[]) => {
      for (const p of batch) {
        try {
          insert.run(p.row);
        } catch (error) {
          // A constraint failure aborts only that statement; anything else (I/O, full, readonly,
          // busy) may have ended the transaction, so it fails the whole batch.
          const code = sqliteCodeOf(error);
          if (code === undefined || !code.startsWith("SQLITE_CONSTRAINT")) throw error;
          p.error =
            code === "SQLITE_CONSTRAINT_PRIMARYKEY"
              ? new LedgerError("duplicate_id", `A usage record with id "${p.row[0]}" is already in the ledger.`, { cause: error })
              : new LedgerError("invalid_record", `Usage record "${p.row[0]}" violates the ledger schema: ${(error as Error).message}`, { cause: error });
        }
      }
    });
    this.heartbeat = db.prepare(
      "INSERT INTO ledger_meta (key, value) VALUES ('heartbeat', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
  }

  /** False after a commit failed, until a later write (an append's or the probe's) succeeds. */
  healthy(): boolean {
    return this.ok;
  }

  stats(): LedgerStats {
    return { ...this.counters, queued: this.queue.length };
  }

  append(record: UsageRecord): Promise<void> {
    if (this.closing) return Promise.reject(new LedgerError("closed", "The usage ledger is closed."));
    let row: RowParams;
    try {
      row = toRow(record);
    } catch (error) {
      this.counters.recordsRejected++;
      return Promise.reject(error);
    }
    const promise = new Promise<void>((resolve, reject) => {
      this.queue.push({ row, resolve, reject, error: undefined });
    });
    if (this.queue.length >= this.maxBatch) this.flush();
    else this.schedule();
    return promise;
  }

  /** Commits everything queued now, in one transaction. */
  flush(): void {
    this.unschedule();
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const started = performance.now();
    try {
      this.checkFile();
      this.insertBatch(batch);
    } catch (error) {
      const failure = writeFailure(error, batch.length);
      this.counters.failedTransactions++;
      this.counters.recordsRejected += batch.length;
      for (const p of batch) p.reject(failure);
      this.setHealth(false, failure);
      this.notifyFlush({ records: batch.length, ok: false, durationMs: performance.now() - started, error: failure });
      return;
    }
    this.counters.transactions++;
    this.counters.largestBatch = Math.max(this.counters.largestBatch, batch.length);
    for (const p of batch) {
      if (p.error === undefined) {
        this.counters.recordsWritten++;
        p.resolve();
      } else {
        this.counters.recordsRejected++;
        p.reject(p.error);
      }
    }
    this.setHealth(true, undefined);
    this.notifyFlush({ records: batch.length, ok: true, durationMs: performance.now() - started });
  }

  /** Tries a small write now (flushing the queue if there is one); returns `healthy()`. */
  probe(): boolean {
    if (this.closing) return false;
    if (this.queue.length > 0) {
      this.flush();
      return this.ok;
    }
    try {
      this.checkFile();
      this.heartbeat.run(Date.now());
      this.setHealth(true, undefined);
    } catch (error) {
      this.setHealth(false, writeFailure(error, 0));
    }
    return this.ok;
  }

  totals(scope: UsageScope, sinceMs: number): UsageTotals {
    const filters: string[] = ["time >= ?"];
    const params: unknown[] = [sinceMs];
    if (scope.user !== undefined) (filters.push("user = ?"), params.push(scope.user));
    if (scope.team !== undefined) (filters.push("team = ?"), params.push(scope.team));
    if (scope.model !== undefined) (filters.push("served_model = ?"), params.push(scope.model));
    const row = this.statement(`SELECT ${SUMS} FROM usage WHERE ${filters.join(" AND ")}`).get(params) as SumRow;
    return totalsOf(row);
  }

  recentActivity(sinceMs: number): ActivityRow[] {
    return this.statement(
      "SELECT time, user, team, served_model AS servedModel, " +
        "input_tokens + cache_read_tokens + cache_write_tokens + output_tokens AS tokens, cost_pico_usd AS costPicoUsd " +
        "FROM usage WHERE time >= ? ORDER BY time, rowid",
    ).all(sinceMs) as ActivityRow[];
  }

  spendByScope(sinceMs: number): SpendByScope {
    // One pass, summed as BigInt so totals past 2^53 pico-USD (~$9,007) round only once, at the end.
    const rows = this.statement(
      "SELECT user, team, served_model AS model, SUM(cost_pico_usd) AS cost FROM usage WHERE time >= ? GROUP BY user, team, served_model",
    )
      .safeIntegers(true)
      .all(sinceMs) as Array<{ user: string; team: string; model: string; cost: bigint }>;
    const users = new Map<string, bigint>();
    const teams = new Map<string, bigint>();
    const teamModels = new Map<string, bigint>();
    const add = (map: Map<string, bigint>, key: string, value: bigint): void => {
      map.set(key, (map.get(key) ?? 0n) + value);
    };
    for (const r of rows) {
      add(users, r.user, r.cost);
      add(teams, r.team, r.cost);
      add(teamModels, teamModelKey(r.team, r.model), r.cost);
    }
    const toNumbers = (map: Map<string, bigint>): Map<string, number> => new Map([...map].map(([k, v]) => [k, Number(v)]));
    return { users: toNumbers(users), teams: toNumbers(teams), teamModels: toNumbers(teamModels) };
  }

  usage(query: UsageQuery): UsageRow[] {
    const filters = ["time >= ?", "time < ?"];
    const filterParams: unknown[] = [];
    if (query.user !== undefined) (filters.push("user = ?"), filterParams.push(query.user));
    if (query.team !== undefined) (filters.push("team = ?"), filterParams.push(query.team));
    const where = filters.join(" AND ");
    const savings = query.cacheSavings;
    const byModel = savings !== undefined;

    if (query.groupBy === "day") {
      const buckets = dayBuckets(query.from, query.to, query.timezone);
      const stmt = this.statement(
        `SELECT ${byModel ? "served_model AS model, " : ""}${SUMS} FROM usage WHERE ${where}${byModel ? " GROUP BY served_model" : ""}`,
      );
      // One read transaction: every bucket sees the same snapshot.
      const read = this.db.transaction(() =>
        buckets.map((b) => ({ key: b.key, rows: stmt.all(b.start, b.end, ...filterParams) as SumRow[] })),
      );
      const out: UsageRow[] = [];
      for (const { key, rows } of read()) {
        const row = combine(key, rows, savings);
        if (row !== undefined && row.requests > 0) out.push(row);
      }
      return out;
    }

    const keyExpr = { model: "served_model", project: "COALESCE(project, '')", user: "user", team: "team" }[query.groupBy];
    if (keyExpr === undefined) throw new LedgerError("invalid_query", `Unknown usage grouping "${String(query.groupBy)}".`);
    const rows = this.statement(
      `SELECT ${keyExpr} AS key, ${byModel ? "served_model AS model, " : ""}${SUMS} FROM usage WHERE ${where} ` +
        `GROUP BY ${keyExpr}${byModel ? ", served_model" : ""}`,
    ).all(query.from, query.to, ...filterParams) as SumRow[];
    const groups = new Map<string, SumRow[]>();
    for (const r of rows) {
      const key = r.key ?? "";
      const list = groups.get(key);
      if (list === undefined) groups.set(key, [r]);
      else list.push(r);
    }
    const out: UsageRow[] = [];
    for (const [key, list] of groups) {
      const row = combine(key, list, savings);
      if (row !== undefined) out.push(row);
    }
    return out.sort((a, b) => b.costPicoUsd - a.costPicoUsd || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  recent(query: RecentQuery): UsageRecord[] {
    const requested = query.limit ?? DEFAULT_RECENT_LIMIT;
    const limit = Number.isFinite(requested) ? Math.min(MAX_RECENT_LIMIT, Math.max(1, Math.floor(requested))) : DEFAULT_RECENT_LIMIT;
    const rows =
      query.user === undefined
        ? this.statement(`SELECT ${COLUMNS} FROM usage ORDER BY time DESC, rowid DESC LIMIT ?`).all(limit)
        : this.statement(`SELECT ${COLUMNS} FROM usage WHERE user = ? ORDER BY time DESC, rowid DESC LIMIT ?`).all(query.user, limit);
    return (rows as RecordRow[]).map(fromRow);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.flush();
    this.closing = true;
    this.unschedule();
    if (this.probeTimer !== undefined) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    try {
      this.db.pragma("wal_checkpoint(TRUNCATE)");
    } catch {
      // Best effort: the WAL is replayed on the next open anyway.
    }
    this.db.close();
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

  /** Fails if the ledger file was deleted or replaced: SQLite would go on writing to the orphan. */
  private checkFile(): void {
    const st = statSync(this.path, { throwIfNoEntry: false });
    if (st === undefined || st.ino !== this.fileIdentity.ino || st.dev !== this.fileIdentity.dev) {
      throw new LedgerError(
        "write_failed",
        `The usage ledger file ${this.path} was ${st === undefined ? "deleted or its directory moved" : "replaced"} while the broker had it open; ` +
          "restore it (or restart the broker) to record usage again.",
      );
    }
  }

  private setHealth(ok: boolean, error: LedgerError | undefined): void {
    if (error !== undefined) this.lastError = error;
    if (ok === this.ok) return;
    this.ok = ok;
    if (!ok && this.probeTimer === undefined && !this.closing) {
      this.probeTimer = setInterval(() => this.probe(), this.options.probeIntervalMs ?? 1000);
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

function writeFailure(error: unknown, records: number): LedgerError {
  if (LedgerError.is(error)) return error;
  const code = sqliteCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return new LedgerError(
    "write_failed",
    `The usage ledger could not commit${records > 0 ? ` ${records} record(s)` : ""}: ${message}${code !== undefined ? ` (${code})` : ""}`,
    { cause: error },
  );
}

function totalsOf(r: SumRow): UsageTotals {
  return {
    requests: r.requests,
    costPicoUsd: r.costPicoUsd,
    inputTokens: r.inputTokens,
    cacheReadTokens: r.cacheReadTokens,
    cacheWriteTokens: r.cacheWriteTokens,
    outputTokens: r.outputTokens,
  };
}

function combine(key: string, rows: SumRow[], savings: UsageQuery["cacheSavings"]): UsageRow | undefined {
  const first = rows[0];
  if (first === undefined) return undefined;
  const out: UsageRow = { key, ...totalsOf(first) };
  for (const r of rows.slice(1)) {
    out.requests += r.requests;
    out.inputTokens += r.inputTokens;
    out.cacheReadTokens += r.cacheReadTokens;
    out.cacheWriteTokens += r.cacheWriteTokens;
    out.outputTokens += r.outputTokens;
    out.costPicoUsd += r.costPicoUsd;
  }
  if (savings !== undefined) {
    out.cacheSavingsPicoUsd = 0;
    for (const r of rows) {
      if (r.requests > 0) out.cacheSavingsPicoUsd += savings(r.model ?? "", r.cacheReadTokens, r.cacheWriteTokens);
    }
  }
  return out;
}

function fromRow(r: RecordRow): UsageRecord {
  return {
    id: r.id,
    time: r.time,
    user: r.user,
    team: r.team,
    project: r.project,
    requestedModel: r.requested_model,
    servedModel: r.served_model,
    deployment: r.deployment,
    status: r.status,
    httpStatus: r.http_status,
    inputTokens: r.input_tokens,
    cacheReadTokens: r.cache_read_tokens,
    cacheWriteTokens: r.cache_write_tokens,
    outputTokens: r.output_tokens,
    costPicoUsd: r.cost_pico_usd,
    latencyMs: r.latency_ms,
    ttftMs: r.ttft_ms,
    fallbacks: r.fallbacks,
    errorCode: r.error_code,
  };
}

const STATUSES: ReadonlySet<string> = new Set<UsageStatus>(["ok", "error", "cancelled"]);

/** Validates a record and returns its insert parameters; throws `LedgerError("invalid_record")`. */
function toRow(r: UsageRecord): RowParams {
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
  return [
    r.id, r.time, r.user, r.team, r.project, r.requestedModel, r.servedModel, r.deployment, r.status, r.httpStatus,
    r.inputTokens, r.cacheReadTokens, r.cacheWriteTokens, r.outputTokens, r.costPicoUsd,
    Math.round(r.latencyMs), r.ttftMs === null ? null : Math.round(r.ttftMs), r.fallbacks, r.errorCode,
  ];
}
