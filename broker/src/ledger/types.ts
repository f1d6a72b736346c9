// The usage ledger's contract: one row per request, no prompt or completion text, ever.
// The broker codes against `UsageLedger`; `SqliteLedger` (sqlite-ledger.ts) is the durable one, and in
// fleet mode `FleetLedger` commits locally, ships to PostgreSQL and reads org-wide from there.
import type { Awaitable } from "../limits/types.js";

export type UsageStatus = "ok" | "error" | "cancelled";

/** One request's usage. Integers throughout; tokens follow Bedrock's semantics (input excludes cached). */
export interface UsageRecord {
  /** The request id; unique (the table's primary key). */
  id: string;
  /** Request time, ms since the epoch. */
  time: number;
  user: string;
  team: string;
  project: string | null;
  /** The model the client asked for (the org's public name). */
  requestedModel: string;
  /** The model that served the request (after routing/fallbacks); spend is attributed to it. */
  servedModel: string;
  deployment: string | null;
  status: UsageStatus;
  httpStatus: number;
  /** Uncached input tokens (Bedrock `inputTokens`). */
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  /** Cost in pico-USD (1e-12 USD), so sums are exact integers. */
  costPicoUsd: number;
  /** Whole milliseconds (fractions are rounded on append). */
  latencyMs: number;
  /** Time to first token, whole milliseconds; null when nothing was streamed. */
  ttftMs: number | null;
  fallbacks: number;
  errorCode: string | null;
  /**
   * True when Bedrock reported no usage (a stream cancelled, cut or failed before its final
   * metadata event) and the tokens are the broker's estimate of what was sent and streamed.
   * Absent means false.
   */
  usageEstimated?: boolean;
}

export interface UsageScope {
  user?: string;
  team?: string;
  /** Served model. */
  model?: string;
}

export interface UsageTotals {
  requests: number;
  costPicoUsd: number;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
}

export interface ActivityRow {
  time: number;
  user: string;
  team: string;
  servedModel: string;
  /** input + cacheRead + cacheWrite + output. */
  tokens: number;
  costPicoUsd: number;
}

export interface SpendByScope {
  users: Map<string, number>;
  teams: Map<string, number>;
  /** Keyed by `teamModelKey(team, servedModel)`. */
  teamModels: Map<string, number>;
}

export type UsageGroupBy = "day" | "model" | "project" | "user" | "team";

export interface UsageQuery {
  /** Inclusive, ms epoch. */
  from: number;
  /** Exclusive, ms epoch. */
  to: number;
  groupBy: UsageGroupBy;
  user?: string;
  team?: string;
  /** IANA time zone for "day" buckets, e.g. "America/Los_Angeles". */
  timezone: string;
  /**
   * Optional: what cache reads/writes saved (positive) or cost extra (negative) in pico-USD for a
   * served model, given that model's token counts. The ledger knows no prices; when this is given,
   * each row gets `cacheSavingsPicoUsd` summed per served model inside the group.
   */
  cacheSavings?: (servedModel: string, cacheReadTokens: number, cacheWriteTokens: number) => number;
}

export interface UsageRow extends UsageTotals {
  /** "YYYY-MM-DD" (local date in the query's time zone) for "day"; the served model for "model";
   *  "" for requests without a project under "project". */
  key: string;
  /** Only when the query passed `cacheSavings`. */
  cacheSavingsPicoUsd?: number;
}

export interface RecentQuery {
  user?: string;
  team?: string;
  /** Requested model (the policy's name the client asked for). */
  model?: string;
  /** HTTP statuses, inclusive: 429..429, or 400..499 for "4xx". */
  httpStatus?: { from: number; to: number };
  /** Inclusive, ms epoch. */
  since?: number;
  /** Exclusive, ms epoch. */
  until?: number;
  /** Default 50, clamped to 1..1000. */
  limit?: number;
}

/**
 * A chat request the broker refused before calling Bedrock: nothing was used, so it is not a usage
 * row (it must not count as a request in reports or in restored rate windows), but an admin sees
 * who is being refused and why. Never the request's body.
 */
export interface RefusalRecord {
  /** The request id. */
  id: string;
  time: number;
  /** Null when the key was unknown (or absent). */
  user: string | null;
  team: string | null;
  project: string | null;
  /** The model the client asked for, when the body was read that far. */
  model: string | null;
  httpStatus: number;
  code: string;
  /** What the client was told, for refusals whose message holds no request text; else null. */
  reason: string | null;
  /** The limit that refused (rate limits and budgets). */
  limitName: string | null;
  limitScope: string | null;
  /** An unknown key's SHA-256, first 12 hex digits. */
  keyHashPrefix: string | null;
  client: string | null;
  latencyMs: number;
}

/** Refused requests, most recent first; `time >= since`, and the filters ANDed. */
export interface RefusalLog {
  /** Fire and forget: queued and committed with the ledger's next write. */
  recordRefusal(refusal: RefusalRecord): void;
  refusals(query: RecentQuery): Awaitable<RefusalRecord[]>;
}

export interface UsageLedger {
  /** Resolves once the record is durable (committed). Rejects with a `LedgerError` if it isn't. */
  append(record: UsageRecord): Promise<void>;
  /** Spend and request/token totals with `time >= sinceMs` for a scope (all filters optional, ANDed). */
  totals(scope: UsageScope, sinceMs: number): Awaitable<UsageTotals>;
  /** Rows with `time >= sinceMs`, oldest first (to restore rolling-window limits after a restart). */
  recentActivity(sinceMs: number): Awaitable<ActivityRow[]>;
  /** Spend per user, per team and per (team, served model) with `time >= sinceMs`. */
  spendByScope(sinceMs: number): Awaitable<SpendByScope>;
  /** Aggregates for the usage APIs; `from <= time < to`. */
  usage(query: UsageQuery): Awaitable<UsageRow[]>;
  /** Most recent records first (ties: last appended first). */
  recent(query: RecentQuery): Awaitable<UsageRecord[]>;
  /** Flush pending writes and close. */
  close(): Promise<void>;
}

/** The `SpendByScope.teamModels` key. */
export function teamModelKey(team: string, servedModel: string): string {
  return `${team}\u0000${servedModel}`;
}

/** `RecentQuery.limit` as every ledger reads it: default 50, clamped to 1..1000. */
export function recentLimit(query: RecentQuery): number {
  const requested = query.limit ?? 50;
  return Number.isFinite(requested) ? Math.min(1000, Math.max(1, Math.floor(requested))) : 50;
}
