// Moving budgets to a new time zone (a policy push changed it) counts every request exactly once:
// rows the ledger committed come from the ledger, a settle whose row is still being committed is
// waited for, and a settle that arrives meanwhile lands after the move.
import { afterEach, describe, expect, it } from "vitest";
import type { CallOutcome } from "../chat/chat-service.js";
import { openSqliteLedger, type SqliteLedger } from "../ledger/sqlite-ledger.js";
import { tempDataDir, usageRecord } from "../ledger/testing/records.js";
import type { UsageLedger, UsageRecord } from "../ledger/types.js";
import { MemoryLimitStore } from "../limits/memory-store.js";
import { fakeClock, request, ticketOf, usd, user } from "../limits/testing.js";
import { Meter } from "./meter.js";
import { restoreLimits } from "./restore.js";

// 03:00 UTC on 24 November is 19:00 on 23 November in Los Angeles (UTC-8).
const NOW = "2026-11-24T03:00:00Z";
const ALICE = { dailyUsd: 100 };

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function ledgerInTempDir(): SqliteLedger {
  const tmp = tempDataDir();
  const ledger = openSqliteLedger(tmp.dir);
  cleanup.push(tmp.remove, () => ledger.close());
  return ledger;
}

/** A ledger whose appends commit only when the test says so. */
function heldLedger(ledger: SqliteLedger): { ledger: UsageLedger; commit(): Promise<void> } {
  const held: Array<() => void> = [];
  let committing = Promise.resolve();
  const wrapped = {
    append: (record: UsageRecord) =>
      new Promise<void>((resolve, reject) => {
        held.push(() => {
          committing = ledger.append(record).then(resolve, reject);
        });
      }),
    spendByScope: (since: number) => ledger.spendByScope(since),
  } as unknown as UsageLedger;
  return {
    ledger: wrapped,
    commit: async () => {
      for (const release of held.splice(0)) release();
      await committing;
    },
  };
}

function outcome(costUsd: number): CallOutcome {
  // $1 per million input tokens: `costUsd` million tokens cost exactly `costUsd`.
  const pricing = { input: 1, output: 1, cacheRead: 1, cacheWrite: 1 };
  return {
    deployment: { pricing },
    usage: { inputTokens: costUsd * 1_000_000, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
  } as unknown as CallOutcome;
}

const row = (time: number) => {
  const { costPicoUsd: _c, inputTokens: _i, cacheReadTokens: _r, cacheWriteTokens: _w, outputTokens: _o, ...rest } = usageRecord({ time, user: "alice", team: "platform", servedModel: "m" });
  return rest;
};

function dailyUsed(store: MemoryLimitStore): number {
  return store.status([user("alice", ALICE)])[0]!.limits.dailyUsd!.used;
}

describe("Meter.changeTimeZone", () => {
  it("moves the day to the new zone, counting committed, committing and later requests exactly once", async () => {
    const clock = fakeClock(NOW);
    const sqlite = ledgerInTempDir();
    // Yesterday in UTC, today in Los Angeles: 20:00 UTC on 23 November ($5).
    await sqlite.append(usageRecord({ time: Date.parse("2026-11-23T20:00:00Z"), user: "alice", team: "platform", servedModel: "m", costPicoUsd: usd(5) }));
    const store = new MemoryLimitStore({ timeZone: "UTC", now: clock.now });
    const held = heldLedger(sqlite);
    const meter = new Meter(store, held.ledger, () => undefined, clock.now);

    // A request settles ($2) while its row is still being committed.
    const first = meter.finish(ticketOf(store.admit(request(user("alice", ALICE)))), row(clock.now()), outcome(2));
    await Promise.resolve();
    expect(dailyUsed(store)).toBe(2);

    const moved = meter.changeTimeZone("America/Los_Angeles");
    // Another request finishes during the move: it must wait, then count once ($3).
    const second = meter.finish(ticketOf(store.admit(request(user("alice", ALICE)))), row(clock.now()), outcome(3));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(dailyUsed(store)).toBe(2);

    await held.commit(); // the first row lands; the move reads the ledger ($5 + $2), then the second settles
    await moved;
    expect(dailyUsed(store)).toBe(5 + 2 + 3);
    await held.commit();
    await Promise.all([first, second]);
    expect(dailyUsed(store)).toBe(5 + 2 + 3);

    // The day now ends at midnight in Los Angeles (08:00 UTC).
    const status = store.status([user("alice", ALICE)])[0]!.limits.dailyUsd!;
    expect(status.resetsAt).toEqual(new Date("2026-11-24T08:00:00Z"));
    // The same as a broker restarted in that zone would count.
    const restarted = new MemoryLimitStore({ timeZone: "America/Los_Angeles", now: clock.now });
    await restoreLimits(restarted, sqlite, "America/Los_Angeles", clock.now());
    expect(dailyUsed(restarted)).toBe(dailyUsed(store));
  });

  it("keeps requests in flight and the rate windows as they were", async () => {
    const clock = fakeClock(NOW);
    const sqlite = ledgerInTempDir();
    const store = new MemoryLimitStore({ timeZone: "UTC", now: clock.now });
    const meter = new Meter(store, sqlite, () => undefined, clock.now);
    const limits = { rpm: 2, concurrent: 1, dailyUsd: 10 };
    const inFlight = ticketOf(store.admit(request(user("alice", limits), { costUsd: 4 })));
    await meter.changeTimeZone("Asia/Tokyo");
    const status = store.status([user("alice", limits)])[0]!.limits;
    expect(status.rpm!.used).toBe(1);
    expect(status.concurrent!.used).toBe(1);
    expect(store.admit(request(user("alice", limits))).ok).toBe(false); // concurrent 1 still held
    await meter.finish(inFlight, row(clock.now()), outcome(4));
    expect(dailyUsed(store)).toBe(4);
    expect(store.status([user("alice", limits)])[0]!.limits.concurrent!.used).toBe(0);
  });
});
