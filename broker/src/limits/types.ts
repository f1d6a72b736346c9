/*
 * The limits engine's vocabulary. `Limits` is the policy's (rpm, tpm, concurrent, dailyUsd,
 * monthlyUsd; an absent field is no limit); the rest is what the broker hands the store per request
 * and what comes back.
 */
import type { Limits } from "@tollgate/shared";

export type { Limits };

/** Whose limits: a user, a team, or a team's use of one model. */
export type Scope =
  | { kind: "user"; name: string }
  | { kind: "team"; name: string }
  | { kind: "team-model"; team: string; model: string };

/** A scope with its limits and the label messages use (`user alice`, `team platform, model x`). */
export interface ScopedLimits {
  scope: Scope;
  label: string;
  limits: Limits;
}

export interface AdmissionRequest {
  /** Every limit set that applies: the user's, the team's, the team's for the served model. */
  scopes: readonly ScopedLimits[];
  /** Input estimate + max output tokens; reserved against tpm until settled or released. */
  estimatedTokens: number;
  /** Integer pico-USD (1e-12 USD); reserved against budgets until settled or released. */
  estimatedCostPicoUsd: number;
}

/** Proof of admission; hand it back exactly once to `settle` or `release` (again is a no-op). */
export interface Ticket {
  readonly id: number;
  /** Clock time (ms) of admission. */
  readonly admittedAt: number;
}

/**
 * OpenAI-style rate limit headers from the tightest rpm / tpm scope (a pair is absent when no such
 * limit applies) and the tightest remaining budget (absent when no budget applies).
 */
export interface RateLimitHeaders {
  "x-ratelimit-limit-requests"?: string;
  "x-ratelimit-remaining-requests"?: string;
  /** Seconds until a request slot frees, e.g. `12s` (`0s` when nothing is counted). */
  "x-ratelimit-reset-requests"?: string;
  "x-ratelimit-limit-tokens"?: string;
  "x-ratelimit-remaining-tokens"?: string;
  "x-ratelimit-reset-tokens"?: string;
  /** Tightest of every daily / monthly budget, after in-flight reservations, 2 decimals. */
  "x-tollgate-budget-remaining-usd"?: string;
}

export type RateLimitName = "rpm" | "tpm" | "concurrent";
export type BudgetName = "dailyUsd" | "monthlyUsd";
export type LimitName = RateLimitName | BudgetName;

export type Admission =
  | { ok: true; ticket: Ticket; headers: RateLimitHeaders }
  | {
      ok: false;
      kind: "rate_limit";
      scopeLabel: string;
      limit: RateLimitName;
      /** Whole seconds, 1..60. */
      retryAfterSeconds: number;
      message: string;
      headers: RateLimitHeaders;
    }
  | {
      ok: false;
      kind: "budget";
      scopeLabel: string;
      limit: BudgetName;
      /** Recorded (settled) spend this period. */
      spentUsd: number;
      budgetUsd: number;
      resetsAt: Date;
      message: string;
      headers: RateLimitHeaders;
    };

export type Rejection = Extract<Admission, { ok: false }>;

/** What a request really used, known once it finished. */
export interface ActualUsage {
  /** Total tokens: input incl. cache reads and writes, plus output. */
  tokens: number;
  costPicoUsd: number;
}

/** One limit's state. Budgets are in USD; `used` includes in-flight reservations. */
export interface LimitStatus {
  limit: number;
  used: number;
  remaining: number;
  /** Part of `used` reserved by requests still in flight (tpm and budgets; 0 otherwise). */
  reserved: number;
  /**
   * rpm / tpm: when the oldest counted entry leaves the window (undefined when nothing is counted);
   * budgets: the end of the period; concurrent: undefined.
   */
  resetsAt: Date | undefined;
}

export interface ScopeStatus {
  scope: Scope;
  label: string;
  /** Only the limits the scope has. */
  limits: Partial<Record<LimitName, LimitStatus>>;
}

/** One ledger row: a request that completed (or failed) at `time`. */
export interface ActivityRow {
  /** Clock time (ms) at which the request's tokens were counted (when it settled). */
  time: number;
  /** The scopes the request was admitted under (see `ledgerScopes`). */
  scopes: readonly Scope[];
  /** Total tokens as at settle; 0 for a request that failed without usage. */
  tokens: number;
}

/**
 * Spend of one scope since the start of the current day and month (see `budgetPeriods`), in
 * pico-USD; a bigint keeps a sum past 2^53 (about $9,007) exact.
 */
export interface SpendRow {
  scope: Scope;
  dayPicoUsd: number | bigint;
  monthPicoUsd: number | bigint;
}

export interface RestoreState {
  /** Rows of the last 60 s; older rows are ignored. Each row counts one request. */
  activity: readonly ActivityRow[];
  spend: readonly SpendRow[];
}

/** A value now, or later: the in-memory store answers synchronously, a shared one over the network. */
export type Awaitable<T> = T | Promise<T>;

/**
 * Where limits are counted. `MemoryLimitStore` serves one process (every method synchronous, which
 * keeps the embedded mode's admission free of promise hops); `RedisLimitStore` serves a fleet (one
 * Lua script per call). Callers always `await` the result.
 */
export interface LimitStore {
  /** Atomic: either every limit admits and everything is reserved, or nothing is. */
  admit(request: AdmissionRequest): Awaitable<Admission>;
  /** Replaces the reservation by the real usage and frees the concurrency slot. Idempotent. */
  settle(ticket: Ticket, actual: ActualUsage): Awaitable<void>;
  /** The request never reached Bedrock or failed without usage: undoes reservations. Idempotent. */
  release(ticket: Ticket): Awaitable<void>;
  /**
   * Moves a request in flight to other scopes (a fallback model serves it), atomically: the old
   * reservation is replaced by one under `request`, or, when `request` is refused, kept as it was.
   * A scope both share is not counted twice against rpm. On success the old ticket is spent.
   */
  transfer(ticket: Ticket, request: AdmissionRequest): Awaitable<Admission>;
  /** Per scope and limit: limit, used, remaining, reset time; for `/v1/me`. */
  status(scopes: readonly ScopedLimits[]): Awaitable<ScopeStatus[]>;
  /** Requests of this scope in flight; 0 once every ticket was settled or released. */
  inFlight(scope: Scope): Awaitable<number>;
  /** Rebuilds windows and spend from the ledger after a restart; call once, before admitting. */
  restore(state: RestoreState): Awaitable<void>;
  /**
   * The policy's time zone changed: budgets move to the day and month of `timeZone`, their spend
   * replaced by `spend` (the ledger's totals for those periods, every settled request committed).
   * Rate windows, requests in flight and reservations are untouched.
   */
  rebase(timeZone: string, spend: readonly SpendRow[]): Awaitable<void>;
}

/** Milliseconds since the epoch; injected so tests control time. */
export type Clock = () => number;
