// Where the developer stands against their limits: the tightest daily budget, thresholds, and one
// bar per limit. Pure: the status bar and the usage panel both render from these.
import type { BudgetStatus, LimitStatus, MeResponse } from "./api.js";
import { formatCompact, formatCount, formatUsd } from "./format.js";

export const WARNING_FRACTION = 0.8;

export type Severity = "ok" | "warning" | "error";

export function severityOf(used: number, max: number): Severity {
  if (max <= 0) return used > 0 ? "error" : "ok";
  if (used >= max) return "error";
  return used / max >= WARNING_FRACTION ? "warning" : "ok";
}

/** A budget with a limit. */
export type LimitedBudget = BudgetStatus & { budgetUsd: number; remainingUsd: number };

function limited(budget: BudgetStatus): budget is LimitedBudget {
  return budget.budgetUsd !== null && budget.remainingUsd !== null;
}

/** The budget with the least left (ties: the higher share spent) among a period's budgets, if any has a limit. */
export function tightestBudget(me: MeResponse, period: "day" | "month"): LimitedBudget | undefined {
  let best: LimitedBudget | undefined;
  for (const budget of me.budgets) {
    if (budget.period !== period || !limited(budget)) continue;
    if (
      !best ||
      budget.remainingUsd < best.remainingUsd ||
      (budget.remainingUsd === best.remainingUsd && budget.spentUsd / Math.max(budget.budgetUsd, 1e-9) > best.spentUsd / Math.max(best.budgetUsd, 1e-9))
    ) {
      best = budget;
    }
  }
  return best;
}

/** What the developer themselves spent today (their own user scope), whatever the budgets. */
export function ownSpendToday(me: MeResponse): number {
  const own = me.budgets.find((budget) => budget.period === "day" && budget.scope === `user ${me.user}`);
  return own?.spentUsd ?? me.budgets.find((budget) => budget.period === "day")?.spentUsd ?? 0;
}

/** The latest instant a rate limit (rpm/tpm/concurrent) with nothing left frees up, if one is exhausted. */
export function rateLimitedUntil(me: MeResponse, now: number): number | undefined {
  let until: number | undefined;
  for (const limit of me.limits) {
    if (limit.remaining > 0 || !limit.resetsAt) continue;
    const at = Date.parse(limit.resetsAt);
    if (!Number.isNaN(at) && at > now && (until === undefined || at > until)) until = at;
  }
  return until;
}

export interface QuotaBar {
  id: string;
  /** e.g. "Daily budget", "Requests per minute". */
  title: string;
  /** e.g. "user alice", "team platform". */
  scope: string;
  kind: "budget" | "rate";
  used: number;
  max: number;
  remaining: number;
  /** Display strings. */
  usedText: string;
  maxText: string;
  remainingText: string;
  resetsAt: string | null;
  fraction: number;
  severity: Severity;
}

const LIMIT_TITLES: Record<LimitStatus["limit"], string> = {
  rpm: "Requests per minute",
  tpm: "Tokens per minute",
  concurrent: "Concurrent requests",
  dailyUsd: "Daily budget",
  monthlyUsd: "Monthly budget",
};

export function quotaBars(me: MeResponse): QuotaBar[] {
  const bars: QuotaBar[] = [];
  for (const budget of me.budgets) {
    if (!limited(budget)) continue;
    const limit = budget.period === "day" ? "dailyUsd" : "monthlyUsd";
    bars.push({
      id: `${limit}:${budget.scope}`,
      title: LIMIT_TITLES[limit],
      scope: budget.scope,
      kind: "budget",
      used: budget.spentUsd,
      max: budget.budgetUsd,
      remaining: budget.remainingUsd,
      usedText: formatUsd(budget.spentUsd),
      maxText: formatUsd(budget.budgetUsd),
      remainingText: formatUsd(budget.remainingUsd),
      resetsAt: budget.resetsAt,
      fraction: fraction(budget.spentUsd, budget.budgetUsd),
      severity: severityOf(budget.spentUsd, budget.budgetUsd),
    });
  }
  for (const limit of me.limits) {
    const text = limit.limit === "tpm" ? formatCompact : formatCount;
    bars.push({
      id: `${limit.limit}:${limit.scope}`,
      title: LIMIT_TITLES[limit.limit],
      scope: limit.scope,
      kind: "rate",
      used: limit.used,
      max: limit.max,
      remaining: limit.remaining,
      usedText: text(limit.used),
      maxText: text(limit.max),
      remainingText: text(limit.remaining),
      resetsAt: limit.resetsAt,
      fraction: fraction(limit.used, limit.max),
      severity: severityOf(limit.used, limit.max),
    });
  }
  return bars;
}

function fraction(used: number, max: number): number {
  if (max <= 0) return used > 0 ? 1 : 0;
  return Math.min(1, Math.max(0, used / max));
}

/** The budgets that are spent (the usage panel colours today's spend with the error colour then). */
export function spentBudgets(bars: readonly QuotaBar[]): QuotaBar[] {
  return bars.filter((bar) => bar.kind === "budget" && bar.severity === "error");
}
