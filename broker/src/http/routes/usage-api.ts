// The usage data both the user API (`/v1/me…`, scoped to the caller) and the admin API read.
import type { Request } from "express";
import {
  adminUsageGroupBySchema,
  cacheSavingsPicoUsd,
  picoUsdToUsd,
  type Policy,
  type RequestRecord,
  type UsageGroupBy,
  type UsageResponse,
  type UsageRow,
} from "@tollgate/shared";
import { invalidRequest } from "../../errors.js";
import { startOfLocalDate } from "../../time/zone-calendar.js";
import type { UsageLedger, UsageRecord } from "../../ledger/types.js";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface UsageQueryParams {
  from: number;
  to: number;
  groupBy: UsageGroupBy;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const HAS_ZONE = /(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * `from`/`to` and `groupBy`, validated. A date alone is a day in the policy's time zone (as budgets
 * and the day rows are): `from` its start, `to` its end, so from=to=2026-12-01 is that whole day.
 * A time needs its offset (`Z` or `+01:00`): without one it would mean the broker host's zone.
 * Default: the last 30 days.
 */
export function parseUsageQuery(req: Request, allowed: readonly UsageGroupBy[], fallback: UsageGroupBy, timeZone: string): UsageQueryParams {
  const to = parseTimeParam(req, "to", timeZone) ?? Date.now();
  const from = parseTimeParam(req, "from", timeZone) ?? to - 30 * DAY_MS;
  if (from >= to) throw invalidRequest("from must be before to.", "from", "invalid_query");
  const groupByText = typeof req.query.groupBy === "string" ? req.query.groupBy : fallback;
  const groupBy = adminUsageGroupBySchema.safeParse(groupByText);
  if (!groupBy.success || !allowed.includes(groupBy.data)) {
    throw invalidRequest(`groupBy must be one of ${allowed.join(", ")}; got "${groupByText}".`, "groupBy");
  }
  return { from, to, groupBy: groupBy.data };
}

/**
 * `from` (start of its day for a date) or `to` (end of its day for a date) as ms epoch; undefined
 * when absent. A date alone is a day in the policy's time zone; a time needs its offset.
 */
export function parseTimeParam(req: Request, name: "from" | "to", timeZone: string): number | undefined {
  const value = typeof req.query[name] === "string" ? (req.query[name] as string).trim() : undefined;
  if (value === undefined || value === "") return undefined;
  const date = DATE_ONLY.exec(value);
  if (date) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const check = new Date(Date.UTC(year, month - 1, day));
    if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) throw invalidRequest(`${name}: ${value} is not a date.`, name, "invalid_query");
    return startOfLocalDate(timeZone, year, month, name === "from" ? day : day + 1);
  }
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw invalidRequest(`${name} must be a date (2026-11-01, a day in the policy's time zone ${timeZone}) or a time with its offset (2026-11-01T09:00:00Z); got "${value}".`, name, "invalid_query");
  if (!HAS_ZONE.test(value)) throw invalidRequest(`${name}: "${value}" has no offset; add Z or one such as +01:00 (or give a date alone, a day in ${timeZone}).`, name, "invalid_query");
  return parsed;
}

/** Savings are priced at each served model's current policy price (the ledger stores tokens and cost, not prices). */
function savingsPricer(policy: Policy) {
  return (servedModel: string, cacheReadTokens: number, cacheWriteTokens: number): number => {
    const pricing = policy.models.get(servedModel)?.route[0]?.pricing;
    if (!pricing) return 0;
    return cacheSavingsPicoUsd({ inputTokens: 0, outputTokens: 0, cacheReadTokens, cacheWriteTokens }, pricing);
  };
}

export async function usageReport(ledger: UsageLedger, policy: Policy, params: UsageQueryParams, filter: { user?: string; team?: string }): Promise<UsageResponse> {
  const rows = await ledger.usage({ ...params, ...filter, timezone: policy.timezone, cacheSavings: savingsPricer(policy) });
  const toRow = (row: (typeof rows)[number]): UsageRow => ({
    key: row.key,
    requests: row.requests,
    inputTokens: row.inputTokens,
    cacheReadTokens: row.cacheReadTokens,
    cacheWriteTokens: row.cacheWriteTokens,
    outputTokens: row.outputTokens,
    costUsd: picoUsdToUsd(row.costPicoUsd),
    cacheSavingsUsd: picoUsdToUsd(row.cacheSavingsPicoUsd ?? 0),
  });
  const sum = (pick: (row: (typeof rows)[number]) => number): number => rows.reduce((total, row) => total + pick(row), 0);
  return {
    from: new Date(params.from).toISOString(),
    to: new Date(params.to).toISOString(),
    groupBy: params.groupBy,
    rows: rows.map(toRow),
    total: {
      requests: sum((row) => row.requests),
      inputTokens: sum((row) => row.inputTokens),
      cacheReadTokens: sum((row) => row.cacheReadTokens),
      cacheWriteTokens: sum((row) => row.cacheWriteTokens),
      outputTokens: sum((row) => row.outputTokens),
      costUsd: picoUsdToUsd(sum((row) => row.costPicoUsd)),
      cacheSavingsUsd: picoUsdToUsd(sum((row) => row.cacheSavingsPicoUsd ?? 0)),
    },
  };
}

export function parseLimit(req: Request): number {
  const raw = req.query.limit;
  if (raw === undefined) return 50;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalidRequest(`limit must be an integer from 1 to 1000; got "${String(raw)}".`, "limit");
  return limit;
}

export function toRequestRecord(record: UsageRecord): RequestRecord {
  return {
    id: record.id,
    time: new Date(record.time).toISOString(),
    user: record.user,
    team: record.team,
    project: record.project,
    model: record.requestedModel,
    servedModel: record.servedModel,
    deployment: record.deployment,
    status: record.status,
    httpStatus: record.httpStatus,
    inputTokens: record.inputTokens,
    cacheReadTokens: record.cacheReadTokens,
    cacheWriteTokens: record.cacheWriteTokens,
    outputTokens: record.outputTokens,
    costUsd: picoUsdToUsd(record.costPicoUsd),
    latencyMs: record.latencyMs,
    ttftMs: record.ttftMs,
    fallbacks: record.fallbacks,
    errorCode: record.errorCode,
    usageEstimated: record.usageEstimated === true,
  };
}
