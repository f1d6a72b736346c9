import { describe, expect, it } from "vitest";
import type { UsageResponse, UsageRow } from "./api.js";
import { buildPanelData, dailySeries, localDate } from "./panel-data.js";
import { budget, me } from "./test-builders.js";

function row(key: string, costUsd: number, requests = 1): UsageRow {
  return { key, requests, inputTokens: 100, cacheReadTokens: 50, cacheWriteTokens: 0, outputTokens: 10, costUsd, cacheSavingsUsd: 0.01 };
}
function usage(rows: UsageRow[], groupBy: UsageResponse["groupBy"] = "day"): UsageResponse {
  const sum = (pick: (r: UsageRow) => number) => rows.reduce((t, r) => t + pick(r), 0);
  return {
    from: "2026-10-24T00:00:00Z",
    to: "2026-11-24T00:00:00Z",
    groupBy,
    rows,
    total: { requests: sum((r) => r.requests), inputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 0, costUsd: sum((r) => r.costUsd), cacheSavingsUsd: 0 },
  };
}

describe("panel data", () => {
  it("fills the last 30 local days, oldest first, with zeros for days without use", () => {
    const now = Date.parse("2026-11-24T03:00:00Z");
    const series = dailySeries(usage([row("2026-11-23", 1.5, 3), row("2026-11-01", 0.25)]), "America/New_York", now);
    expect(series).toHaveLength(30);
    expect(series.at(-1)).toEqual({ date: "2026-11-23", costUsd: 1.5, requests: 3 }); // still the 23rd in New York
    expect(series[0]?.date).toBe("2026-10-25");
    expect(series.find((p) => p.date === "2026-11-01")?.costUsd).toBe(0.25);
    expect(new Set(series.map((p) => p.date)).size).toBe(30);
    expect(localDate(now, "UTC")).toBe("2026-11-24");
  });

  it("crosses a DST change without skipping or repeating a day", () => {
    const series = dailySeries(usage([]), "America/New_York", Date.parse("2026-11-10T12:00:00Z"));
    expect(series.map((p) => p.date)).toContain("2026-11-01");
    expect(new Set(series.map((p) => p.date)).size).toBe(30);
  });

  it("puts spend, the tightest daily budget, quota bars and sorted breakdowns together", () => {
    const data = buildPanelData({
      me: me({ budgets: [budget({ spentUsd: 4.2 }), budget({ scope: "team platform", spentUsd: 10, budgetUsd: 200 })] }),
      byDay: usage([row("2026-11-24", 4.2)]),
      byModel: usage([row("claude-haiku-4-5", 0.2), row("claude-sonnet-4-5", 4)], "model"),
      byProject: usage([row("demo", 4.2)], "project"),
      requests: [],
      now: Date.parse("2026-11-24T12:00:00Z"),
    });
    expect(data.spendTodayUsd).toBe(4.2);
    expect(data.dailyBudget).toEqual({ scope: "user alice", budgetUsd: 20, spentUsd: 4.2, remainingUsd: 15.8 });
    expect(data.quota.map((bar) => bar.scope)).toEqual(["user alice", "team platform", "user alice"]);
    expect(data.byModel.map((r) => r.key)).toEqual(["claude-sonnet-4-5", "claude-haiku-4-5"]);
    expect(data.daily.at(-1)?.costUsd).toBe(4.2);
  });
});
