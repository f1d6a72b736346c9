import { formatUsd } from "./money.js";
import { formatZoneTime } from "./periods.js";
import type { BudgetName, RateLimitName } from "./types.js";

const INTEGER = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** Whole seconds until `at`, rounded up, within 1..60 (what `retry-after` carries). */
export function retryAfterSeconds(at: number, now: number): number {
  return Math.min(60, Math.max(1, Math.ceil((at - now) / 1000)));
}

/** `user alice: 30 requests per minute; retry in 12 s`. */
export function rateLimitMessage(label: string, limit: RateLimitName, value: number, retryAfter: number): string {
  const count = (one: string, many: string): string => `${INTEGER.format(value)} ${value === 1 ? one : many}`;
  const what =
    limit === "rpm"
      ? `${count("request", "requests")} per minute`
      : limit === "tpm"
        ? `${count("token", "tokens")} per minute`
        : count("concurrent request", "concurrent requests");
  return `${label}: ${what}; retry in ${retryAfter} s`;
}

/**
 * `team platform: daily budget of $200.00 reached ($200.13 spent); resets 2026-11-24 00:00 UTC`,
 * naming what requests still in flight have reserved when that is what tipped it over.
 */
export function budgetMessage(input: {
  label: string;
  limit: BudgetName;
  budgetUsd: number;
  spentUsd: number;
  reservedUsd: number;
  resetsAt: number;
  timeZone: string;
}): string {
  const period = input.limit === "dailyUsd" ? "daily" : "monthly";
  const inFlight = input.reservedUsd > 0 ? `, ${formatUsd(input.reservedUsd)} reserved by requests in flight` : "";
  return (
    `${input.label}: ${period} budget of ${formatUsd(input.budgetUsd)} reached ` +
    `(${formatUsd(input.spentUsd)} spent${inFlight}); resets ${formatZoneTime(input.timeZone, input.resetsAt)}`
  );
}
