// Refused requests in PostgreSQL (migration 0002): idempotent batch inserts from every broker's
// outbox, reads with `recent`'s filters, and the retention the SQLite ledgers keep too.
import type pg from "pg";
import { fromRefusalRow, REFUSAL_RETENTION_MS } from "../ledger/refusals.js";
import { recentLimit, type RecentQuery, type RefusalRecord } from "../ledger/types.js";
import { centralError } from "./errors.js";
import { recentWhere, unnestInsertSql, unnestParams } from "./usage-queries.js";

export type ShippedRefusal = RefusalRecord & { instanceId: string };

const COLUMNS = [
  ["id", "text"],
  ["instance_id", "text"],
  ["time", "bigint"],
  ['"user"', "text"],
  ["team", "text"],
  ["project", "text"],
  ["model", "text"],
  ["http_status", "integer"],
  ["code", "text"],
  ["reason", "text"],
  ["limit_name", "text"],
  ["limit_scope", "text"],
  ["key_hash_prefix", "text"],
  ["client", "text"],
  ["latency_ms", "integer"],
] as const;

const INSERT_SQL = unnestInsertSql("refusals", COLUMNS);

export class RefusalQueries {
  constructor(private readonly pool: pg.Pool) {}

  async insert(rows: readonly ShippedRefusal[]): Promise<void> {
    if (rows.length === 0) return;
    const columns = unnestParams(
      COLUMNS.length,
      rows.map((r) => [r.id, r.instanceId, r.time, r.user, r.team, r.project, r.model, r.httpStatus, r.code, r.reason, r.limitName, r.limitScope, r.keyHashPrefix, r.client, r.latencyMs]),
    );
    try {
      await this.pool.query(INSERT_SQL, columns);
    } catch (error) {
      throw centralError(error, "insert of refusals");
    }
  }

  async recent(query: RecentQuery): Promise<RefusalRecord[]> {
    const where = recentWhere(query, "model");
    try {
      const { rows } = await this.pool.query(`SELECT * FROM refusals ${where.text()} ORDER BY time DESC, received_at DESC, id DESC LIMIT ${where.param(recentLimit(query))}`, where.params);
      return rows.map(fromRefusalRow);
    } catch (error) {
      throw centralError(error, "refusals");
    }
  }

  /** Deletes refusals past the retention (any broker may; it is idempotent). */
  async prune(now = Date.now()): Promise<number> {
    try {
      const result = await this.pool.query("DELETE FROM refusals WHERE time < $1", [now - REFUSAL_RETENTION_MS]);
      return result.rowCount ?? 0;
    } catch (error) {
      throw centralError(error, "refusal retention");
    }
  }
}
