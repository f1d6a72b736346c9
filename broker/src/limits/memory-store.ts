import { TightestLimits } from "./headers.js";
import { budgetMessage, rateLimitMessage, retryAfterSeconds } from "./messages.js";
import { PicoTotal, remainingUsd, sumBelow, usdToMicro } from "./money.js";
import { assertTimeZone, budgetPeriods, type BudgetPeriods } from "./periods.js";
import { scopeKey } from "./scope.js";
import type {
  ActualUsage,
  Admission,
  AdmissionRequest,
  BudgetName,
  Clock,
  LimitStatus,
  LimitStore,
  RateLimitName,
  RestoreState,
  Scope,
  ScopedLimits,
  ScopeStatus,
  SpendRow,
  Ticket,
} from "./types.js";
import { SlidingWindow, WINDOW_MS } from "./window.js";

export interface MemoryLimitStoreOptions {
  /** IANA zone whose midnights and first-of-months reset budgets, e.g. "Europe/Berlin". */
  timeZone: string;
  /** Defaults to Date.now. */
  now?: Clock;
}

/** Everything counted for one scope. */
class ScopeState {
  readonly window = new SlidingWindow();
  inFlight = 0;
  /** Estimates of requests in flight, held against tpm until they settle. */
  reservedTokens = 0;
  /** Estimates of requests in flight, held against budgets until they settle. */
  readonly reservedCost = new PicoTotal();
  readonly daySpent = new PicoTotal();
  readonly monthSpent = new PicoTotal();
  /** Starts of the periods the spend above belongs to. */
  dayStart = Number.NaN;
  monthStart = Number.NaN;

  isIdle(): boolean {
    return (
      this.window.isEmpty() &&
      this.inFlight === 0 &&
      this.reservedTokens === 0 &&
      this.reservedCost.isZero() &&
      this.daySpent.isZero() &&
      this.monthSpent.isZero()
    );
  }
}

interface Reservation {
  /** Distinct states, so a scope listed twice is reserved once. */
  states: ScopeState[];
  tokens: number;
  costPicoUsd: number;
}

// Process-wide, so a ticket handed to the wrong store finds nothing rather than someone else's.
let lastTicketId = 0;

const NONE_COUNTED: ReadonlySet<never> = new Set();

/** Idle scopes are dropped at most this often (memory stays bounded by recently active scopes). */
const SWEEP_EVERY_MS = 60_000;

/**
 * Limits counted in this process's memory. Right for one broker; a fleet needs a shared store or
 * each instance admits the full limit. Every method is synchronous, which is what makes `admit`
 * atomic: nothing else runs between its checks and its reservations.
 */
export class MemoryLimitStore implements LimitStore {
  private readonly now: Clock;
  private timeZone: string;
  // Keyed by the names themselves rather than `scopeKey`: names from the policy are the same string
  // objects request after request, with their hashes cached; a concatenated key is hashed anew.
  private readonly users = new Map<string, ScopeState>();
  private readonly teams = new Map<string, ScopeState>();
  private readonly teamModels = new Map<string, Map<string, ScopeState>>();
  private readonly open = new Map<number, Reservation>();
  private periods: BudgetPeriods;
  private nextSweep: number;

  constructor(options: MemoryLimitStoreOptions) {
    assertTimeZone(options.timeZone);
    this.timeZone = options.timeZone;
    this.now = options.now ?? Date.now;
    const now = this.now();
    this.periods = budgetPeriods(this.timeZone, now);
    this.nextSweep = now + SWEEP_EVERY_MS;
  }

  admit(request: AdmissionRequest): Admission {
    return this.tryAdmit(request, NONE_COUNTED);
  }

  transfer(ticket: Ticket, request: AdmissionRequest): Admission {
    const old = this.open.get(ticket.id);
    if (old === undefined) throw new Error(`ticket ${ticket.id} is not in flight`);
    this.unreserve(ticket.id, old);
    const admission = this.tryAdmit(request, new Set(old.states));
    if (!admission.ok) this.reserve(ticket.id, old);
    return admission;
  }

  /** `counted`: scopes whose rpm window already holds this request (a transfer). */
  private tryAdmit(request: AdmissionRequest, counted: ReadonlySet<ScopeState>): Admission {
    const estimatedTokens = request.estimatedTokens;
    const estimatedCost = request.estimatedCostPicoUsd;
    checkAmount(estimatedTokens, "estimatedTokens");
    checkAmount(estimatedCost, "estimatedCostPicoUsd");
    const now = this.now();
    this.advance(now);
    const entries = request.scopes;
    const states: ScopeState[] = [];
    for (const entry of entries) {
      const state = this.stateFor(entry.scope);
      state.window.expire(now);
      this.roll(state);
      states.push(state);
    }

    // Budgets first: when one is gone, retrying after a rate limit would not help.
    for (let index = 0; index < entries.length; index++) {
      const { limits } = entries[index]!;
      const state = states[index]!;
      if (limits.dailyUsd !== undefined && !sumBelow(state.daySpent, state.reservedCost, usdToMicro(limits.dailyUsd))) {
        return this.budgetRejection(entries, states, index, "dailyUsd", now);
      }
      if (
        limits.monthlyUsd !== undefined &&
        !sumBelow(state.monthSpent, state.reservedCost, usdToMicro(limits.monthlyUsd))
      ) {
        return this.budgetRejection(entries, states, index, "monthlyUsd", now);
      }
    }

    // Of several rate limits hit, name the one that frees last, so a retry then can succeed.
    let worstIndex = -1;
    let worstLimit: RateLimitName = "rpm";
    let worstAt = 0;
    for (let index = 0; index < entries.length; index++) {
      const { limits } = entries[index]!;
      const state = states[index]!;
      const window = state.window;
      const { rpm, tpm, concurrent } = limits;
      const added = counted.has(state) ? 0 : 1;
      if (rpm !== undefined && window.requests + added > rpm) {
        const at = window.requestsFreedAt(window.requests + added - rpm) ?? now + WINDOW_MS;
        if (worstIndex < 0 || at > worstAt) [worstIndex, worstLimit, worstAt] = [index, "rpm", at];
      }
      if (tpm !== undefined) {
        // A request may need more than the whole minute's allowance (max_tokens is a ceiling, not
        // usage); it then waits until nothing else is counted instead of being refused for good.
        const excess = window.tokens + state.reservedTokens + Math.min(estimatedTokens, tpm) - tpm;
        if (excess > 0 || tpm <= 0) {
          const at = window.tokensFreedAt(excess) ?? window.oldestLeavesAt() ?? now + 1000;
          if (worstIndex < 0 || at > worstAt) [worstIndex, worstLimit, worstAt] = [index, "tpm", at];
        }
      }
      if (concurrent !== undefined && state.inFlight + 1 > concurrent) {
        // Unknown: a slot frees when some request in flight ends. Ask for a prompt retry.
        const at = now + 1000;
        if (worstIndex < 0 || at > worstAt) [worstIndex, worstLimit, worstAt] = [index, "concurrent", at];
      }
    }
    if (worstIndex >= 0) {
      const entry = entries[worstIndex]!;
      const retryAfter = retryAfterSeconds(worstAt, now);
      return {
        ok: false,
        kind: "rate_limit",
        scopeLabel: entry.label,
        limit: worstLimit,
        retryAfterSeconds: retryAfter,
        message: rateLimitMessage(entry.label, worstLimit, entry.limits[worstLimit]!, retryAfter),
        headers: this.headers(entries, states, now),
      };
    }

    const distinct: ScopeState[] = [];
    for (const state of states) {
      if (distinct.includes(state)) continue;
      distinct.push(state);
      if (!counted.has(state)) state.window.add(now, 1, 0);
    }
    const ticket: Ticket = { id: ++lastTicketId, admittedAt: now };
    this.reserve(ticket.id, { states: distinct, tokens: estimatedTokens, costPicoUsd: estimatedCost });
    return { ok: true, ticket, headers: this.headers(entries, states, now) };
  }

  settle(ticket: Ticket, actual: ActualUsage): void {
    const reservation = this.open.get(ticket.id);
    if (reservation === undefined) return;
    // Before freeing the slot: a sweep now must still see these scopes in flight, or it drops them as
    // idle and the spend below lands on states no longer in the maps (found by the Redis differential test).
    const now = this.now();
    this.advance(now);
    this.unreserve(ticket.id, reservation);
    // After freeing the slot: a caller's bad numbers must not leak a concurrency slot.
    checkAmount(actual.tokens, "tokens");
    checkAmount(actual.costPicoUsd, "costPicoUsd");
    // Tokens count from completion, as the ledger records them, so `restore` rebuilds the same window.
    for (const state of reservation.states) {
      state.window.expire(now);
      state.window.add(now, 0, actual.tokens);
      this.roll(state);
      state.daySpent.add(actual.costPicoUsd);
      state.monthSpent.add(actual.costPicoUsd);
    }
  }

  release(ticket: Ticket): void {
    const reservation = this.open.get(ticket.id);
    if (reservation !== undefined) this.unreserve(ticket.id, reservation);
  }

  status(scopes: readonly ScopedLimits[]): ScopeStatus[] {
    const now = this.now();
    this.advance(now);
    return scopes.map(({ scope, label, limits }) => {
      const state = this.existing(scope) ?? new ScopeState();
      state.window.expire(now);
      this.roll(state);
      const result: ScopeStatus = { scope, label, limits: {} };
      const leavesAt = state.window.oldestLeavesAt();
      const windowReset = leavesAt === undefined ? undefined : new Date(leavesAt);
      if (limits.rpm !== undefined) {
        result.limits.rpm = count(limits.rpm, state.window.requests, 0, windowReset);
      }
      if (limits.tpm !== undefined) {
        const used = state.window.tokens + state.reservedTokens;
        result.limits.tpm = count(limits.tpm, used, state.reservedTokens, windowReset);
      }
      if (limits.concurrent !== undefined) {
        result.limits.concurrent = count(limits.concurrent, state.inFlight, 0, undefined);
      }
      if (limits.dailyUsd !== undefined) {
        result.limits.dailyUsd = this.budgetStatus(limits.dailyUsd, state.daySpent, state.reservedCost, "day");
      }
      if (limits.monthlyUsd !== undefined) {
        result.limits.monthlyUsd = this.budgetStatus(limits.monthlyUsd, state.monthSpent, state.reservedCost, "month");
      }
      return result;
    });
  }

  inFlight(scope: Scope): number {
    return this.existing(scope)?.inFlight ?? 0;
  }

  /** Tickets neither settled nor released; 0 when nothing leaked. */
  openTickets(): number {
    return this.open.size;
  }

  /** Scopes held in memory (idle ones are dropped within a minute or so of clock time). */
  trackedScopes(): number {
    let count = this.users.size + this.teams.size;
    for (const models of this.teamModels.values()) count += models.size;
    return count;
  }

  restore(state: RestoreState): void {
    const now = this.now();
    this.advance(now);
    const recent = state.activity.filter((row) => row.time > now - WINDOW_MS).sort((a, b) => a.time - b.time);
    for (const row of recent) {
      checkAmount(row.tokens, "activity tokens");
      const seen = new Set<string>();
      for (const scope of row.scopes) {
        const key = scopeKey(scope);
        if (seen.has(key)) continue;
        seen.add(key);
        this.stateFor(scope).window.add(Math.min(row.time, now), 1, row.tokens);
      }
    }
    for (const row of state.spend) {
      checkTotal(row.dayPicoUsd, "dayPicoUsd");
      checkTotal(row.monthPicoUsd, "monthPicoUsd");
      const scopeState = this.stateFor(row.scope);
      this.roll(scopeState);
      scopeState.daySpent.addTotal(row.dayPicoUsd);
      scopeState.monthSpent.addTotal(row.monthPicoUsd);
    }
  }

  rebase(timeZone: string, spend: readonly SpendRow[]): void {
    assertTimeZone(timeZone);
    for (const row of spend) {
      checkTotal(row.dayPicoUsd, "dayPicoUsd");
      checkTotal(row.monthPicoUsd, "monthPicoUsd");
    }
    this.timeZone = timeZone;
    this.periods = budgetPeriods(timeZone, this.now());
    // NaN starts make roll() zero every scope's day and month spend for the new periods.
    for (const state of this.allStates()) {
      state.dayStart = Number.NaN;
      state.monthStart = Number.NaN;
      this.roll(state);
    }
    for (const row of spend) {
      const state = this.stateFor(row.scope);
      this.roll(state);
      state.daySpent.addTotal(row.dayPicoUsd);
      state.monthSpent.addTotal(row.monthPicoUsd);
    }
  }

  private *allStates(): Iterable<ScopeState> {
    yield* this.users.values();
    yield* this.teams.values();
    for (const models of this.teamModels.values()) yield* models.values();
  }

  private reserve(id: number, reservation: Reservation): void {
    this.open.set(id, reservation);
    for (const state of reservation.states) {
      state.inFlight++;
      state.reservedTokens += reservation.tokens;
      state.reservedCost.add(reservation.costPicoUsd);
    }
  }

  private unreserve(id: number, reservation: Reservation): void {
    this.open.delete(id);
    for (const state of reservation.states) {
      state.inFlight--;
      state.reservedTokens -= reservation.tokens;
      state.reservedCost.subtract(reservation.costPicoUsd);
    }
  }

  private existing(scope: Scope): ScopeState | undefined {
    switch (scope.kind) {
      case "user":
        return this.users.get(scope.name);
      case "team":
        return this.teams.get(scope.name);
      case "team-model":
        return this.teamModels.get(scope.team)?.get(scope.model);
    }
  }

  private stateFor(scope: Scope): ScopeState {
    let map: Map<string, ScopeState>;
    let name: string;
    switch (scope.kind) {
      case "user":
        map = this.users;
        name = scope.name;
        break;
      case "team":
        map = this.teams;
        name = scope.name;
        break;
      case "team-model": {
        let models = this.teamModels.get(scope.team);
        if (models === undefined) {
          models = new Map();
          this.teamModels.set(scope.team, models);
        }
        map = models;
        name = scope.model;
        break;
      }
    }
    let state = map.get(name);
    if (state === undefined) {
      state = new ScopeState();
      this.roll(state);
      map.set(name, state);
    }
    return state;
  }

  /** Moves to the current day and month when the clock passed a boundary; sweeps idle scopes. */
  private advance(now: number): void {
    const day = this.periods.day;
    if (now >= day.end || now < day.start) this.periods = budgetPeriods(this.timeZone, now);
    if (now >= this.nextSweep) {
      this.nextSweep = now + SWEEP_EVERY_MS;
      this.dropIdle(this.users, now);
      this.dropIdle(this.teams, now);
      for (const [team, models] of this.teamModels) {
        this.dropIdle(models, now);
        if (models.size === 0) this.teamModels.delete(team);
      }
    }
  }

  private dropIdle(states: Map<string, ScopeState>, now: number): void {
    for (const [name, state] of states) {
      state.window.expire(now);
      this.roll(state);
      if (state.isIdle()) states.delete(name);
    }
  }

  /** A new period starts from nothing; in-flight reservations carry over (still in flight). */
  private roll(state: ScopeState): void {
    const { day, month } = this.periods;
    if (state.dayStart !== day.start) {
      state.daySpent.reset();
      state.dayStart = day.start;
    }
    if (state.monthStart !== month.start) {
      state.monthSpent.reset();
      state.monthStart = month.start;
    }
  }

  private budgetStatus(
    budgetUsd: number,
    spent: PicoTotal,
    reserved: PicoTotal,
    period: "day" | "month",
  ): LimitStatus {
    const remaining = remainingUsd(spent, reserved, usdToMicro(budgetUsd));
    return {
      limit: budgetUsd,
      used: spent.usd() + reserved.usd(),
      remaining,
      reserved: reserved.usd(),
      resetsAt: new Date(this.periods[period].end),
    };
  }

  private budgetRejection(
    entries: readonly ScopedLimits[],
    states: readonly ScopeState[],
    index: number,
    limit: BudgetName,
    now: number,
  ): Admission {
    const entry = entries[index]!;
    const state = states[index]!;
    const budgetUsd = entry.limits[limit]!;
    const spentUsd = (limit === "dailyUsd" ? state.daySpent : state.monthSpent).usd();
    const resetsAt = this.periods[limit === "dailyUsd" ? "day" : "month"].end;
    return {
      ok: false,
      kind: "budget",
      scopeLabel: entry.label,
      limit,
      spentUsd,
      budgetUsd,
      resetsAt: new Date(resetsAt),
      message: budgetMessage({
        label: entry.label,
        limit,
        budgetUsd,
        spentUsd,
        reservedUsd: state.reservedCost.usd(),
        resetsAt,
        timeZone: this.timeZone,
      }),
      headers: this.headers(entries, states, now),
    };
  }

  private headers(entries: readonly ScopedLimits[], states: readonly ScopeState[], now: number) {
    const tightest = new TightestLimits();
    for (let index = 0; index < entries.length; index++) {
      const { limits } = entries[index]!;
      const state = states[index]!;
      const window = state.window;
      const { rpm, tpm, dailyUsd, monthlyUsd } = limits;
      if (rpm !== undefined || tpm !== undefined) {
        const leavesAt = window.oldestLeavesAt();
        const resetInMs = leavesAt === undefined ? 0 : leavesAt - now;
        if (rpm !== undefined) tightest.requests(rpm, Math.max(0, rpm - window.requests), resetInMs);
        if (tpm !== undefined) {
          tightest.tokens(tpm, Math.max(0, tpm - window.tokens - state.reservedTokens), resetInMs);
        }
      }
      if (dailyUsd !== undefined) tightest.budget(remainingUsd(state.daySpent, state.reservedCost, usdToMicro(dailyUsd)));
      if (monthlyUsd !== undefined) {
        tightest.budget(remainingUsd(state.monthSpent, state.reservedCost, usdToMicro(monthlyUsd)));
      }
    }
    return tightest.headers();
  }
}

function count(limit: number, used: number, reserved: number, resetsAt: Date | undefined): LimitStatus {
  return { limit, used, remaining: Math.max(0, limit - used), reserved, resetsAt };
}

function checkTotal(value: number | bigint, name: string): void {
  const valid = typeof value === "bigint" ? value >= 0n : Number.isInteger(value) && value >= 0;
  if (!valid) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
}

/** Amounts the stores take: non-negative safe integers (tokens, pico-USD). */
export function checkAmount(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
}
