// The usage row's layout, written once: each field of a UsageRecord, its column, and how it is stored.
// The SQLite insert and select lists, the insert's parameter order, the writer thread's indices into
// a row, and PostgreSQL's batch insert all come from this table. (The migrations keep their own SQL:
// a released migration is history and never changes.)
import type { UsageRecord } from "./types.js";

interface Column<F extends keyof UsageRecord> {
  field: F;
  column: string;
  /** PostgreSQL's type of the column (its UNNEST array parameter). */
  pg: "text" | "bigint" | "integer" | "boolean";
}

function column<F extends keyof UsageRecord>(field: F, name: string, pg: Column<F>["pg"]): Column<F> {
  return { field, column: name, pg };
}

export const USAGE_COLUMNS = [
  column("id", "id", "text"),
  column("time", "time", "bigint"),
  column("user", "user", "text"),
  column("team", "team", "text"),
  column("project", "project", "text"),
  column("requestedModel", "requested_model", "text"),
  column("servedModel", "served_model", "text"),
  column("deployment", "deployment", "text"),
  column("status", "status", "text"),
  column("httpStatus", "http_status", "integer"),
  column("inputTokens", "input_tokens", "bigint"),
  column("cacheReadTokens", "cache_read_tokens", "bigint"),
  column("cacheWriteTokens", "cache_write_tokens", "bigint"),
  column("outputTokens", "output_tokens", "bigint"),
  column("costPicoUsd", "cost_pico_usd", "bigint"),
  column("latencyMs", "latency_ms", "integer"),
  column("ttftMs", "ttft_ms", "integer"),
  column("fallbacks", "fallbacks", "integer"),
  column("errorCode", "error_code", "text"),
  column("usageEstimated", "usage_estimated", "boolean"),
] as const;

export type UsageField = (typeof USAGE_COLUMNS)[number]["field"];

/** Where each field sits in a row's insert parameters (and in the writer thread's rows). */
export const AT = Object.fromEntries(USAGE_COLUMNS.map((c, i) => [c.field, i])) as { readonly [F in UsageField]: number };

/** The SQLite value of a field: booleans as 0/1, the rest as they are (validated before). */
export type StoredValue = string | number | null;

/** A usage row's insert parameters, in `USAGE_COLUMNS` order. */
export type UsageInsertRow = StoredValue[];

export const USAGE_COLUMN_LIST: string = USAGE_COLUMNS.map((c) => c.column).join(", ");

export const INSERT_USAGE_SQL = `INSERT INTO usage (${USAGE_COLUMN_LIST}) VALUES (${USAGE_COLUMNS.map(() => "?").join(", ")})`;

/** A validated record's insert parameters; durations are rounded to whole milliseconds. */
export function usageRow(record: UsageRecord): UsageInsertRow {
  return USAGE_COLUMNS.map(({ field }): StoredValue => {
    const value = record[field];
    if (field === "usageEstimated") return value === true ? 1 : 0;
    if ((field === "latencyMs" || field === "ttftMs") && typeof value === "number") return Math.round(value);
    return (value ?? null) as StoredValue;
  });
}

/** A stored row (by column name, as SQLite or PostgreSQL return it) back into a record. */
export function usageRecordOf(row: Record<string, unknown>): UsageRecord {
  const record: Record<string, unknown> = {};
  for (const { field, column, pg } of USAGE_COLUMNS) {
    const value = row[column];
    if (pg === "boolean") record[field] = value === true || value === 1;
    // PostgreSQL returns bigint as a string.
    else if ((pg === "bigint" || pg === "integer") && value !== null && value !== undefined) record[field] = Number(value);
    else record[field] = value ?? null;
  }
  return record as unknown as UsageRecord;
}
