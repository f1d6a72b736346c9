// After a restart, limits and spend come back from the ledger: the last minute's requests refill the
// rpm/tpm windows, and spend since the start of the day and month refills the budgets. The same
// spend moves the budgets to a new time zone when a policy push changes it (Meter.changeTimeZone).
import type { ActivityRow as LedgerActivityRow, SpendByScope, UsageLedger } from "../ledger/types.js";
import { budgetPeriods, ledgerScopes, type LimitStore, type RestoreState, type Scope, type SpendRow } from "../limits/index.js";
import { scopeKey } from "../limits/index.js";

const WINDOW_MS = 60_000;

/** What a restore reads: a ledger, or a part of one (another broker's rows, rows not yet shipped). */
export type SpendSource = Pick<UsageLedger, "recentActivity" | "spendByScope">;

export async function restoreLimits(limits: LimitStore, ledger: UsageLedger, timeZone: string, now = Date.now()): Promise<void> {
  await limits.restore(await restoreState(ledger, timeZone, now));
}

/** The last minute's requests and the spend since the day's and month's starts, as the ledger holds them. */
export async function restoreState(ledger: SpendSource, timeZone: string, now = Date.now()): Promise<RestoreState> {
  const activity = (await ledger.recentActivity(now - WINDOW_MS)).map((row) => ({
    time: row.time,
    scopes: ledgerScopes({ user: row.user, team: row.team, model: row.servedModel }),
    tokens: row.tokens,
  }));
  return { activity, spend: await spendSincePeriodStarts(ledger, timeZone, now) };
}

/** Each scope's spend in the ledger since the start of the day and the month of `timeZone` that hold `now`. */
export async function spendSincePeriodStarts(ledger: Pick<UsageLedger, "spendByScope">, timeZone: string, now = Date.now()): Promise<SpendRow[]> {
  const periods = budgetPeriods(timeZone, now);
  const day = await ledger.spendByScope(periods.day.start);
  const month = await ledger.spendByScope(periods.month.start);
  return spendRows(day, month);
}

/** Day and month totals per scope, as the limit stores take them. */
function spendRows(day: SpendByScope, month: SpendByScope): SpendRow[] {
  const spend = new Map<string, SpendRow>();
  const add = (scope: Scope, field: "dayPicoUsd" | "monthPicoUsd", pico: number): void => {
    const key = scopeKey(scope);
    const row = spend.get(key) ?? { scope, dayPicoUsd: 0, monthPicoUsd: 0 };
    // Exact even past 2^53 pico-USD (≈ $9,007): sums of a month's spend may get there.
    row[field] = BigInt(row[field]) + BigInt(pico);
    spend.set(key, row);
  };
  for (const [field, totals] of [
    ["dayPicoUsd", day],
    ["monthPicoUsd", month],
  ] as const) {
    for (const [user, pico] of totals.users) add({ kind: "user", name: user }, field, pico);
    for (const [team, pico] of totals.teams) add({ kind: "team", name: team }, field, pico);
    for (const [key, pico] of totals.teamModels) {
      const [team = "", model = ""] = key.split("\u0000");
      add({ kind: "team-model", team, model }, field, pico);
    }
  }
  return [...spend.values()];
}

/** As `restoreState`, read in one synchronous step from a ledger that answers synchronously (SQLite). */
export function restoreStateNow(ledger: { recentActivity(sinceMs: number): LedgerActivityRow[]; spendByScope(sinceMs: number): SpendByScope }, timeZone: string, now = Date.now()): RestoreState {
  const activity = ledger.recentActivity(now - WINDOW_MS).map((row) => ({
    time: row.time,
    scopes: ledgerScopes({ user: row.user, team: row.team, model: row.servedModel }),
    tokens: row.tokens,
  }));
  const periods = budgetPeriods(timeZone, now);
  return { activity, spend: spendRows(ledger.spendByScope(periods.day.start), ledger.spendByScope(periods.month.start)) };
}
