// Refused requests in the SQLite ledger (table `refusals`, migration 3): their row layout, the
// validation before they are queued, and the reads. They are written by the writer thread with the
// next usage batch (writer-thread.ts), fire and forget: a refusal is a diagnostic, not spend, so a
// request never waits for its refusal to commit.
import type Database from "better-sqlite3";
import { SqlFilters } from "./sql-filters.js";
import { recentLimit, type RecentQuery, type RefusalRecord } from "./types.js";

/** Kept this long; older rows are deleted by the writer thread about once an hour. */
export const REFUSAL_RETENTION_MS = 30 * 86_400_000;

export const REFUSAL_COLUMNS =
  "id, time, user, team, project, model, http_status, code, reason, limit_name, limit_scope, key_hash_prefix, client, latency_ms";

/** A duplicate id (a request refused twice cannot happen; a re-shipped batch can) is ignored. */
export const INSERT_REFUSAL_SQL = `INSERT OR IGNORE INTO refusals (${REFUSAL_COLUMNS}) VALUES (${Array(14).fill("?").join(", ")})`;
/**
 * The newest row always stays: rowids come from MAX(rowid) + 1, and the fleet's shipper reads "rows
 * past the rowid shipped last", so the largest rowid must never go back.
 */
export const PRUNE_REFUSALS_SQL = "DELETE FROM refusals WHERE time < ? AND rowid < (SELECT MAX(rowid) FROM refusals)";

export type RefusalRow = [
  string, number, string | null, string | null, string | null, string | null, number, string,
  string | null, string | null, string | null, string | null, string | null, number,
];

/** Messages are ours, but cap them: a refusal row stays small whatever a message grows into. */
const MAX_REASON_CHARS = 500;

export function refusalRow(r: RefusalRecord): RefusalRow {
  return [
    r.id, Math.trunc(r.time), r.user, r.team, r.project, r.model, Math.trunc(r.httpStatus), r.code,
    r.reason === null ? null : r.reason.slice(0, MAX_REASON_CHARS), r.limitName, r.limitScope, r.keyHashPrefix, r.client,
    Math.max(0, Math.round(r.latencyMs)),
  ];
}

interface StoredRefusal {
  id: string;
  time: number;
  user: string | null;
  team: string | null;
  project: string | null;
  model: string | null;
  http_status: number;
  code: string;
  reason: string | null;
  limit_name: string | null;
  limit_scope: string | null;
  key_hash_prefix: string | null;
  client: string | null;
  latency_ms: number;
}

export function fromRefusalRow(r: StoredRefusal): RefusalRecord {
  return {
    id: r.id,
    time: Number(r.time),
    user: r.user,
    team: r.team,
    project: r.project,
    model: r.model,
    httpStatus: r.http_status,
    code: r.code,
    reason: r.reason,
    limitName: r.limit_name,
    limitScope: r.limit_scope,
    keyHashPrefix: r.key_hash_prefix,
    client: r.client,
    latencyMs: Number(r.latency_ms),
  };
}

type Prepare = (sql: string) => Database.Statement;

/** Most recent first, through the time index (the table is small: refusals are capped and pruned). */
export function queryRefusals(prepare: Prepare, query: RecentQuery): RefusalRecord[] {
  const filters = new SqlFilters();
  if (query.user !== undefined) filters.add("user = ?", query.user);
  if (query.team !== undefined) filters.add("team = ?", query.team);
  if (query.model !== undefined) filters.add("model = ?", query.model);
  if (query.httpStatus !== undefined) filters.add("http_status BETWEEN ? AND ?", query.httpStatus.from, query.httpStatus.to);
  if (query.since !== undefined) filters.add("time >= ?", query.since);
  if (query.until !== undefined) filters.add("time < ?", query.until);
  const sql = `SELECT ${REFUSAL_COLUMNS} FROM refusals ${filters.where()} ORDER BY time DESC, rowid DESC LIMIT ?`;
  return (prepare(sql).all(...filters.params, recentLimit(query)) as StoredRefusal[]).map(fromRefusalRow);
}

/** The fleet's outbox for refusals: committed rows past `rowid`, oldest first. */
export function refusalsAfter(prepare: Prepare, rowid: number, limit: number): Array<{ rowid: number; record: RefusalRecord }> {
  const rows = prepare(`SELECT rowid AS row_id, ${REFUSAL_COLUMNS} FROM refusals WHERE rowid > ? ORDER BY rowid LIMIT ?`).all(rowid, limit) as Array<StoredRefusal & { row_id: number }>;
  return rows.map((row) => ({ rowid: row.row_id, record: fromRefusalRow(row) }));
}

export function lastRefusalRowid(prepare: Prepare): number {
  return (prepare("SELECT COALESCE(MAX(rowid), 0) FROM refusals").pluck().get() as number) ?? 0;
}
