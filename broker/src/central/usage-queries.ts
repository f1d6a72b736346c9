// The org's usage in PostgreSQL: idempotent batch inserts and the UsageLedger read API, with the
// same semantics and shapes as the SQLite ledger (broker/src/ledger/sqlite-ledger.ts).
import type pg from "pg";
import { dayBuckets } from "../ledger/time-zone.js";
import { recentLimit, teamModelKey, type ActivityRow, type RecentQuery, type SpendByScope, type UsageQuery, type UsageRecord, type UsageRow, type UsageScope, type UsageTotals } from "../ledger/types.js";
import { LedgerError } from "../ledger/errors.js";
import { USAGE_COLUMNS, usageRecordOf } from "../ledger/usage-columns.js";
import { centralError } from "./errors.js";

export type ShippedRecord = UsageRecord & { instanceId: string };

export interface InstanceFilter {
  /** Leave out these brokers' rows (a rebuild adds theirs from their own ledgers). */
  excludeInstances?: readonly string[] | undefined;
}

// Column order of the batch insert (the ledger's columns with the broker's instance id second); each
// becomes one array parameter of UNNEST. "user" is a reserved word in PostgreSQL.
const COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ["id", "text"],
  ["instance_id", "text"],
  ...USAGE_COLUMNS.slice(1).map((c) => [c.column === "user" ? '"user"' : c.column, c.pg] as const),
];

/**
 * A batch insert with one array parameter per column (UNNEST): one statement whatever the batch's
 * size; rows whose id is already there are skipped (a re-sent batch counts nothing twice).
 */
export function unnestInsertSql(table: string, columns: ReadonlyArray<readonly [name: string, type: string]>, returning = ""): string {
  return (
    `INSERT INTO ${table} (${columns.map(([name]) => name).join(", ")}) ` +
    `SELECT * FROM UNNEST(${columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ")}) ` +
    `ON CONFLICT (id) DO NOTHING${returning ? ` RETURNING ${returning}` : ""}`
  );
}

/** The array parameters of `unnestInsertSql`: column i of every row. */
export function unnestParams(width: number, rows: ReadonlyArray<readonly unknown[]>): unknown[][] {
  const columns: unknown[][] = Array.from({ length: width }, () => []);
  for (const row of rows) row.forEach((value, i) => columns[i]!.push(value));
  return columns;
}

const INSERT_SQL = unnestInsertSql("usage", COLUMNS, "id");

const SUMS =
  "count(*) AS requests, COALESCE(sum(input_tokens), 0) AS input, COALESCE(sum(cache_read_tokens), 0) AS cache_read, " +
  "COALESCE(sum(cache_write_tokens), 0) AS cache_write, COALESCE(sum(output_tokens), 0) AS output, COALESCE(sum(cost_pico_usd), 0) AS cost";

interface SumRow {
  requests: string;
  input: string;
  cache_read: string;
  cache_write: string;
  output: string;
  cost: string;
}

function totalsOf(row: SumRow | undefined): UsageTotals {
  return {
    requests: Number(row?.requests ?? 0),
    inputTokens: Number(row?.input ?? 0),
    cacheReadTokens: Number(row?.cache_read ?? 0),
    cacheWriteTokens: Number(row?.cache_write ?? 0),
    outputTokens: Number(row?.output ?? 0),
    // Exact below 2^53 pico-USD ($9,007); above, the nearest double (as the SQLite ledger).
    costPicoUsd: Number(row?.cost ?? 0),
  };
}

/** The filters of `recent` (and of the refusals, whose requested model column is `model`). */
export function recentWhere(query: RecentQuery, modelColumn: string): Where {
  const where = new Where();
  if (query.user !== undefined) where.add((n) => `"user" = ${n}`, query.user);
  if (query.team !== undefined) where.add((n) => `team = ${n}`, query.team);
  if (query.model !== undefined) where.add((n) => `${modelColumn} = ${n}`, query.model);
  if (query.httpStatus !== undefined) {
    where.add((n) => `http_status >= ${n}`, query.httpStatus.from);
    where.add((n) => `http_status <= ${n}`, query.httpStatus.to);
  }
  if (query.since !== undefined) where.add((n) => `time >= ${n}`, query.since);
  if (query.until !== undefined) where.add((n) => `time < ${n}`, query.until);
  return where;
}

/** WHERE clauses and parameters, numbered from `first`. */
export class Where {
  readonly clauses: string[] = [];
  readonly params: unknown[] = [];
  add(clause: (n: string) => string, value: unknown): this {
    this.params.push(value);
    this.clauses.push(clause(`$${this.params.length}`));
    return this;
  }
  /** A parameter used elsewhere in the statement (not a WHERE clause); returns its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
  text(): string {
    return this.clauses.length === 0 ? "" : `WHERE ${this.clauses.join(" AND ")}`;
  }
}

function excluding(where: Where, filter: InstanceFilter | undefined): Where {
  const excluded = filter?.excludeInstances ?? [];
  return excluded.length > 0 ? where.add((n) => `NOT (instance_id = ANY(${n}::text[]))`, [...excluded]) : where;
}


export class UsageQueries {
  constructor(private readonly pool: pg.Pool) {}

  /** One transaction; rows whose id is already there are skipped (a re-sent batch counts nothing twice). */
  async insert(rows: readonly ShippedRecord[]): Promise<{ inserted: number }> {
    if (rows.length === 0) return { inserted: 0 };
    const columns = unnestParams(
      COLUMNS.length,
      rows.map((r) => [r.id, r.instanceId, ...USAGE_COLUMNS.slice(1).map(({ field }) => (field === "usageEstimated" ? r.usageEstimated === true : (r[field] ?? null)))]),
    );
    try {
      const result = await this.pool.query(INSERT_SQL, columns);
      return { inserted: result.rowCount ?? 0 };
    } catch (error) {
      throw centralError(error, "insert of usage rows");
    }
  }

  async totals(scope: UsageScope, sinceMs: number): Promise<UsageTotals> {
    const where = new Where().add((n) => `time >= ${n}`, sinceMs);
    if (scope.user !== undefined) where.add((n) => `"user" = ${n}`, scope.user);
    if (scope.team !== undefined) where.add((n) => `team = ${n}`, scope.team);
    if (scope.model !== undefined) where.add((n) => `served_model = ${n}`, scope.model);
    const rows = await this.query<SumRow>(`SELECT ${SUMS} FROM usage ${where.text()}`, where.params, "totals");
    return totalsOf(rows[0]);
  }

  async recentActivity(sinceMs: number, filter?: InstanceFilter): Promise<ActivityRow[]> {
    const where = excluding(new Where().add((n) => `time >= ${n}`, sinceMs), filter);
    const rows = await this.query<{ time: string; user: string; team: string; served_model: string; tokens: string; cost: string }>(
      `SELECT time, "user", team, served_model, input_tokens + cache_read_tokens + cache_write_tokens + output_tokens AS tokens, cost_pico_usd AS cost FROM usage ${where.text()} ORDER BY time, id`,
      where.params,
      "recent activity",
    );
    return rows.map((r) => ({ time: Number(r.time), user: r.user, team: r.team, servedModel: r.served_model, tokens: Number(r.tokens), costPicoUsd: Number(r.cost) }));
  }

  async spendByScope(sinceMs: number, filter?: InstanceFilter): Promise<SpendByScope> {
    const where = excluding(new Where().add((n) => `time >= ${n}`, sinceMs), filter);
    const rows = await this.query<{ user: string; team: string; served_model: string; cost: string }>(
      `SELECT "user", team, served_model, sum(cost_pico_usd) AS cost FROM usage ${where.text()} GROUP BY "user", team, served_model`,
      where.params,
      "spend by scope",
    );
    const out: SpendByScope = { users: new Map(), teams: new Map(), teamModels: new Map() };
    const add = (map: Map<string, number>, key: string, value: number): void => void map.set(key, (map.get(key) ?? 0) + value);
    for (const r of rows) {
      const cost = Number(r.cost);
      add(out.users, r.user, cost);
      add(out.teams, r.team, cost);
      add(out.teamModels, teamModelKey(r.team, r.served_model), cost);
    }
    return out;
  }

  async usage(query: UsageQuery): Promise<UsageRow[]> {
    const where = new Where().add((n) => `time >= ${n}`, query.from).add((n) => `time < ${n}`, query.to);
    if (query.user !== undefined) where.add((n) => `"user" = ${n}`, query.user);
    if (query.team !== undefined) where.add((n) => `team = ${n}`, query.team);
    const savings = query.cacheSavings;
    let keyExpression: string;
    let from = "usage";
    if (query.groupBy === "day") {
      const buckets = dayBuckets(query.from, query.to, query.timezone);
      if (buckets.length === 0) return [];
      // Local days as [start, end) ranges joined to the rows: DST days are 23 or 25 hours, as in SQLite.
      const starts = where.param(buckets.map((b) => b.start));
      const ends = where.param(buckets.map((b) => b.end));
      const keys = where.param(buckets.map((b) => b.key));
      from = `usage JOIN UNNEST(${starts}::bigint[], ${ends}::bigint[], ${keys}::text[]) AS bucket(start_ms, end_ms, day) ON time >= bucket.start_ms AND time < bucket.end_ms`;
      keyExpression = "bucket.day";
    } else {
      const dimension = ({ model: "served_model", project: "COALESCE(project, '')", user: '"user"', team: "team" } as const)[query.groupBy];
      if (dimension === undefined) throw new LedgerError("invalid_query", `Unknown usage grouping "${String(query.groupBy)}".`);
      keyExpression = dimension;
    }
    const rows = await this.query<SumRow & { key: string; served_model: string }>(
      `SELECT ${keyExpression} AS key, served_model, ${SUMS} FROM ${from} ${where.text()} GROUP BY 1, 2`,
      where.params,
      "usage report",
    );
    const groups = new Map<string, UsageRow>();
    for (const r of rows) {
      const part = totalsOf(r);
      const row = groups.get(r.key) ?? { key: r.key, requests: 0, costPicoUsd: 0, inputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 0, ...(savings ? { cacheSavingsPicoUsd: 0 } : {}) };
      row.requests += part.requests;
      row.costPicoUsd += part.costPicoUsd;
      row.inputTokens += part.inputTokens;
      row.cacheReadTokens += part.cacheReadTokens;
      row.cacheWriteTokens += part.cacheWriteTokens;
      row.outputTokens += part.outputTokens;
      if (savings) row.cacheSavingsPicoUsd = (row.cacheSavingsPicoUsd ?? 0) + savings(r.served_model, part.cacheReadTokens, part.cacheWriteTokens);
      groups.set(r.key, row);
    }
    const out = [...groups.values()].filter((row) => row.requests > 0);
    if (query.groupBy === "day") return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out.sort((a, b) => b.costPicoUsd - a.costPicoUsd || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async recent(query: RecentQuery): Promise<UsageRecord[]> {
    const limit = recentLimit(query);
    const where = recentWhere(query, "requested_model");
    // Failed requests by status read the partial index of the rows that did not end 200.
    if (query.httpStatus !== undefined && !(query.httpStatus.from <= 200 && query.httpStatus.to >= 200)) where.clauses.push("http_status <> 200");
    const rows = await this.query<Record<string, unknown>>(`SELECT * FROM usage ${where.text()} ORDER BY time DESC, received_at DESC, id DESC LIMIT ${where.param(limit)}`, where.params, "recent requests");
    return rows.map(usageRecordOf);
  }

  private async query<T extends pg.QueryResultRow>(sql: string, params: unknown[], what: string): Promise<T[]> {
    try {
      return (await this.pool.query<T>(sql, params)).rows;
    } catch (error) {
      throw centralError(error, what);
    }
  }
}
