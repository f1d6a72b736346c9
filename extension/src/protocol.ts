// The typed message protocol between the extension host and its webviews (the usage panel and
// view). Types only: the webview bundle imports nothing at run time from here. The host validates
// what the webview sends with the zod schema in core/webview-messages.ts.
import type { RequestRecord, UsageRow } from "./core/api.js";
import type { QuotaBar } from "./core/quota.js";

export interface DailyPoint {
  /** YYYY-MM-DD in the policy's time zone. */
  date: string;
  costUsd: number;
  requests: number;
}

export interface PanelData {
  generatedAt: string;
  user: string;
  team: string;
  timezone: string;
  models: string[];
  /** What the developer spent today (their own scope). */
  spendTodayUsd: number;
  /** The tightest daily budget, when one is set. */
  dailyBudget: { scope: string; budgetUsd: number; spentUsd: number; remainingUsd: number } | undefined;
  quota: QuotaBar[];
  /** The last 30 days, oldest first, every day present. */
  daily: DailyPoint[];
  byModel: UsageRow[];
  byProject: UsageRow[];
  total: Omit<UsageRow, "key">;
  requests: RequestRecord[];
}

export type PanelState =
  | { status: "loading" }
  | { status: "signed-out" }
  | { status: "ready"; data: PanelData }
  /** Data may be the last good one, shown with the problem. */
  | { status: "problem"; message: string; offline: boolean; data: PanelData | undefined };

/** Host → webview. */
export type HostMessage = { type: "state"; state: PanelState; now: string };

/** Webview → host. */
export type WebviewMessage =
  | { type: "ready" }
  | { type: "refresh" }
  | { type: "run"; command: "signIn" | "configureCline" | "showLog" };
