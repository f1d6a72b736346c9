// GET /v1/me, /v1/me/usage, /v1/me/requests — where the caller stands, what their work cost.
// The extension's status bar and panels read these (contracts in @tollgate/shared).
import type { Request, Response } from "express";
import { picoUsdToUsd, type BudgetStatus, type LimitStatus, type MeResponse, type Policy, type UserPolicy } from "@tollgate/shared";
import { scopedLimitsFor } from "../../accounting/meter.js";
import type { UsageLedger } from "../../ledger/types.js";
import { budgetPeriods, type LimitStore, type ScopedLimits } from "../../limits/index.js";
import type { PolicyStore } from "../../policy/policy-store.js";
import { parseLimit, parseUsageQuery, toRequestRecord, usageReport } from "./usage-api.js";

export interface MeDeps {
  policy: PolicyStore;
  limits: LimitStore;
  ledger: UsageLedger;
}

function caller(res: Response): UserPolicy {
  const identity = res.locals.identity;
  if (!identity) throw new Error("user route reached without an identity");
  return identity.user;
}

/** Every limit set that applies to the user: theirs, their team's, and their team's per-model ones. */
function allScopes(policy: Policy, user: UserPolicy): ScopedLimits[] {
  const team = policy.teams.get(user.team);
  const perModel = [...(team?.modelLimits.keys() ?? [])].filter((model) => user.models.has(model));
  const [userScope, teamScope] = scopedLimitsFor(policy, user, perModel[0] ?? "");
  const scopes = [userScope, teamScope].filter((scope): scope is ScopedLimits => scope !== undefined);
  for (const model of perModel) {
    const teamModel = scopedLimitsFor(policy, user, model)[2];
    if (teamModel) scopes.push(teamModel);
  }
  return scopes;
}

export async function meSnapshot(deps: MeDeps, user: UserPolicy, now = Date.now()): Promise<MeResponse> {
  const policy = deps.policy.current();
  const scopes = allScopes(policy, user);
  const limits: LimitStatus[] = [];
  for (const status of await deps.limits.status(scopes)) {
    for (const name of ["rpm", "tpm", "concurrent"] as const) {
      const limit = status.limits[name];
      if (!limit) continue;
      limits.push({ limit: name, scope: status.label, max: limit.limit, used: limit.used, remaining: limit.remaining, resetsAt: limit.resetsAt?.toISOString() ?? null });
    }
  }
  // Budgets: spend straight from the ledger, so these numbers are the ledger's sums.
  const periods = budgetPeriods(policy.timezone, now);
  const budgets: BudgetStatus[] = [];
  for (const scope of scopes) {
    if (scope.scope.kind === "team-model" && scope.limits.dailyUsd === undefined && scope.limits.monthlyUsd === undefined) continue;
    const filter =
      scope.scope.kind === "user" ? { user: scope.scope.name } : scope.scope.kind === "team" ? { team: scope.scope.name } : { team: scope.scope.team, model: scope.scope.model };
    for (const [period, limit] of [
      ["day", scope.limits.dailyUsd],
      ["month", scope.limits.monthlyUsd],
    ] as const) {
      const window = periods[period];
      const spentUsd = picoUsdToUsd((await deps.ledger.totals(filter, window.start)).costPicoUsd);
      budgets.push({
        scope: scope.label,
        period,
        budgetUsd: limit ?? null,
        spentUsd,
        remainingUsd: limit === undefined ? null : Math.max(0, limit - spentUsd),
        resetsAt: new Date(window.end).toISOString(),
      });
    }
  }
  return { user: user.name, team: user.team, models: [...user.models].sort(), timezone: policy.timezone, limits, budgets };
}

export function meHandler(deps: MeDeps) {
  return async (_req: Request, res: Response): Promise<void> => {
    res.json(await meSnapshot(deps, caller(res)));
  };
}

export function meUsageHandler(deps: MeDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const user = caller(res);
    const policy = deps.policy.current();
    const params = parseUsageQuery(req, ["day", "model", "project"], "day", policy.timezone);
    res.json(await usageReport(deps.ledger, policy, params, { user: user.name }));
  };
}

export function meRequestsHandler(deps: MeDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const user = caller(res);
    res.json({ data: (await deps.ledger.recent({ user: user.name, limit: parseLimit(req) })).map(toRequestRecord) });
  };
}
