// The usage page inside the webview: renders the host's PanelState with DOM APIs (text only, no
// innerHTML of data), draws the daily chart as inline SVG, and talks to the host by postMessage.
import { formatCompact, formatCost, formatCount, formatMs, formatResetsIn, formatTokenTriple, formatUsd } from "../core/format.js";
import { spentBudgets, type QuotaBar } from "../core/quota.js";
import type { RequestRecord, UsageRow } from "../core/api.js";
import type { HostMessage, PanelData, PanelState, WebviewMessage } from "../protocol.js";
import { layoutDailyChart } from "./chart.js";

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const SVG_NS = "http://www.w3.org/2000/svg";

type Child = Node | string | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  for (const child of children) if (child !== undefined && child !== false) element.append(child);
  return element;
}

function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElement {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  for (const child of children) if (child !== undefined && child !== false) element.append(child);
  return element;
}

function section(title: string, id: string, ...children: Child[]): HTMLElement {
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

function button(label: string, message: WebviewMessage, primary = false): HTMLButtonElement {
  const element = h("button", { type: "button", class: primary ? "primary" : "secondary" }, label);
  element.addEventListener("click", () => vscode.postMessage(message));
  return element;
}

/** The bar's fill; its width is set through CSSOM (the CSP allows no inline style attributes). */
function fill(percent: number): HTMLElement {
  const element = h("div", { class: "fill" });
  element.style.width = `${percent}%`;
  return element;
}

/** Tokens in / cached / out: compact to read ("100k / 0 / 4.0k"); the exact numbers in a title and for screen readers. */
function tokensCell(input: number, cached: number, output: number): HTMLElement {
  const { text, exact } = formatTokenTriple(input, cached, output);
  return h("td", { class: "num", title: `${exact} tokens` }, h("span", { "aria-hidden": "true" }, text), h("span", { class: "visually-hidden" }, `${exact} tokens`));
}

function quotaBar(bar: QuotaBar, now: number): HTMLElement {
  const resets = formatResetsIn(bar.resetsAt, now);
  const label = `${bar.title}, ${bar.scope}: ${bar.usedText} of ${bar.maxText} used, ${bar.remainingText} left${resets ? `, resets ${resets}` : ""}`;
  const percent = Math.round(bar.fraction * 100);
  return h(
    "div",
    { class: `quota-bar ${bar.severity}`, "data-limit": bar.id },
    h("div", { class: "quota-head" }, h("span", { class: "quota-title" }, bar.title, h("span", { class: "quota-scope muted" }, bar.scope)), h("span", { class: "quota-amount" }, `${bar.usedText} / ${bar.maxText}`)),
    h(
      "div",
      { class: "track", role: "progressbar", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(percent), "aria-valuetext": label },
      fill(percent),
    ),
    h("div", { class: "quota-foot muted" }, `${bar.remainingText} left`, resets ? ` · resets ${resets}` : ""),
  );
}

function dailyChart(data: PanelData): HTMLElement {
  const layout = layoutDailyChart(data.daily);
  const total = data.daily.reduce((sum, point) => sum + point.costUsd, 0);
  const peak = data.daily.reduce((best, point) => (point.costUsd > best.costUsd ? point : best), data.daily[0] ?? { date: "", costUsd: 0, requests: 0 });
  const summary = `Spend per day over the last ${data.daily.length} days: ${formatUsd(total)} in total${peak.costUsd > 0 ? `, highest ${formatCost(peak.costUsd)} on ${peak.date}` : ""}.`;
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${layout.width} ${layout.height}`, role: "img", "aria-labelledby": "chart-title chart-desc", preserveAspectRatio: "none", class: "chart", "data-testid": "daily-chart", focusable: "false" },
    svg("title", { id: "chart-title" }, "Spend per day"),
    svg("desc", { id: "chart-desc" }, summary),
    svg("line", { x1: 0, x2: layout.width, y1: layout.bottom, y2: layout.bottom, class: "axis" }),
    svg("line", { x1: 0, x2: layout.width, y1: layout.top, y2: layout.top, class: "grid" }),
    ...layout.bars.map((bar, index) =>
      svg(
        "rect",
        { x: bar.x, y: bar.y, width: bar.width, height: bar.height, class: index === layout.bars.length - 1 ? "bar today" : "bar" },
        svg("title", {}, `${bar.date}: ${formatCost(bar.costUsd)}, ${formatCount(bar.requests)} requests`),
      ),
    ),
  );
  const first = data.daily[0]?.date ?? "";
  const last = data.daily[data.daily.length - 1]?.date ?? "";
  const table = h(
    "table",
    { class: "data" },
    h("caption", {}, "Spend per day"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Day"), h("th", { scope: "col", class: "num" }, "Cost"), h("th", { scope: "col", class: "num" }, "Requests"))),
    h("tbody", {}, ...[...data.daily].reverse().map((point) => h("tr", {}, h("th", { scope: "row" }, point.date), h("td", { class: "num" }, formatCost(point.costUsd)), h("td", { class: "num" }, formatCount(point.requests))))),
  );
  return h(
    "div",
    { class: "chart-block" },
    h("div", { class: "chart-scale muted", "aria-hidden": "true" }, `max ${formatUsd(layout.maxUsd)}`),
    chart,
    h("div", { class: "chart-axis muted", "aria-hidden": "true" }, h("span", {}, first), h("span", {}, last)),
    h("p", { class: "muted" }, summary),
    h("details", {}, h("summary", {}, "Show as a table"), table),
  );
}

function usageTable(caption: string, keyTitle: string, rows: UsageRow[], testid: string): HTMLElement {
  if (!rows.length) return h("p", { class: "muted" }, "No usage yet.");
  return h(
    "table",
    { class: "data", "data-testid": testid },
    h("caption", { class: "visually-hidden" }, caption),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, keyTitle),
        h("th", { scope: "col", class: "num" }, "Requests"),
        h("th", { scope: "col", class: "num" }, "Tokens in / cached / out"),
        h("th", { scope: "col", class: "num" }, "Cost"),
        h("th", { scope: "col", class: "num" }, "Cache saved"),
      ),
    ),
    h(
      "tbody",
      {},
      ...rows.map((row) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, row.key || "(none)"),
          h("td", { class: "num" }, formatCount(row.requests)),
          tokensCell(row.inputTokens, row.cacheReadTokens, row.outputTokens),
          h("td", { class: "num" }, formatCost(row.costUsd)),
          h("td", { class: "num" }, formatCost(row.cacheSavingsUsd)),
        ),
      ),
    ),
  );
}

function requestsTable(requests: RequestRecord[]): HTMLElement {
  const headers = ["Time", "Model → served by", "Tokens in / cached / out", "Cost", "Latency", "Fallbacks", "Status"];
  return h(
    "table",
    { class: "data", "data-testid": "requests" },
    h("caption", { class: "visually-hidden" }, "Recent requests, newest first"),
    h("thead", {}, h("tr", {}, ...headers.map((title, index) => h("th", { scope: "col", class: index >= 2 && index <= 5 ? "num" : "" }, title)))),
    h(
      "tbody",
      {},
      ...requests.map((request) => {
        const time = new Date(request.time);
        const served = request.servedModel && request.servedModel !== request.model ? `${request.model} → ${request.servedModel}` : request.model;
        const deployment = request.deployment ? ` (${request.deployment})` : "";
        const status = request.status === "ok" ? "ok" : `${request.status}${request.errorCode ? `: ${request.errorCode}` : ""} (${request.httpStatus})`;
        return h(
          "tr",
          { "data-testid": "request-row", class: request.status },
          h("td", { title: time.toISOString() }, time.toLocaleTimeString()),
          h("td", {}, served + deployment),
          tokensCell(request.inputTokens, request.cacheReadTokens, request.outputTokens),
          h("td", { class: "num" }, formatCost(request.costUsd)),
          h("td", { class: "num" }, formatMs(request.latencyMs)),
          h("td", { class: "num" }, String(request.fallbacks)),
          h("td", {}, status),
        );
      }),
    ),
  );
}

function renderData(data: PanelData, now: number, problem?: string): HTMLElement[] {
  const parts: HTMLElement[] = [];
  if (problem) parts.push(h("div", { class: "banner", role: "alert" }, problem));
  const budget = data.dailyBudget;
  const spent = spentBudgets(data.quota);
  // Not by colour alone: the line under the number says which budget is spent.
  const shown = budget ? `dailyUsd:${budget.scope}` : undefined;
  const others = spent.filter((bar) => bar.id !== shown).map((bar) => `${bar.title.toLowerCase()} (${bar.scope})`);
  const shownSpent = spent.some((bar) => bar.id === shown);
  const spentNote = shownSpent ? ` · reached${others.length ? `, and ${others.join(", ")}` : ""}` : others.length ? ` · reached: ${others.join(", ")}` : "";
  parts.push(
    h(
      "header",
      { class: "summary" },
      h(
        "div",
        {},
        h("div", { class: "muted", id: "spend-today-label" }, "Spent today"),
        h("div", { class: spent.length ? "big error" : "big", "data-testid": "spend-today", "aria-labelledby": "spend-today-label" }, formatUsd(data.spendTodayUsd)),
        h("div", { class: "muted", "data-testid": "spend-budget" }, `${budget ? `${formatUsd(budget.spentUsd)} of ${formatUsd(budget.budgetUsd)} daily budget (${budget.scope})` : "No daily budget"}${spentNote}`),
      ),
      h("div", { class: "who muted" }, `${data.user} · team ${data.team}`, h("br"), `Last 30 days: ${formatUsd(data.total.costUsd)}, ${formatCount(data.total.requests)} requests`),
      h("div", { class: "actions" }, button("Refresh", { type: "refresh" }), button("Configure Cline", { type: "run", command: "configureCline" })),
    ),
  );
  parts.push(
    section(
      "Quota",
      "quota-title",
      h("div", { "data-testid": "quota", class: "quota" }, ...(data.quota.length ? data.quota.map((bar) => quotaBar(bar, now)) : [h("p", { class: "muted" }, "No limits apply to you.")])),
    ),
  );
  parts.push(section("Cost per day", "daily-title", dailyChart(data)));
  parts.push(
    section(
      "Prompt caching",
      "cache-title",
      h(
        "p",
        {},
        `Caching saved ${formatCost(data.total.cacheSavingsUsd)} over 30 days (${formatCompact(data.total.cacheReadTokens)} tokens read from cache, ${formatCompact(data.total.cacheWriteTokens)} written).`,
      ),
    ),
  );
  parts.push(section("By model", "model-title", usageTable("Cost by model, last 30 days", "Model", data.byModel, "by-model")));
  parts.push(section("By project", "project-title", usageTable("Cost by project, last 30 days", "Project", data.byProject, "by-project")));
  parts.push(section("Recent requests", "requests-title", requestsTable(data.requests)));
  parts.push(h("p", { class: "muted small" }, `Updated ${new Date(data.generatedAt).toLocaleTimeString()} · times in your browser's zone; days in ${data.timezone}`));
  return parts;
}

function render(state: PanelState, now: number): void {
  const root = document.getElementById("root");
  if (!root) return;
  root.setAttribute("aria-busy", state.status === "loading" ? "true" : "false");
  let parts: HTMLElement[];
  switch (state.status) {
    case "loading":
      parts = [h("p", { class: "muted" }, "Loading…")];
      break;
    case "signed-out":
      parts = [
        h("h1", {}, "Tollgate"),
        h("p", {}, "You are not signed in. Sign in with the Tollgate key your admin gave you (or set TOLLGATE_API_KEY, or ~/.config/tollgate/credentials)."),
        h("div", { class: "actions" }, button("Sign In", { type: "run", command: "signIn" }, true)),
      ];
      break;
    case "problem":
      parts = state.data
        ? renderData(state.data, now, state.offline ? `Offline — showing the last figures. ${state.message}` : state.message)
        : [
            h("div", { class: "banner", role: "alert" }, state.offline ? `Tollgate: offline. ${state.message}` : state.message),
            h("div", { class: "actions" }, button("Retry", { type: "refresh" }, true), button("Show log", { type: "run", command: "showLog" })),
          ];
      break;
    case "ready":
      parts = renderData(state.data, now);
      break;
  }
  // Keep keyboard focus on a button that survives the re-render (matched by its text).
  const focused = document.activeElement instanceof HTMLButtonElement ? document.activeElement.textContent : undefined;
  root.replaceChildren(...parts);
  if (focused) [...root.querySelectorAll("button")].find((b) => b.textContent === focused)?.focus();
}

window.addEventListener("message", (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  if (message?.type !== "state") return;
  vscode.setState(message);
  render(message.state, Date.parse(message.now) || Date.now());
});

const saved = vscode.getState() as HostMessage | undefined;
if (saved?.type === "state") render(saved.state, Date.now());
vscode.postMessage({ type: "ready" });
