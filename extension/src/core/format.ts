// Formatting shared by the status bar and the webview (no Node or DOM imports: both bundles use it).
import { formatUsd } from "../../../shared/src/api/format-usd.js";

/** Dollars: 4.2 → "$4.20", 1234.5 → "$1,234.50", 0.0042 → "$0.0042" (the broker's own format). */
export { formatUsd };

/** A request's cost: small costs keep their precision, as every amount now does. */
export function formatCost(value: number): string {
  return formatUsd(value);
}

/** 1234567 → "1,234,567". */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** 1234 → "1.2k", 2500000 → "2.5M". */
export function formatCompact(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e7 ? 0 : 1)}M`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(abs >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(value));
}

/**
 * Seconds as a short duration, two units at most: 12 → "12s", 95 → "1m 35s", 7260 → "2h 1m",
 * 598380 → "6d 22h". The one duration format of the status bar tooltip and the panel.
 */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** When something resets, relative to now: "in 12s", "in 3h 20m". */
export function formatResetsIn(resetsAt: string | null | undefined, now: number): string {
  if (!resetsAt) return "";
  const at = Date.parse(resetsAt);
  if (Number.isNaN(at)) return "";
  return at <= now ? "now" : `in ${formatSeconds((at - now) / 1000)}`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/**
 * Tokens in / cached / out, as the usage panel's tables show them: compact for the eye
 * ("100k / 0 / 4.0k") and exact for a title and screen readers ("100,000 in, 0 cached, 4,000 out").
 */
export function formatTokenTriple(input: number, cached: number, output: number): { text: string; exact: string } {
  return {
    text: `${formatCompact(input)} / ${formatCompact(cached)} / ${formatCompact(output)}`,
    exact: `${formatCount(input)} uncached in, ${formatCount(cached)} cache read, ${formatCount(output)} out`,
  };
}
