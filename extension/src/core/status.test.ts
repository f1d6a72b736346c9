import { describe, expect, it } from "vitest";
import { formatCost, formatUsd } from "./format.js";
import { quotaBars, spentBudgets, tightestBudget } from "./quota.js";
import { initialFacts, StatusModel, statusView, type StatusFacts } from "./status.js";
import { budget, limit, me } from "./test-builders.js";

const NOW = Date.parse("2026-11-24T12:00:00Z");
const facts = (overrides: Partial<StatusFacts>): StatusFacts => ({ ...initialFacts(), signedIn: true, ...overrides });

describe("formatting", () => {
  it("writes dollars with two decimals", () => {
    expect(formatUsd(4.2)).toBe("$4.20");
    expect(formatUsd(20)).toBe("$20.00");
    expect(formatUsd(0.005)).toBe("$0.005");
    expect(formatUsd(0.002)).toBe("$0.002");
    expect(formatUsd(1234.5)).toBe("$1,234.50");
    expect(formatCost(0.00042)).toBe("$0.00042");
  });
});

describe("status bar view", () => {
  it("shows today's spend against the tightest daily budget", () => {
    const view = statusView(facts({ me: me({ budgets: [budget({ spentUsd: 4.2, budgetUsd: 20 }), budget({ scope: "team platform", spentUsd: 50, budgetUsd: 200 })] }) }), NOW);
    expect(view.text).toBe("$(pulse) $4.20 / $20.00");
    expect(view.accessibilityLabel).toBe("Tollgate: $4.20 of $20.00 spent today (user alice daily budget)");
    expect(view.severity).toBe("normal");
  });

  it("picks the budget with the least left, whoever owns it", () => {
    const data = me({ budgets: [budget({ spentUsd: 1, budgetUsd: 20 }), budget({ scope: "team platform", spentUsd: 195, budgetUsd: 200 })] });
    expect(tightestBudget(data, "day")?.scope).toBe("team platform");
    expect(statusView(facts({ me: data }), NOW).text).toBe("$(pulse) $195.00 / $200.00");
  });

  it("turns warning at 80% and error when exhausted", () => {
    expect(statusView(facts({ me: me({ budgets: [budget({ spentUsd: 15.99 })] }) }), NOW).severity).toBe("normal");
    expect(statusView(facts({ me: me({ budgets: [budget({ spentUsd: 16 })] }) }), NOW).severity).toBe("warning");
    const spent = statusView(facts({ me: me({ budgets: [budget({ spentUsd: 20.13 })] }) }), NOW);
    expect(spent.severity).toBe("error");
    expect(spent.text).toBe("$(pulse) $20.13 / $20.00");
    expect(spent.accessibilityLabel).toMatch(/^Tollgate: .*daily budget reached/);
    const month = statusView(facts({ me: me({ budgets: [budget({ spentUsd: 1 }), budget({ period: "month", spentUsd: 300, budgetUsd: 300 })] }) }), NOW);
    expect(month.severity).toBe("error");
  });

  it("shows the seconds until retry when rate-limited, and errors", () => {
    const view = statusView(facts({ me: me(), retryAt: NOW + 12_000 }), NOW);
    expect(view.text).toBe("$(pulse) $4.20 / $20.00 · $(watch) 12s");
    expect(view.severity).toBe("error");
    expect(view.retryInSeconds).toBe(12);
    expect(view.accessibilityLabel).toMatch(/^Tollgate: .*rate-limited, retry in 12s$/);
    const fromMe = statusView(facts({ me: me({ limits: [limit({ remaining: 0, used: 30, resetsAt: new Date(NOW + 5000).toISOString() })] }) }), NOW);
    expect(fromMe.text).toMatch(/5s$/);
    expect(statusView(facts({ me: me(), retryAt: NOW - 1 }), NOW).severity).toBe("normal");
  });

  it("says Sign In without a key and offline when the broker is unreachable", () => {
    expect(statusView(initialFacts(), NOW)).toMatchObject({ text: "Tollgate: Sign In", severity: "normal" });
    expect(statusView(facts({ keyRefused: true }), NOW)).toMatchObject({ text: "Tollgate: Sign In", severity: "error" });
    const offline = statusView(facts({ offline: true, me: me() }), NOW);
    expect(offline.text).toBe("Tollgate: offline");
    expect(offline.accessibilityLabel).toMatch(/^Tollgate/);
  });

  it("shows the day's spend when no daily budget applies", () => {
    const view = statusView(facts({ me: me({ budgets: [budget({ budgetUsd: null, spentUsd: 3.5 })] }) }), NOW);
    expect(view.text).toBe("$(pulse) $3.50 today");
  });

  it("puts budgets, per-minute limits and models in the tooltip", () => {
    const view = statusView(facts({ me: me({ limits: [limit(), limit({ limit: "tpm", max: 400000, used: 9000, remaining: 391000 })] }) }), NOW);
    expect(view.tooltip).toContain("$4.20 of $20.00");
    expect(view.tooltip).toContain("27 of 30");
    expect(view.tooltip).toContain("391k of 400k");
    expect(view.tooltip).toContain("`claude-sonnet-4-5`");
  });

  it("writes the tooltip's tables with explicit alignment and a gap before every column", () => {
    const data = me({
      budgets: [budget({ spentUsd: 0.72 }), budget({ period: "month", budgetUsd: 300, spentUsd: 0.72, resetsAt: new Date(NOW + (166 * 3600 + 13 * 60) * 1000).toISOString() })],
      limits: [limit({ remaining: 28, resetsAt: new Date(NOW + 39_000).toISOString() })],
    });
    const lines = statusView(facts({ me: data }), NOW).tooltip.split("\n");
    const gap = "&emsp;&ensp;";
    // Headings aligned like their cells: names left, amounts right, reset times left.
    expect(lines).toContain(`| Budget | ${gap}Spent | ${gap}Left | ${gap}Resets |`);
    expect(lines[lines.indexOf(`| Budget | ${gap}Spent | ${gap}Left | ${gap}Resets |`) + 1]).toBe("|:--|--:|--:|:--|");
    expect(lines).toContain(`| Today, user alice | ${gap}$0.72 of $20.00 | ${gap}$19.28 | ${gap}in 17h 0m |`);
    expect(lines).toContain(`| This month, user alice | ${gap}$0.72 of $300.00 | ${gap}$299.28 | ${gap}in 6d 22h |`);
    expect(lines).toContain(`| Per minute | ${gap}Left | ${gap}Resets |`);
    expect(lines[lines.indexOf(`| Per minute | ${gap}Left | ${gap}Resets |`) + 1]).toBe("|:--|--:|:--|");
    expect(lines).toContain(`| Requests, user alice | ${gap}28 of 30 | ${gap}in 39s |`);
  });
});

describe("status model", () => {
  it("follows responses: 429 sets a retry time from retry-after, 2xx clears it, 402 marks the budget, 401 the key", () => {
    const model = new StatusModel();
    let changes = 0;
    model.onChange(() => changes++);
    model.setSignedIn(true);
    model.applyMe(me());
    model.applyResponse(429, { "retry-after": "7" }, NOW);
    expect(model.facts.retryAt).toBe(NOW + 7000);
    model.applyResponse(200, { "x-ratelimit-remaining-requests": "29" }, NOW);
    expect(model.facts.retryAt).toBeUndefined();
    expect(model.facts.lastHeaders?.remainingRequests).toBe(29);
    model.applyResponse(402, { "x-should-retry": "false" }, NOW);
    expect(statusView(model.facts, NOW).severity).toBe("error");
    model.applyMe(me());
    expect(model.facts.budgetRefused).toBe(false);
    model.applyOffline();
    expect(statusView(model.facts, NOW).text).toBe("Tollgate: offline");
    model.applyResponse(401, {}, NOW);
    expect(statusView(model.facts, NOW).text).toBe("Tollgate: Sign In");
    model.setSignedIn(false);
    expect(model.facts.me).toBeUndefined();
    expect(changes).toBeGreaterThan(5);
  });
});

describe("quota bars", () => {
  it("has one bar per limit with used, left and severity", () => {
    const bars = quotaBars(
      me({
        budgets: [budget({ spentUsd: 17 }), budget({ period: "month", budgetUsd: null, spentUsd: 30 })],
        limits: [limit({ used: 30, remaining: 0 }), limit({ limit: "concurrent", max: 4, used: 1, remaining: 3 })],
      }),
    );
    expect(bars.map((bar) => [bar.title, bar.usedText, bar.maxText, bar.remainingText, bar.severity])).toEqual([
      ["Daily budget", "$17.00", "$20.00", "$3.00", "warning"],
      ["Requests per minute", "30", "30", "0", "error"],
      ["Concurrent requests", "1", "4", "3", "ok"],
    ]);
  });

  it("says which budgets are spent (the panel's spend number turns the error colour), not rate limits", () => {
    const none = quotaBars(me({ budgets: [budget({ spentUsd: 19.99 })], limits: [limit({ used: 30, remaining: 0 })] }));
    expect(spentBudgets(none)).toEqual([]);
    const spent = quotaBars(me({ budgets: [budget({ spentUsd: 20.13 }), budget({ period: "month", budgetUsd: 300, spentUsd: 40 })] }));
    expect(spentBudgets(spent).map((bar) => bar.id)).toEqual(["dailyUsd:user alice"]);
  });
});

describe("status model ordering", () => {
  it("keeps the newest /v1/me when answers arrive out of order", () => {
    const model = new StatusModel();
    model.setSignedIn(true);
    model.applyMe(me({ budgets: [budget({ spentUsd: 1.08 })] }), 2000);
    model.applyMe(me({ budgets: [budget({ spentUsd: 0.72 })] }), 1000); // asked earlier, answered later
    expect(statusView(model.facts, NOW).text).toBe("$(pulse) $1.08 / $20.00");
  });
});
