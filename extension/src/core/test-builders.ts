// Small builders for the extension's unit tests.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BudgetStatus, LimitStatus, MeResponse } from "./api.js";

export function tempDir(prefix = "tollgate-ext-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function budget(overrides: Partial<BudgetStatus> = {}): BudgetStatus {
  const budgetUsd = overrides.budgetUsd === undefined ? 20 : overrides.budgetUsd;
  const spentUsd = overrides.spentUsd ?? 4.2;
  return {
    scope: "user alice",
    period: "day",
    spentUsd,
    resetsAt: "2026-11-25T05:00:00.000Z",
    ...overrides,
    budgetUsd,
    remainingUsd: overrides.remainingUsd !== undefined ? overrides.remainingUsd : budgetUsd === null ? null : Math.max(0, budgetUsd - spentUsd),
  };
}

export function limit(overrides: Partial<LimitStatus> = {}): LimitStatus {
  return { limit: "rpm", scope: "user alice", max: 30, used: 3, remaining: 27, resetsAt: null, ...overrides };
}

export function me(overrides: Partial<MeResponse> = {}): MeResponse {
  return {
    user: "alice",
    team: "platform",
    models: ["claude-haiku-4-5", "claude-sonnet-4-5"],
    timezone: "UTC",
    limits: [limit()],
    budgets: [budget()],
    ...overrides,
  };
}
