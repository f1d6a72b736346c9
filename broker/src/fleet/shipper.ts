// Ships the local ledger's committed rows to the central store (PostgreSQL), in batches: usage rows,
// and refused requests (their own table and cursor, shipped alongside).
//
// The local SQLite ledger stays the write path: a request's row is committed there before the
// response's last byte, as in embedded mode. This shipper is the transactional outbox's relay: it
// reads rows past the cursor (the rowid last shipped), inserts them into PostgreSQL in one
// transaction keyed by request id (ON CONFLICT DO NOTHING), and only after PostgreSQL committed
// moves the cursor, in a file written atomically. A crash between the two re-sends a batch the
// central store already holds, which it ignores: nothing is lost, nothing counts twice.
//
// While PostgreSQL is unreachable the broker keeps serving and the outbox (rows past the cursor)
// grows; `status()` says since when and how many rows wait. Past `maxWaitingRows` the broker refuses
// new requests (see `full()`): the rows are safe on disk, but an org whose central store has been
// gone that long should notice rather than have every host fill its disk.
import { open, rename, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { SqliteLedger } from "../ledger/sqlite-ledger.js";
import type { RefusalRecord, UsageRecord } from "../ledger/types.js";
import type { Logger } from "../log.js";

/** Where shipped rows go: `CentralStore.insertUsage` and `insertRefusals`. */
export interface CentralUsageSink {
  insertUsage(rows: ReadonlyArray<UsageRecord & { instanceId: string }>): Promise<{ inserted: number }>;
  insertRefusals(rows: ReadonlyArray<RefusalRecord & { instanceId: string }>): Promise<void>;
}

interface Cursor {
  /** The rowid of the last usage row the central store has confirmed. */
  usage: number;
  /** The same for the refusals table. */
  refusals: number;
}

export interface ShipperOptions {
  ledger: SqliteLedger;
  central: CentralUsageSink;
  instanceId: string;
  dataDir: string;
  logger: Logger;
  /** Rows per PostgreSQL transaction. */
  batchSize?: number;
  /** How often an idle shipper looks for new rows (appends also wake it). */
  pollMs?: number;
  /** Past this many unshipped rows new requests are refused (the outbox's bound). */
  maxWaitingRows?: number;
}

export interface ShipperStatus {
  /** Rows committed locally and not yet in the central store. */
  waitingRows: number;
  /** Since when the central store has refused or not answered; undefined while shipping works. */
  unreachableSince: Date | undefined;
  lastError: string | undefined;
  shippedRows: number;
  maxWaitingRows: number;
}

export const CURSOR_FILE_NAME = "outbox-cursor.json";
export const DEFAULT_MAX_WAITING_ROWS = 2_000_000;
const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_POLL_MS = 100;
const MAX_BACKOFF_MS = 5_000;

export class Shipper {
  private readonly ledger: SqliteLedger;
  private readonly central: CentralUsageSink;
  private readonly instanceId: string;
  private readonly cursorPath: string;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly pollMs: number;
  readonly maxWaitingRows: number;
  private cursor = 0;
  private refusalCursor = 0;
  private shipped = 0;
  private unreachableSince: Date | undefined;
  private lastError: string | undefined;
  private backoffMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Work that must not overlap a batch in flight (see `paused`). */
  private lock: Promise<void> = Promise.resolve();

  constructor(options: ShipperOptions) {
    this.ledger = options.ledger;
    this.central = options.central;
    this.instanceId = options.instanceId;
    this.cursorPath = join(options.dataDir, CURSOR_FILE_NAME);
    this.logger = options.logger;
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.maxWaitingRows = options.maxWaitingRows ?? DEFAULT_MAX_WAITING_ROWS;
  }

  /** Reads the cursor and starts shipping (what a killed broker had committed goes first). */
  async start(): Promise<void> {
    const cursor = await readCursor(this.cursorPath);
    this.cursor = cursor.usage;
    this.refusalCursor = cursor.refusals;
    const last = this.ledger.lastRowid();
    // A ledger file replaced by a fresh one: ship all of it again (the central store skips what it has).
    if (this.cursor > last || this.refusalCursor > this.ledger.lastRefusalRowid()) {
      this.logger.warn({ cursor: this.cursor, lastRowid: last }, "the outbox cursor is past the ledger's last row (a new ledger file?): shipping it whole again");
      this.cursor = 0;
      this.refusalCursor = 0;
    }
    this.schedule(0);
  }

  /** The rowid of the last row the central store has confirmed. */
  get shippedThrough(): number {
    return this.cursor;
  }

  status(): ShipperStatus {
    return {
      waitingRows: Math.max(0, this.ledger.lastRowid() - this.cursor),
      unreachableSince: this.unreachableSince,
      lastError: this.lastError,
      shippedRows: this.shipped,
      maxWaitingRows: this.maxWaitingRows,
    };
  }

  /** Whether the outbox reached its bound (new requests are then refused). */
  full(): boolean {
    return this.unreachableSince !== undefined && this.ledger.lastRowid() - this.cursor >= this.maxWaitingRows;
  }

  /**
   * A row was just committed. Rows ship at the next poll (within `pollMs`), many per transaction;
   * only a full batch goes at once. Shipping per row would cost a PostgreSQL commit and a cursor
   * write per request, on the same CPUs as the requests.
   */
  wake(): void {
    if (this.backoffMs === 0 && this.ledger.lastRowid() - this.cursor >= this.batchSize) this.schedule(0);
  }

  /**
   * Runs `fn` while no batch is in flight, so "in the central store" and "past the cursor" split the
   * rows exactly (no row is in both or neither).
   */
  paused<T>(fn: (shippedThrough: number) => T | Promise<T>): Promise<T> {
    const run = this.lock.then(() => fn(this.cursor));
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Stops polling; ships what it can within `deadlineMs` first (a clean shutdown leaves little behind). */
  async stop(deadlineMs = 2_000): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + deadlineMs;
    await this.running;
    while (!this.stopped && this.unreachableSince === undefined && (this.ledger.lastRowid() > this.cursor || this.ledger.lastRefusalRowid() > this.refusalCursor) && Date.now() < deadline) {
      await this.shipOnce();
    }
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.running) return void this.running.then(() => this.schedule(0));
      this.running = this.drain().finally(() => (this.running = undefined));
    }, delayMs);
    this.timer.unref();
  }

  /** Ships batches until the outbox is empty or the central store fails, then schedules the next look. */
  private async drain(): Promise<void> {
    let more = true;
    while (more && !this.stopped) more = await this.shipOnce();
    this.schedule(this.backoffMs > 0 ? this.backoffMs : this.pollMs);
  }

  /** One batch (of usage rows and of refusals); true when a full batch went out (there may be more). */
  private shipOnce(): Promise<boolean> {
    return this.paused(async () => {
      const rows = this.ledger.rowsAfter(this.cursor, this.batchSize);
      const refusals = this.ledger.refusalsAfter(this.refusalCursor, this.batchSize);
      if (rows.length === 0 && refusals.length === 0) return false;
      try {
        if (rows.length > 0) await this.central.insertUsage(rows.map(({ record }) => ({ ...record, instanceId: this.instanceId })));
        if (refusals.length > 0) await this.central.insertRefusals(refusals.map(({ record }) => ({ ...record, instanceId: this.instanceId })));
      } catch (error) {
        this.failed(error, rows.length);
        return false;
      }
      const through = { usage: rows.at(-1)?.rowid ?? this.cursor, refusals: refusals.at(-1)?.rowid ?? this.refusalCursor };
      await writeCursor(this.cursorPath, through);
      this.cursor = through.usage;
      this.refusalCursor = through.refusals;
      this.shipped += rows.length;
      if (this.unreachableSince !== undefined) {
        this.logger.info({ downSince: this.unreachableSince.toISOString(), waitingRows: this.status().waitingRows }, "central store reachable again: shipping the outbox");
      }
      this.unreachableSince = undefined;
      this.lastError = undefined;
      this.backoffMs = 0;
      return rows.length === this.batchSize || refusals.length === this.batchSize;
    });
  }

  private failed(error: unknown, rows: number): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.unreachableSince === undefined) {
      this.unreachableSince = new Date();
      this.logger.warn({ err: error, rows }, "central store unreachable: rows wait in the local outbox and ship when it returns");
    }
    this.lastError = message;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(250, this.backoffMs * 2));
  }
}

async function readCursor(path: string): Promise<Cursor> {
  const rowid = (value: unknown): number => (typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : 0);
  try {
    // A cursor file of a broker before refusals were recorded has only the usage cursor.
    const parsed = JSON.parse(await readFile(path, "utf8")) as { shippedThroughRowid?: unknown; refusalsShippedThroughRowid?: unknown };
    return { usage: rowid(parsed.shippedThroughRowid), refusals: rowid(parsed.refusalsShippedThroughRowid) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { usage: 0, refusals: 0 };
    throw error;
  }
}

/** Write, fsync, rename: after a crash the file holds the old cursor or the new one, never half. */
async function writeCursor(path: string, cursor: Cursor): Promise<void> {
  const temp = `${path}.tmp`;
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(`${JSON.stringify({ shippedThroughRowid: cursor.usage, refusalsShippedThroughRowid: cursor.refusals })}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}
