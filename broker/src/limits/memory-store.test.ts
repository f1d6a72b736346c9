import { describe, expect, it } from "vitest";
import { MemoryLimitStore } from "./memory-store.js";
import { ledgerScopes } from "./scope.js";
import { fakeClock, request, team, teamModel, ticketOf, usd, user, type FakeClock } from "./testing.js";
import type { Admission, Limits, Rejection } from "./types.js";

function setup(timeZone = "UTC", start?: string): { clock: FakeClock; store: MemoryLimitStore } {
  const clock = fakeClock(start);
  return { clock, store: new MemoryLimitStore({ timeZone, now: clock.now }) };
}

function rejection(admission: Admission): Rejection {
  if (admission.ok) throw new Error("expected a rejection");
  return admission;
}

function retryAfter(admission: Admission): number {
  const refused = rejection(admission);
  if (refused.kind !== "rate_limit") throw new Error(`expected a rate limit: ${refused.message}`);
  return refused.retryAfterSeconds;
}

const alice = (limits: Limits) => user("alice", limits);

describe("rpm", () => {
  it("admits exactly rpm requests in a minute and names the limit on the next", () => {
    const { clock, store } = setup();
    for (let i = 0; i < 30; i++) {
      store.release(ticketOf(store.admit(request(alice({ rpm: 30 })))));
      if (i === 0) clock.advance(48_000); // the oldest is 48 s old when the window is full
    }
    const refused = rejection(store.admit(request(alice({ rpm: 30 }))));
    expect(refused).toMatchObject({
      kind: "rate_limit",
      scopeLabel: "user alice",
      limit: "rpm",
      retryAfterSeconds: 12,
      message: "user alice: 30 requests per minute; retry in 12 s",
    });
  });

  it("admits again once the oldest request leaves the rolling window", () => {
    const { clock, store } = setup();
    const limits = { rpm: 2 };
    ticketOf(store.admit(request(alice(limits))));
    clock.advance(30_000);
    ticketOf(store.admit(request(alice(limits))));
    clock.advance(29_999);
    expect(store.admit(request(alice(limits))).ok).toBe(false);
    clock.advance(1); // 60 s after the first
    ticketOf(store.admit(request(alice(limits))));
    expect(retryAfter(store.admit(request(alice(limits))))).toBe(30);
  });

  it("keeps counting requests that were released or cancelled; refusals are not counted", () => {
    const { store } = setup();
    const limits = { rpm: 3 };
    store.release(ticketOf(store.admit(request(alice(limits)))));
    store.settle(ticketOf(store.admit(request(alice(limits)))), { tokens: 0, costPicoUsd: 0 });
    ticketOf(store.admit(request(alice(limits))));
    for (let i = 0; i < 5; i++) expect(store.admit(request(alice(limits))).ok).toBe(false);
    expect(store.status([alice(limits)])[0]!.limits.rpm).toMatchObject({ used: 3, remaining: 0 });
  });

  it("admits exactly 20 of 200 back-to-back requests against rpm 20", () => {
    const { store } = setup();
    const scopes = [alice({ rpm: 20 }), team("platform", { rpm: 1000 })];
    const results = Array.from({ length: 200 }, () => store.admit(request(scopes)));
    expect(results.filter((result) => result.ok)).toHaveLength(20);
    expect(store.status([team("platform", { rpm: 1000 })])[0]!.limits.rpm!.used).toBe(20);
  });
});

describe("tpm", () => {
  it("reserves the estimate at admission, so concurrent requests cannot overshoot", () => {
    const { store } = setup();
    const limits = { tpm: 1000 };
    ticketOf(store.admit(request(alice(limits), { tokens: 600 })));
    expect(rejection(store.admit(request(alice(limits), { tokens: 600 })))).toMatchObject({
      limit: "tpm",
      message: expect.stringMatching(/^user alice: 1,000 tokens per minute; retry in \d+ s$/),
    });
    ticketOf(store.admit(request(alice(limits), { tokens: 400 })));
  });

  it("replaces the estimate by the real tokens at settle, counted for 60 s from then", () => {
    const { clock, store } = setup();
    const limits = { tpm: 1000 };
    const first = ticketOf(store.admit(request(alice(limits), { tokens: 900 })));
    clock.advance(5_000);
    store.settle(first, { tokens: 300, costPicoUsd: 0 });
    expect(store.status([alice(limits)])[0]!.limits.tpm).toMatchObject({ used: 300, reserved: 0, remaining: 700 });
    ticketOf(store.admit(request(alice(limits), { tokens: 700 })));
    expect(store.admit(request(alice(limits), { tokens: 1 })).ok).toBe(false);
    clock.advance(60_000);
    // The 300 settled tokens left; the 700 reserved are still in flight.
    expect(store.status([alice(limits)])[0]!.limits.tpm).toMatchObject({ used: 700, reserved: 700 });
  });

  it("frees the whole reservation when a request is released", () => {
    const { store } = setup();
    const limits = { tpm: 1000 };
    store.release(ticketOf(store.admit(request(alice(limits), { tokens: 1000 }))));
    expect(store.status([alice(limits)])[0]!.limits.tpm).toMatchObject({ used: 0, remaining: 1000 });
    ticketOf(store.admit(request(alice(limits), { tokens: 1000 })));
  });

  it("counts real usage in full, even above the estimate", () => {
    const { store } = setup();
    const limits = { tpm: 1000 };
    store.settle(ticketOf(store.admit(request(alice(limits), { tokens: 100 }))), { tokens: 1200, costPicoUsd: 0 });
    expect(store.status([alice(limits)])[0]!.limits.tpm).toMatchObject({ used: 1200, remaining: 0 });
    expect(store.admit(request(alice(limits), { tokens: 1 })).ok).toBe(false);
  });

  it("asks to retry when enough tokens have left, not merely the oldest entry", () => {
    const { clock, store } = setup();
    const limits = { tpm: 1000 };
    const settleAt = (tokens: number) =>
      store.settle(ticketOf(store.admit(request(alice(limits), { tokens }))), { tokens, costPicoUsd: 0 });
    settleAt(100); // leaves at 60 s
    clock.advance(20_000);
    settleAt(500); // leaves at 80 s
    clock.advance(10_000);
    settleAt(300); // leaves at 90 s
    // 900 counted; 600 more needs 500 freed: the first two must leave, at 80 s (50 s from now).
    expect(retryAfter(store.admit(request(alice(limits), { tokens: 600 })))).toBe(50);
  });

  it("lets a request estimated above the whole limit run alone rather than never", () => {
    const { clock, store } = setup();
    const limits = { tpm: 1000 };
    const other = ticketOf(store.admit(request(alice(limits), { tokens: 10 })));
    expect(store.admit(request(alice(limits), { tokens: 5000 })).ok).toBe(false);
    store.settle(other, { tokens: 10, costPicoUsd: 0 });
    clock.advance(60_000);
    const big = ticketOf(store.admit(request(alice(limits), { tokens: 5000 })));
    expect(store.admit(request(alice(limits), { tokens: 1 })).ok).toBe(false);
    store.settle(big, { tokens: 1500, costPicoUsd: 0 });
    expect(store.admit(request(alice(limits), { tokens: 1 })).ok).toBe(false);
  });

  it("refuses everything at tpm 0", () => {
    const { store } = setup();
    expect(rejection(store.admit(request(alice({ tpm: 0 }), { tokens: 0 }))).limit).toBe("tpm");
  });
});

describe("concurrent", () => {
  it("limits requests in flight; settle and release free a slot", () => {
    const { store } = setup();
    const limits = { concurrent: 2 };
    const first = ticketOf(store.admit(request(alice(limits))));
    const second = ticketOf(store.admit(request(alice(limits))));
    expect(rejection(store.admit(request(alice(limits))))).toMatchObject({
      limit: "concurrent",
      retryAfterSeconds: 1,
      message: "user alice: 2 concurrent requests; retry in 1 s",
    });
    store.settle(first, { tokens: 10, costPicoUsd: 0 });
    const third = ticketOf(store.admit(request(alice(limits))));
    store.release(second);
    store.release(third);
    expect(store.inFlight({ kind: "user", name: "alice" })).toBe(0);
    expect(store.openTickets()).toBe(0);
  });

  it("ignores a second settle or release of the same ticket: never frees someone else's slot", () => {
    const { store } = setup();
    const limits = { concurrent: 2 };
    const scope = { kind: "user", name: "alice" } as const;
    const first = ticketOf(store.admit(request(alice(limits))));
    const second = ticketOf(store.admit(request(alice(limits))));
    store.settle(first, { tokens: 10, costPicoUsd: usd(0.01) });
    store.settle(first, { tokens: 10, costPicoUsd: usd(0.01) });
    store.release(first);
    store.settle({ ...first }, { tokens: 10, costPicoUsd: usd(0.01) });
    expect(store.inFlight(scope)).toBe(1);
    ticketOf(store.admit(request(alice(limits))));
    expect(store.admit(request(alice(limits))).ok).toBe(false);
    store.release(second);
    store.release(second);
    expect(store.inFlight(scope)).toBe(1);
    // Spend was recorded once.
    expect(store.status([alice({ dailyUsd: 1 })])[0]!.limits.dailyUsd!.used).toBeCloseTo(0.01, 12);
  });

  it("ignores a ticket from another store", () => {
    const a = setup();
    const b = setup();
    const foreign = ticketOf(a.store.admit(request(alice({ concurrent: 1 }))));
    ticketOf(b.store.admit(request(alice({ concurrent: 1 }))));
    b.store.release(foreign);
    expect(b.store.inFlight({ kind: "user", name: "alice" })).toBe(1);
  });

  it("frees the slot even when settle is given impossible usage", () => {
    const { store } = setup();
    const ticket = ticketOf(store.admit(request(alice({ concurrent: 1 }))));
    expect(() => store.settle(ticket, { tokens: -1, costPicoUsd: 0 })).toThrow(/tokens must be a non-negative integer/);
    expect(store.inFlight({ kind: "user", name: "alice" })).toBe(0);
  });

  it("leaks nothing over a storm of settles, releases, duplicates and refusals", () => {
    const { clock, store } = setup();
    const scopes = [alice({ concurrent: 5, rpm: 500, dailyUsd: 50 }), team("platform", { concurrent: 8, tpm: 50_000 })];
    const open: ReturnType<typeof ticketOf>[] = [];
    for (let i = 0; i < 2000; i++) {
      clock.advance(37);
      const admission = store.admit(request(scopes, { tokens: 1000, costUsd: 0.01 }));
      if (admission.ok) open.push(admission.ticket);
      if (open.length > 0 && i % 3 !== 0) {
        const ticket = open.splice(i % open.length, 1)[0]!;
        if (i % 2 === 0) store.settle(ticket, { tokens: 700, costPicoUsd: usd(0.005) });
        else store.release(ticket);
        store.release(ticket);
      }
    }
    for (const ticket of open) store.settle(ticket, { tokens: 1, costPicoUsd: 0 });
    expect(store.openTickets()).toBe(0);
    expect(store.inFlight({ kind: "user", name: "alice" })).toBe(0);
    expect(store.inFlight({ kind: "team", name: "platform" })).toBe(0);
    const [aliceStatus, teamStatus] = store.status(scopes);
    expect(aliceStatus!.limits.dailyUsd!.reserved).toBe(0);
    expect(teamStatus!.limits.tpm!.reserved).toBe(0);
  });
});

describe("budgets", () => {
  it("admits while spend + in-flight reservations are below the budget, then names it", () => {
    const { store } = setup();
    const scopes = [alice({}), team("platform", { dailyUsd: 200 })];
    store.restore({ activity: [], spend: [{ scope: team("platform").scope, dayPicoUsd: usd(199), monthPicoUsd: usd(199) }] });
    const inFlight = ticketOf(store.admit(request(scopes, { costUsd: 0.5 })));
    ticketOf(store.admit(request(scopes, { costUsd: 0.5 }))); // 199.50 < 200: admitted, may overshoot
    const refused = rejection(store.admit(request(scopes, { costUsd: 0.5 })));
    expect(refused).toMatchObject({
      kind: "budget",
      scopeLabel: "team platform",
      limit: "dailyUsd",
      spentUsd: 199,
      budgetUsd: 200,
      resetsAt: new Date("2026-11-24T00:00:00Z"),
      message:
        "team platform: daily budget of $200.00 reached ($199.00 spent, $1.00 reserved by requests in flight); " +
        "resets 2026-11-24 00:00 UTC",
    });
    store.settle(inFlight, { tokens: 10, costPicoUsd: usd(1.13) });
    expect(rejection(store.admit(request(scopes))).message).toBe(
      "team platform: daily budget of $200.00 reached ($200.13 spent, $0.50 reserved by requests in flight); " +
        "resets 2026-11-24 00:00 UTC",
    );
  });

  it("frees a released reservation and replaces a settled one by the real cost", () => {
    const { store } = setup();
    const limits = { dailyUsd: 1 };
    const big = ticketOf(store.admit(request(alice(limits), { costUsd: 5 })));
    expect(store.admit(request(alice(limits))).ok).toBe(false);
    store.release(big);
    const again = ticketOf(store.admit(request(alice(limits), { costUsd: 5 })));
    store.settle(again, { tokens: 100, costPicoUsd: usd(0.25) });
    expect(store.status([alice(limits)])[0]!.limits.dailyUsd).toMatchObject({ used: 0.25, reserved: 0, remaining: 0.75 });
  });

  it("resets daily spend at the zone's midnight and monthly spend on the first, with local wording", () => {
    // 2026-11-30 15:00 in Los Angeles (PST, UTC-8).
    const { clock, store } = setup("America/Los_Angeles", "2026-11-30T23:00:00Z");
    const scopes = [alice({ dailyUsd: 10, monthlyUsd: 15 })];
    store.settle(ticketOf(store.admit(request(scopes))), { tokens: 1, costPicoUsd: usd(10) });
    expect(rejection(store.admit(request(scopes)))).toMatchObject({
      limit: "dailyUsd",
      resetsAt: new Date("2026-12-01T08:00:00Z"),
      message: "user alice: daily budget of $10.00 reached ($10.00 spent); resets 2026-12-01 00:00 PST",
    });
    clock.set("2026-12-01T07:59:59.999Z");
    expect(store.admit(request(scopes)).ok).toBe(false);
    clock.set("2026-12-01T08:00:00Z"); // midnight in LA: a new day and a new month
    store.settle(ticketOf(store.admit(request(scopes))), { tokens: 1, costPicoUsd: usd(9) });
    clock.set("2026-12-02T08:00:00Z");
    store.settle(ticketOf(store.admit(request(scopes))), { tokens: 1, costPicoUsd: usd(6) });
    expect(rejection(store.admit(request(scopes)))).toMatchObject({
      limit: "monthlyUsd",
      spentUsd: 15,
      message: "user alice: monthly budget of $15.00 reached ($15.00 spent); resets 2027-01-01 00:00 PST",
    });
  });

  it("keeps in-flight reservations across midnight and books the cost on the day it settles", () => {
    const { clock, store } = setup("UTC", "2026-11-23T23:59:00Z");
    const limits = { dailyUsd: 1 };
    const late = ticketOf(store.admit(request(alice(limits), { costUsd: 2 })));
    clock.set("2026-11-24T00:01:00Z");
    expect(store.admit(request(alice(limits))).ok).toBe(false); // still reserved
    store.settle(late, { tokens: 1, costPicoUsd: usd(0.4) });
    expect(store.status([alice(limits)])[0]!.limits.dailyUsd).toMatchObject({ used: 0.4, reserved: 0 });
  });

  it("refuses everything on a budget of 0", () => {
    const { store } = setup();
    expect(rejection(store.admit(request(alice({ monthlyUsd: 0 })))).limit).toBe("monthlyUsd");
  });

  it("stays exact for a team spending tens of thousands of dollars a month", () => {
    const { store } = setup();
    const scopes = [team("platform", { monthlyUsd: 50_000 })];
    // A ledger's SUM past 2^53 pico-USD arrives as a bigint to stay exact.
    const spent = BigInt(usd(49_999)) + BigInt(usd(0.99));
    store.restore({ activity: [], spend: [{ scope: scopes[0]!.scope, dayPicoUsd: 0, monthPicoUsd: spent }] });
    expect(store.status(scopes)[0]!.limits.monthlyUsd!.used).toBe(49_999.99);
    const ticket = ticketOf(store.admit(request(scopes, { costUsd: 0.01 })));
    expect(rejection(store.admit(request(scopes))).limit).toBe("monthlyUsd");
    store.release(ticket);
    ticketOf(store.admit(request(scopes, { costUsd: 0.01 })));
  });
});

describe("atomic admission across scopes", () => {
  it("reserves nothing anywhere when one scope refuses", () => {
    const { store } = setup();
    const aliceScope = alice({ rpm: 10, tpm: 10_000, concurrent: 5, dailyUsd: 10 });
    const busyTeam = team("platform", { concurrent: 1 });
    ticketOf(store.admit(request(user("bob"), {})));
    const holder = ticketOf(store.admit(request([user("carol"), busyTeam])));
    const before = store.status([aliceScope]);
    expect(store.admit(request([aliceScope, busyTeam], { tokens: 500, costUsd: 1 })).ok).toBe(false);
    expect(store.status([aliceScope])).toEqual(before);
    expect(store.inFlight(aliceScope.scope)).toBe(0);
    store.release(holder);
  });

  it("checks the team's per-model limits only for that model", () => {
    const { store } = setup();
    const opus = teamModel("platform", "claude-opus-4-1", { rpm: 1 });
    const sonnet = teamModel("platform", "claude-sonnet-4-5", {});
    ticketOf(store.admit(request([alice({}), team("platform"), opus])));
    expect(rejection(store.admit(request([user("bob"), team("platform"), opus])))).toMatchObject({
      scopeLabel: "team platform, model claude-opus-4-1",
      message: "team platform, model claude-opus-4-1: 1 request per minute; retry in 60 s",
    });
    ticketOf(store.admit(request([user("bob"), team("platform"), sonnet])));
  });

  it("names a spent budget before a rate limit, and of two rate limits the one that frees last", () => {
    const { clock, store } = setup();
    const limits = { rpm: 1, concurrent: 1 };
    ticketOf(store.admit(request(alice(limits))));
    clock.advance(10_000);
    expect(rejection(store.admit(request(alice(limits))))).toMatchObject({ limit: "rpm", retryAfterSeconds: 50 });
    expect(rejection(store.admit(request([alice(limits), team("platform", { dailyUsd: 0 })])))).toMatchObject({
      kind: "budget",
    });
  });

  it("counts a scope listed twice once", () => {
    const { store } = setup();
    const ticket = ticketOf(store.admit(request([alice({ concurrent: 1 }), alice({ concurrent: 1 })])));
    expect(store.inFlight({ kind: "user", name: "alice" })).toBe(1);
    store.release(ticket);
    expect(store.inFlight({ kind: "user", name: "alice" })).toBe(0);
  });

  it("refuses estimates that are not non-negative integers", () => {
    const { store } = setup();
    expect(() => store.admit({ ...request(alice({})), estimatedTokens: 1.5 })).toThrow(RangeError);
    expect(() => store.admit({ ...request(alice({})), estimatedCostPicoUsd: -1 })).toThrow(RangeError);
  });
});

describe("headers", () => {
  it("come from the tightest rpm and tpm scope, after counting this request", () => {
    const { clock, store } = setup();
    const scopes = [alice({ rpm: 10, tpm: 100_000 }), team("platform", { rpm: 100, tpm: 20_000 })];
    ticketOf(store.admit(request(scopes, { tokens: 1000 })));
    clock.advance(12_000);
    const admission = store.admit(request(scopes, { tokens: 5000 }));
    expect(admission.headers).toEqual({
      "x-ratelimit-limit-requests": "10",
      "x-ratelimit-remaining-requests": "8",
      "x-ratelimit-reset-requests": "48s",
      "x-ratelimit-limit-tokens": "20000",
      "x-ratelimit-remaining-tokens": "14000",
      "x-ratelimit-reset-tokens": "48s",
    });
  });

  it("omit a pair when no such limit applies and carry the tightest budget", () => {
    const { store } = setup();
    store.restore({ activity: [], spend: [{ scope: team("platform").scope, dayPicoUsd: usd(95.505), monthPicoUsd: usd(500) }] });
    const scopes = [alice({ rpm: 5, dailyUsd: 20 }), team("platform", { dailyUsd: 100, monthlyUsd: 1000 })];
    const admission = store.admit(request(scopes, { costUsd: 0.5 }));
    expect(admission.headers).toEqual({
      "x-ratelimit-limit-requests": "5",
      "x-ratelimit-remaining-requests": "4",
      "x-ratelimit-reset-requests": "60s",
      "x-tollgate-budget-remaining-usd": "3.99",
    });
    expect(store.admit(request(user("bob"))).headers).toEqual({});
  });

  it("come with rejections too", () => {
    const { store } = setup();
    ticketOf(store.admit(request(alice({ rpm: 1 }))));
    expect(rejection(store.admit(request(alice({ rpm: 1 })))).headers).toMatchObject({
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "60s",
    });
  });
});

describe("status", () => {
  it("reports every limit a scope has, with what is used, left and when it resets", () => {
    const { clock, store } = setup("Europe/Berlin");
    const limits = { rpm: 10, tpm: 1000, concurrent: 3, dailyUsd: 5, monthlyUsd: 50 };
    store.settle(ticketOf(store.admit(request(alice(limits), { tokens: 400, costUsd: 1 }))), {
      tokens: 250,
      costPicoUsd: usd(0.75),
    });
    clock.advance(1000);
    ticketOf(store.admit(request(alice(limits), { tokens: 300, costUsd: 0.5 })));
    const [status] = store.status([alice(limits), team("idle", { rpm: 1 })]).slice(0, 1);
    expect(status).toEqual({
      scope: { kind: "user", name: "alice" },
      label: "user alice",
      limits: {
        rpm: { limit: 10, used: 2, remaining: 8, reserved: 0, resetsAt: new Date("2026-11-23T12:01:00Z") },
        tpm: { limit: 1000, used: 550, remaining: 450, reserved: 300, resetsAt: new Date("2026-11-23T12:01:00Z") },
        concurrent: { limit: 3, used: 1, remaining: 2, reserved: 0, resetsAt: undefined },
        dailyUsd: { limit: 5, used: 1.25, remaining: 3.75, reserved: 0.5, resetsAt: new Date("2026-11-23T23:00:00Z") },
        monthlyUsd: { limit: 50, used: 1.25, remaining: 48.75, reserved: 0.5, resetsAt: new Date("2026-11-30T23:00:00Z") },
      },
    });
    expect(store.status([team("idle", { rpm: 1 })])[0]!.limits.rpm).toEqual({
      limit: 1,
      used: 0,
      remaining: 1,
      reserved: 0,
      resetsAt: undefined,
    });
  });
});

describe("restore", () => {
  it("rebuilds windows from the last 60 s of the ledger and spend for the current periods", () => {
    const { clock, store } = setup();
    const now = clock.now();
    const who = ledgerScopes({ user: "alice", team: "platform", model: "claude-opus-4-1" });
    store.restore({
      activity: [
        { time: now - 61_000, scopes: who, tokens: 9_999 }, // too old: ignored
        { time: now - 50_000, scopes: who, tokens: 400 },
        { time: now - 10_000, scopes: who, tokens: 500 },
      ],
      spend: [
        { scope: who[0]!, dayPicoUsd: usd(4), monthPicoUsd: usd(40) },
        { scope: who[2]!, dayPicoUsd: usd(1), monthPicoUsd: usd(2) },
      ],
    });
    const scopes = [
      user("alice", { rpm: 2, tpm: 1000, dailyUsd: 5, monthlyUsd: 100 }),
      team("platform", { tpm: 1000 }),
      teamModel("platform", "claude-opus-4-1", { monthlyUsd: 2 }),
    ];
    const [alice, platform, opus] = store.status(scopes);
    expect(alice!.limits.rpm).toMatchObject({ used: 2, resetsAt: new Date(now + 10_000) });
    expect(alice!.limits.tpm!.used).toBe(900);
    expect(alice!.limits.dailyUsd!.used).toBe(4);
    expect(alice!.limits.monthlyUsd!.used).toBe(40);
    expect(platform!.limits.tpm!.used).toBe(900);
    expect(opus!.limits.monthlyUsd!.remaining).toBe(0);
    expect(rejection(store.admit(request(scopes)))).toMatchObject({ limit: "monthlyUsd", scopeLabel: opus!.label });
  });

  it("gives a restarted broker the limits the old one had", () => {
    const scopes = [user("alice", { rpm: 5, tpm: 5000, dailyUsd: 3 }), team("platform", { monthlyUsd: 100 })];
    const before = setup();
    const ledger: { time: number; tokens: number; cost: number }[] = [];
    for (let i = 0; i < 4; i++) {
      const ticket = ticketOf(before.store.admit(request(scopes, { tokens: 800, costUsd: 0.6 })));
      before.clock.advance(5_000);
      const used = { tokens: 600 + i, costPicoUsd: usd(0.5) };
      before.store.settle(ticket, used);
      ledger.push({ time: before.clock.now(), tokens: used.tokens, cost: used.costPicoUsd });
    }
    const after = setup();
    after.clock.set(before.clock.now());
    const spent = ledger.reduce((sum, row) => sum + row.cost, 0);
    after.store.restore({
      activity: ledger.map((row) => ({ time: row.time, scopes: scopes.map((s) => s.scope), tokens: row.tokens })),
      spend: scopes.map((s) => ({ scope: s.scope, dayPicoUsd: spent, monthPicoUsd: spent })),
    });
    const strip = (status: ReturnType<MemoryLimitStore["status"]>) =>
      status.map((s) => Object.fromEntries(Object.entries(s.limits).map(([name, l]) => [name, [l.used, l.remaining]])));
    expect(strip(after.store.status(scopes))).toEqual(strip(before.store.status(scopes)));
  });
});

describe("memory", () => {
  it("drops scopes with nothing counted, nothing in flight and no spend this month", () => {
    const { clock, store } = setup("UTC", "2026-11-30T12:00:00Z");
    for (let i = 0; i < 1000; i++) {
      store.settle(ticketOf(store.admit(request(user(`u${i}`, { rpm: 10 })))), { tokens: 5, costPicoUsd: 0 });
    }
    const spender = ticketOf(store.admit(request(user("spender"))));
    store.settle(spender, { tokens: 5, costPicoUsd: usd(1) });
    const holder = ticketOf(store.admit(request(user("holder"))));
    expect(store.trackedScopes()).toBe(1002);
    clock.advance(2 * 60_000);
    store.status([]);
    expect(store.trackedScopes()).toBe(2); // the spender (budget this month) and the holder (in flight)
    store.release(holder);
    clock.set("2026-12-01T00:02:00Z");
    store.status([]);
    expect(store.trackedScopes()).toBe(0);
  });
});

describe("transfer (a fallback model serves the request)", () => {
  it("moves concurrency, tokens and cost to the new model's scopes without counting the user twice", () => {
    const { store } = setup();
    const aliceScope = alice({ rpm: 2, concurrent: 1 });
    const sonnet = teamModel("platform", "claude-sonnet-4", { concurrent: 5 });
    const haiku = teamModel("platform", "claude-haiku-4-5", { concurrent: 5, tpm: 1_000 });
    const ticket = ticketOf(store.admit(request([aliceScope, team("platform"), sonnet], { tokens: 300 })));
    const moved = ticketOf(store.transfer(ticket, request([aliceScope, team("platform"), haiku], { tokens: 400 })));
    expect(store.inFlight(sonnet.scope)).toBe(0);
    expect(store.inFlight(haiku.scope)).toBe(1);
    expect(store.inFlight(aliceScope.scope)).toBe(1);
    const [userStatus, , haikuStatus] = store.status([aliceScope, team("platform"), haiku]);
    expect(userStatus?.limits.rpm?.used).toBe(1);
    expect(haikuStatus?.limits.tpm?.reserved).toBe(400);
    store.settle(moved, { tokens: 350, costPicoUsd: usd(0.01) });
    expect(store.inFlight(aliceScope.scope)).toBe(0);
    expect(store.status([haiku])[0]?.limits.tpm?.used).toBe(350);
    // The original ticket was spent by the transfer: settling it again frees nothing.
    store.settle(ticket, { tokens: 1, costPicoUsd: 1 });
    expect(store.openTickets()).toBe(0);
  });

  it("keeps the original reservation whole when the fallback model's limits refuse", () => {
    const { store } = setup();
    const aliceScope = alice({ concurrent: 3 });
    const sonnet = teamModel("platform", "claude-sonnet-4", {});
    const haiku = teamModel("platform", "claude-haiku-4-5", { rpm: 0 });
    const ticket = ticketOf(store.admit(request([aliceScope, sonnet], { tokens: 300 })));
    const before = store.status([aliceScope, sonnet]);
    expect(rejection(store.transfer(ticket, request([aliceScope, haiku], { tokens: 400 })))).toMatchObject({ limit: "rpm" });
    expect(store.status([aliceScope, sonnet])).toEqual(before);
    expect(store.inFlight(haiku.scope)).toBe(0);
    store.release(ticket);
    expect(store.inFlight(aliceScope.scope)).toBe(0);
    expect(store.openTickets()).toBe(0);
  });
});

describe("MemoryLimitStore settle during an idle sweep", () => {
  it("keeps a request's spend when it settles just as the sweep finds its scopes otherwise idle", () => {
    let now = Date.UTC(2026, 10, 24, 12, 0, 0);
    const store = new MemoryLimitStore({ timeZone: "UTC", now: () => now });
    const scopes = [{ scope: { kind: "user" as const, name: "ann" }, label: "user ann", limits: { dailyUsd: 1 } }];
    const admission = store.admit({ scopes, estimatedTokens: 0, estimatedCostPicoUsd: 0 });
    if (!admission.ok) throw new Error("refused");
    now += 61_000; // past the sweep interval and the window
    store.settle(admission.ticket, { tokens: 0, costPicoUsd: 1_000_000 });
    const [status] = store.status(scopes);
    expect(status!.limits.dailyUsd!.used).toBeCloseTo(0.000001, 9);
  });
});
