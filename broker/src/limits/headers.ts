import { formatRemainingUsd } from "./money.js";
import type { RateLimitHeaders } from "./types.js";

/**
 * Collects every applicable limit and keeps the tightest of each kind: the fewest remaining
 * requests, the fewest remaining tokens (ties: the smaller limit), the least remaining budget.
 * Shared by stores so headers mean the same whichever store counted.
 */
export class TightestLimits {
  private requestLimit = -1;
  private requestRemaining = 0;
  private requestResetMs = 0;
  private tokenLimit = -1;
  private tokenRemaining = 0;
  private tokenResetMs = 0;
  private budgetRemainingUsd = -1;

  /** `resetInMs`: until a slot frees (the oldest counted request leaves); 0 when none is counted. */
  requests(limit: number, remaining: number, resetInMs: number): void {
    if (
      this.requestLimit < 0 ||
      remaining < this.requestRemaining ||
      (remaining === this.requestRemaining && limit < this.requestLimit)
    ) {
      this.requestLimit = limit;
      this.requestRemaining = remaining;
      this.requestResetMs = resetInMs;
    }
  }

  tokens(limit: number, remaining: number, resetInMs: number): void {
    if (
      this.tokenLimit < 0 ||
      remaining < this.tokenRemaining ||
      (remaining === this.tokenRemaining && limit < this.tokenLimit)
    ) {
      this.tokenLimit = limit;
      this.tokenRemaining = remaining;
      this.tokenResetMs = resetInMs;
    }
  }

  budget(remainingUsd: number): void {
    if (this.budgetRemainingUsd < 0 || remainingUsd < this.budgetRemainingUsd) this.budgetRemainingUsd = remainingUsd;
  }

  headers(): RateLimitHeaders {
    const headers: RateLimitHeaders = {};
    if (this.requestLimit >= 0) {
      headers["x-ratelimit-limit-requests"] = String(this.requestLimit);
      headers["x-ratelimit-remaining-requests"] = String(this.requestRemaining);
      headers["x-ratelimit-reset-requests"] = seconds(this.requestResetMs);
    }
    if (this.tokenLimit >= 0) {
      headers["x-ratelimit-limit-tokens"] = String(this.tokenLimit);
      headers["x-ratelimit-remaining-tokens"] = String(this.tokenRemaining);
      headers["x-ratelimit-reset-tokens"] = seconds(this.tokenResetMs);
    }
    if (this.budgetRemainingUsd >= 0) {
      headers["x-tollgate-budget-remaining-usd"] = formatRemainingUsd(this.budgetRemainingUsd);
    }
    return headers;
  }
}

function seconds(ms: number): string {
  return `${ms > 0 ? Math.ceil(ms / 1000) : 0}s`;
}
