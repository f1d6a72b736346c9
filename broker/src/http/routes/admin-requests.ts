// GET /admin/requests: the org's recent chat requests, those the ledger holds (served, failed,
// cancelled) and those refused before Bedrock, newest first, with filters an admin asks with
// ("who got 429 today?": ?status=429&from=2026-12-04).
import type { Request, RequestHandler } from "express";
import { picoUsdToUsd, type AdminRequestRecord, type AdminRequestsResponse } from "@tollgate/shared";
import { invalidRequest } from "../../errors.js";
import type { RecentQuery, RefusalLog, RefusalRecord, UsageLedger } from "../../ledger/types.js";
import type { PolicyStore } from "../../policy/policy-store.js";
import { parseLimit, parseTimeParam, toRequestRecord } from "./usage-api.js";

export interface AdminRequestsDeps {
  ledger: UsageLedger;
  refusals: RefusalLog | undefined;
  policy: PolicyStore;
}

const REFUSED = ["include", "only", "exclude"] as const;
type Refused = (typeof REFUSED)[number];

/** "429", "4xx" (a class) → an inclusive range. */
export function parseStatus(value: string): { from: number; to: number } | undefined {
  const exact = /^([1-5]\d\d)$/.exec(value);
  if (exact) return { from: Number(exact[1]), to: Number(exact[1]) };
  const group = /^([1-5])xx$/i.exec(value);
  if (group) return { from: Number(group[1]) * 100, to: Number(group[1]) * 100 + 99 };
  return undefined;
}

function parseQuery(req: Request, timeZone: string): { query: RecentQuery; refused: Refused } {
  const text = (name: string): string | undefined => (typeof req.query[name] === "string" && req.query[name] !== "" ? (req.query[name] as string) : undefined);
  const query: RecentQuery = { limit: parseLimit(req) };
  for (const name of ["user", "team", "model"] as const) {
    const value = text(name);
    if (value !== undefined) query[name] = value;
  }
  const status = text("status");
  if (status !== undefined) {
    const range = parseStatus(status.trim());
    if (!range) throw invalidRequest(`status must be an HTTP status such as 429 or a class such as 4xx; got "${status}".`, "status", "invalid_query");
    query.httpStatus = range;
  }
  const since = parseTimeParam(req, "from", timeZone);
  const until = parseTimeParam(req, "to", timeZone);
  if (since !== undefined) query.since = since;
  if (until !== undefined) query.until = until;
  if (since !== undefined && until !== undefined && since >= until) throw invalidRequest("from must be before to.", "from", "invalid_query");
  const refused = text("refused") ?? "include";
  if (!(REFUSED as readonly string[]).includes(refused)) throw invalidRequest(`refused must be one of ${REFUSED.join(", ")}; got "${refused}".`, "refused", "invalid_query");
  return { query, refused: refused as Refused };
}

export function fromRefusal(r: RefusalRecord): AdminRequestRecord {
  return {
    id: r.id,
    time: new Date(r.time).toISOString(),
    user: r.user,
    team: r.team,
    project: r.project,
    model: r.model,
    servedModel: null,
    deployment: null,
    status: "refused",
    httpStatus: r.httpStatus,
    inputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 0,
    costUsd: picoUsdToUsd(0),
    latencyMs: r.latencyMs,
    ttftMs: null,
    fallbacks: 0,
    errorCode: r.code,
    usageEstimated: false,
    reason: r.reason,
    limit: r.limitName !== null && r.limitScope !== null ? { name: r.limitName, scope: r.limitScope } : null,
    keyHashPrefix: r.keyHashPrefix,
    client: r.client,
  };
}

export function adminRequestsHandler(deps: AdminRequestsDeps): RequestHandler {
  return async (req, res) => {
    const { query, refused } = parseQuery(req, deps.policy.current().timezone);
    const [rows, refusals] = await Promise.all([
      refused === "only" ? [] : deps.ledger.recent(query),
      refused === "exclude" || !deps.refusals ? [] : deps.refusals.refusals(query),
    ]);
    const merged: Array<{ time: number; record: AdminRequestRecord }> = [
      ...rows.map((row) => ({ time: row.time, record: { ...toRequestRecord(row), reason: null, limit: null, keyHashPrefix: null, client: null } })),
      ...refusals.map((row) => ({ time: row.time, record: fromRefusal(row) })),
    ];
    merged.sort((a, b) => b.time - a.time);
    res.json({ data: merged.slice(0, query.limit).map((entry) => entry.record) } satisfies AdminRequestsResponse);
  };
}
