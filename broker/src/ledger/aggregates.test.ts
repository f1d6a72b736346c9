// The aggregates (hourly sums plus raw edges) must equal a plain sum over the records, for any
// range, filter and grouping.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteLedger, type SqliteLedger } from "./sqlite-ledger.js";
import { tempDataDir, usageRecord } from "./testing/records.js";
import { localDateKey } from "./time-zone.js";
import { teamModelKey, type UsageGroupBy, type UsageRecord } from "./types.js";

const T0 = Date.UTC(2026, 2, 7, 20); // 7 March 2026 20:00 UTC; the data spans US DST (8 March)
const SPAN = 40 * 3_600_000;
const USERS = ["ann", "bob", "cat", "dan"];
const TEAMS = ["red", "blue"];
const MODELS = ["m1", "m2", "m3"];
const PROJECTS = [null, "p1", "p2"];

let ledger: SqliteLedger;
let records: UsageRecord[];
let remove: () => void;

beforeAll(async () => {
  const tmp = tempDataDir();
  remove = tmp.remove;
  ledger = openSqliteLedger(tmp.dir);
  const gen = fc.record({
    offset: fc.integer({ min: 0, max: SPAN - 1 }),
    user: fc.integer({ min: 0, max: USERS.length - 1 }),
    model: fc.constantFrom(...MODELS),
    project: fc.constantFrom(...PROJECTS),
    input: fc.integer({ min: 0, max: 100_000 }),
    read: fc.integer({ min: 0, max: 100_000 }),
    write: fc.integer({ min: 0, max: 10_000 }),
    output: fc.integer({ min: 0, max: 10_000 }),
    cost: fc.integer({ min: 0, max: 5_000_000_000_000 }),
  });
  records = fc.sample(gen, { numRuns: 600, seed: 42 }).map((g) =>
    usageRecord({
      time: T0 + g.offset,
      user: USERS[g.user]!,
      team: TEAMS[g.user % TEAMS.length]!,
      servedModel: g.model,
      project: g.project,
      inputTokens: g.input,
      cacheReadTokens: g.read,
      cacheWriteTokens: g.write,
      outputTokens: g.output,
      costPicoUsd: g.cost,
    }),
  );
  // Several batches, out of time order, as concurrent requests finish.
  for (let i = 0; i < records.length; i += 97) await Promise.all(records.slice(i, i + 97).map((r) => ledger.append(r)));
});

afterAll(async () => {
  await ledger.close();
  remove();
});

function sums(rs: UsageRecord[]) {
  return {
    requests: rs.length,
    inputTokens: rs.reduce((a, r) => a + r.inputTokens, 0),
    cacheReadTokens: rs.reduce((a, r) => a + r.cacheReadTokens, 0),
    cacheWriteTokens: rs.reduce((a, r) => a + r.cacheWriteTokens, 0),
    outputTokens: rs.reduce((a, r) => a + r.outputTokens, 0),
    costPicoUsd: rs.reduce((a, r) => a + r.costPicoUsd, 0),
  };
}

function groupKey(r: UsageRecord, groupBy: UsageGroupBy, timezone: string): string {
  switch (groupBy) {
    case "day":
      return localDateKey(r.time, timezone);
    case "model":
      return r.servedModel;
    case "project":
      return r.project ?? "";
    case "user":
      return r.user;
    case "team":
      return r.team;
  }
}

const instant = fc.integer({ min: T0 - 3_600_000, max: T0 + SPAN + 3_600_000 });

describe("ledger aggregates match a plain sum over the records", () => {
  it("totals() for any since and scope", () => {
    fc.assert(
      fc.property(instant, fc.option(fc.constantFrom(...USERS), { nil: undefined }), fc.option(fc.constantFrom(...TEAMS), { nil: undefined }), fc.option(fc.constantFrom(...MODELS), { nil: undefined }), (since, user, team, model) => {
        const expected = sums(
          records.filter((r) => r.time >= since && (user === undefined || r.user === user) && (team === undefined || r.team === team) && (model === undefined || r.servedModel === model)),
        );
        expect(ledger.totals({ user, team, model }, since)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it("usage() for any range, grouping, filter and time zone", () => {
    fc.assert(
      fc.property(
        instant,
        instant,
        fc.constantFrom<UsageGroupBy>("day", "model", "project", "user", "team"),
        fc.option(fc.constantFrom(...USERS), { nil: undefined }),
        fc.option(fc.constantFrom(...TEAMS), { nil: undefined }),
        fc.constantFrom("UTC", "America/Los_Angeles", "Asia/Kolkata", "Asia/Kathmandu"),
        (a, b, groupBy, user, team, timezone) => {
          const [from, to] = a <= b ? [a, b] : [b, a];
          const selected = records.filter((r) => r.time >= from && r.time < to && (user === undefined || r.user === user) && (team === undefined || r.team === team));
          const groups = new Map<string, UsageRecord[]>();
          for (const r of selected) {
            const key = groupKey(r, groupBy, timezone);
            groups.set(key, [...(groups.get(key) ?? []), r]);
          }
          const savingsOf = (rs: UsageRecord[]) => rs.reduce((acc, r) => acc + (r.servedModel === "m1" ? 3 : 1) * r.cacheReadTokens - r.cacheWriteTokens, 0);
          const expected = [...groups].map(([key, rs]) => ({ key, ...sums(rs), cacheSavingsPicoUsd: savingsOf(rs) }));
          const cacheSavings = (model: string, read: number, write: number) => (model === "m1" ? 3 : 1) * read - write;
          const actual = ledger.usage({ from, to, groupBy, user, team, timezone, cacheSavings });
          const byKey = (x: { key: string }, y: { key: string }) => (x.key < y.key ? -1 : 1);
          expect([...actual].sort(byKey)).toEqual(expected.sort(byKey));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("spendByScope() for any since", () => {
    fc.assert(
      fc.property(instant, (since) => {
        const selected = records.filter((r) => r.time >= since);
        const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
        const users = new Map<string, number>();
        const teams = new Map<string, number>();
        const teamModels = new Map<string, number>();
        for (const r of selected) {
          add(users, r.user, r.costPicoUsd);
          add(teams, r.team, r.costPicoUsd);
          add(teamModels, teamModelKey(r.team, r.servedModel), r.costPicoUsd);
        }
        const spend = ledger.spendByScope(since);
        expect(spend.users).toEqual(users);
        expect(spend.teams).toEqual(teams);
        expect(spend.teamModels).toEqual(teamModels);
      }),
      { numRuns: 60 },
    );
  });
});
