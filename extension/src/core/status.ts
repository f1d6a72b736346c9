// The status bar's state and what it shows. StatusModel collects facts (key present, /v1/me,
// responses through the local endpoint, broker reachability); statusView turns them into text,
// tooltip, accessibility label and severity. No VS Code here: the vscode layer only renders.
import type { MeResponse } from "./api.js";
import { formatCompact, formatCount, formatResetsIn, formatSeconds, formatUsd } from "./format.js";
import type { HeaderBag, RateLimitInfo } from "./headers.js";
import { parseRateLimitHeaders } from "./headers.js";
import { WARNING_FRACTION, ownSpendToday, rateLimitedUntil, tightestBudget } from "./quota.js";

export interface StatusFacts {
  signedIn: boolean;
  /** The broker could not be reached (last poll or last proxied request). */
  offline: boolean;
  /** The broker refused the key (401). */
  keyRefused: boolean;
  me: MeResponse | undefined;
  /** From the last response through the local endpoint. */
  lastHeaders: RateLimitInfo | undefined;
  /** A 429 told us to wait until then (epoch ms). */
  retryAt: number | undefined;
  /** A 402 said a budget is spent (cleared by the next /v1/me). */
  budgetRefused: boolean;
}

export type StatusSeverity = "normal" | "warning" | "error";

export interface StatusView {
  text: string;
  /** Markdown. */
  tooltip: string;
  accessibilityLabel: string;
  severity: StatusSeverity;
  /** Seconds until a rate limit frees, when rate-limited (the view ticks while this is set). */
  retryInSeconds?: number;
}

export function initialFacts(): StatusFacts {
  return { signedIn: false, offline: false, keyRefused: false, me: undefined, lastHeaders: undefined, retryAt: undefined, budgetRefused: false };
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}

/**
 * Space before every column but the first. VS Code's hover gives table cells no padding, so without
 * it "$19.28" and "in 21h 49m" run together. An entity, as markdown trims a cell's own whitespace
 * (non-breaking and em spaces included) before decoding entities.
 */
export const COLUMN_GAP = "&emsp;&ensp;";

/** One markdown table row; every cell but the first starts with COLUMN_GAP. */
function tableRow(cells: string[]): string {
  return `| ${cells.map((cell, i) => (i === 0 ? cell : `${COLUMN_GAP}${cell}`)).join(" | ")} |`;
}

function tooltipFor(facts: StatusFacts, now: number): string {
  const me = facts.me;
  const lines: string[] = [];
  if (!me) return "**Tollgate**";
  lines.push(`**Tollgate** · ${escapeMarkdown(me.user)} (team ${escapeMarkdown(me.team)})`, "");
  const budgets = me.budgets.filter((b) => b.budgetUsd !== null);
  if (budgets.length) {
    lines.push(tableRow(["Budget", "Spent", "Left", "Resets"]), "|:--|--:|--:|:--|");
    for (const budget of budgets) {
      const name = `${budget.period === "day" ? "Today" : "This month"}, ${escapeMarkdown(budget.scope)}`;
      lines.push(
        tableRow([name, `${formatUsd(budget.spentUsd)} of ${formatUsd(budget.budgetUsd ?? 0)}`, formatUsd(budget.remainingUsd ?? 0), formatResetsIn(budget.resetsAt, now)]),
      );
    }
    lines.push("");
  } else {
    lines.push(`Spent today: ${formatUsd(ownSpendToday(me))} (no budget set)`, "");
  }
  const rates = me.limits.filter((l) => l.limit !== "concurrent");
  if (rates.length) {
    lines.push(tableRow(["Per minute", "Left", "Resets"]), "|:--|--:|:--|");
    for (const limit of rates) {
      const fmt = limit.limit === "tpm" ? formatCompact : formatCount;
      lines.push(tableRow([`${limit.limit === "rpm" ? "Requests" : "Tokens"}, ${escapeMarkdown(limit.scope)}`, `${fmt(limit.remaining)} of ${fmt(limit.max)}`, formatResetsIn(limit.resetsAt, now)]));
    }
    lines.push("");
  } else if (facts.lastHeaders?.remainingRequests !== undefined) {
    lines.push(`Requests left this minute: ${formatCount(facts.lastHeaders.remainingRequests)}`, "");
  }
  if (me.models.length) lines.push(`Models: ${me.models.map((m) => `\`${m.replace(/`/g, "")}\``).join(", ")}`, "");
  lines.push("Click for usage and cost.");
  return lines.join("\n");
}

export function statusView(facts: StatusFacts, now: number): StatusView {
  if (!facts.signedIn || facts.keyRefused) {
    const why = facts.keyRefused ? "The broker refused your key. " : "";
    return {
      text: "Tollgate: Sign In",
      tooltip: `**Tollgate**\n\n${why}Click to sign in with your Tollgate key (or set TOLLGATE_API_KEY, or ~/.config/tollgate/credentials).`,
      accessibilityLabel: `Tollgate: ${why}not signed in. Activate to sign in.`,
      severity: facts.keyRefused ? "error" : "normal",
    };
  }
  if (facts.offline) {
    return {
      text: "Tollgate: offline",
      tooltip: "**Tollgate**\n\nThe broker is unreachable; retrying. Check that `tollgate serve` runs and the setting `tollgate.brokerUrl`.",
      accessibilityLabel: "Tollgate: offline, the broker is unreachable",
      severity: "warning",
    };
  }
  const me = facts.me;
  if (!me) {
    return { text: "$(pulse) Tollgate", tooltip: "**Tollgate**\n\nLoading…", accessibilityLabel: "Tollgate: loading", severity: "normal" };
  }

  const day = tightestBudget(me, "day");
  const month = tightestBudget(me, "month");
  let text: string;
  let label: string;
  let severity: StatusSeverity = "normal";
  if (day) {
    text = `$(pulse) ${formatUsd(day.spentUsd)} / ${formatUsd(day.budgetUsd)}`;
    label = `Tollgate: ${formatUsd(day.spentUsd)} of ${formatUsd(day.budgetUsd)} spent today (${day.scope} daily budget)`;
    if (day.remainingUsd <= 0) severity = "error";
    else if (day.spentUsd / day.budgetUsd >= WARNING_FRACTION) severity = "warning";
  } else {
    const spent = ownSpendToday(me);
    text = `$(pulse) ${formatUsd(spent)} today`;
    label = `Tollgate: ${formatUsd(spent)} spent today`;
  }
  if (month) {
    if (month.remainingUsd <= 0) {
      severity = "error";
      label += `; monthly budget of ${formatUsd(month.budgetUsd)} reached (${month.scope})`;
    } else if (severity === "normal" && month.spentUsd / month.budgetUsd >= WARNING_FRACTION) {
      severity = "warning";
    }
  }
  if (day && day.remainingUsd <= 0) label += "; daily budget reached";
  if (facts.budgetRefused && severity !== "error") {
    severity = "error";
    label += "; budget reached";
  }

  const retryAt = Math.max(facts.retryAt ?? 0, rateLimitedUntil(me, now) ?? 0);
  const view: StatusView = { text, tooltip: tooltipFor(facts, now), accessibilityLabel: label, severity };
  if (retryAt > now) {
    const seconds = Math.ceil((retryAt - now) / 1000);
    view.text = `${text} · $(watch) ${formatSeconds(seconds)}`;
    view.accessibilityLabel = `${label}; rate-limited, retry in ${formatSeconds(seconds)}`;
    view.severity = "error";
    view.retryInSeconds = seconds;
  }
  return view;
}

type Listener = () => void;

/** The facts behind the status bar, updated from polls and proxied responses; tells listeners. */
export class StatusModel {
  private state: StatusFacts = initialFacts();
  private readonly listeners = new Set<Listener>();

  get facts(): Readonly<StatusFacts> {
    return this.state;
  }

  onChange(listener: Listener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private update(patch: Partial<StatusFacts>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of [...this.listeners]) listener();
  }

  setSignedIn(signedIn: boolean): void {
    if (signedIn === this.state.signedIn && !(!signedIn && this.state.me)) return;
    this.update(signedIn ? { signedIn, keyRefused: false } : { ...initialFacts() });
  }

  private meAskedAt = 0;

  /**
   * A /v1/me answer. `askedAt` (when the request was sent) keeps a slow answer from replacing a
   * newer one: the poll and the panel both ask, and a request may end between their questions.
   */
  applyMe(me: MeResponse, askedAt = Date.now()): void {
    if (askedAt < this.meAskedAt) return;
    this.meAskedAt = askedAt;
    this.update({ me, offline: false, keyRefused: false, budgetRefused: false });
  }

  applyOffline(): void {
    if (!this.state.offline) this.update({ offline: true });
  }

  applyKeyRefused(): void {
    this.update({ keyRefused: true, offline: false });
  }

  /** A response from the broker (through the local endpoint, or a poll): headers and status. */
  applyResponse(status: number, headers: HeaderBag, now = Date.now()): void {
    const info = parseRateLimitHeaders(headers, now);
    const patch: Partial<StatusFacts> = { lastHeaders: info, offline: false };
    if (status === 429) {
      const seconds = info.retryAfterSeconds ?? info.resetRequestsSeconds ?? 5;
      patch.retryAt = now + seconds * 1000;
    } else if (status >= 200 && status < 300) {
      patch.retryAt = undefined;
    }
    if (status === 402) patch.budgetRefused = true;
    if (status === 401) patch.keyRefused = true;
    this.update(patch);
  }
}
