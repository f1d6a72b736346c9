// Gathers what the usage panel shows from the broker's user API, in one round of parallel calls.
import type { MeResponse, UsageResponse } from "./api.js";
import type { BrokerClient } from "./broker-client.js";
import { ownSpendToday, quotaBars, tightestBudget } from "./quota.js";
import type { DailyPoint, PanelData } from "../protocol.js";

export const PANEL_DAYS = 30;
export const PANEL_REQUESTS = 25;
const DAY_MS = 24 * 60 * 60 * 1000;

/** YYYY-MM-DD of `time` in `timeZone`. */
export function localDate(time: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(time);
  const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? "00";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** The last `days` local dates ending today, oldest first, each with that day's usage (zero when none). */
export function dailySeries(usage: UsageResponse, timeZone: string, now: number, days = PANEL_DAYS): DailyPoint[] {
  const byDate = new Map(usage.rows.map((row) => [row.key, row]));
  const dates: string[] = [];
  // Step back by 24 h from now, skipping repeats around DST changes, until we have `days` dates.
  for (let t = now; dates.length < days; t -= DAY_MS / 2) {
    const date = localDate(t, timeZone);
    if (dates[dates.length - 1] !== date && !dates.includes(date)) dates.push(date);
  }
  return dates.reverse().map((date) => {
    const row = byDate.get(date);
    return { date, costUsd: row?.costUsd ?? 0, requests: row?.requests ?? 0 };
  });
}

export function buildPanelData(input: {
  me: MeResponse;
  byDay: UsageResponse;
  byModel: UsageResponse;
  byProject: UsageResponse;
  requests: PanelData["requests"];
  now: number;
}): PanelData {
  const { me, now } = input;
  const day = tightestBudget(me, "day");
  const sortByCost = (rows: UsageResponse["rows"]): UsageResponse["rows"] => [...rows].sort((a, b) => b.costUsd - a.costUsd);
  return {
    generatedAt: new Date(now).toISOString(),
    user: me.user,
    team: me.team,
    timezone: me.timezone,
    models: me.models,
    spendTodayUsd: ownSpendToday(me),
    dailyBudget: day ? { scope: day.scope, budgetUsd: day.budgetUsd, spentUsd: day.spentUsd, remainingUsd: day.remainingUsd } : undefined,
    quota: quotaBars(me),
    daily: dailySeries(input.byDay, me.timezone, now),
    byModel: sortByCost(input.byModel.rows),
    byProject: sortByCost(input.byProject.rows),
    total: input.byDay.total,
    requests: input.requests,
  };
}

/** Loads the panel's data; `onMe` sees the /v1/me answer too (the status bar shows the same numbers). */
export async function loadPanelData(client: BrokerClient, now = Date.now(), onMe?: (me: MeResponse, askedAt: number) => void): Promise<PanelData> {
  const askedAt = Date.now();
  // 31 days back so the oldest local day of the 30 is complete in any time zone.
  const from = new Date(now - (PANEL_DAYS + 1) * DAY_MS);
  const [me, byDay, byModel, byProject, requests] = await Promise.all([
    client.me(),
    client.usage({ groupBy: "day", from }),
    client.usage({ groupBy: "model", from }),
    client.usage({ groupBy: "project", from }),
    client.requests(PANEL_REQUESTS),
  ]);
  onMe?.(me, askedAt);
  return buildPanelData({ me, byDay, byModel, byProject, requests, now });
}
