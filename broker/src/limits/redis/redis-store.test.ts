// The Redis limit store against the machine's real Redis, each test under its own key prefix.
// The in-memory store is the reference: the same operations on both must give the same answers.
import { randomBytes } from "node:crypto";
import { createClient, type RedisClientType } from "@redis/client";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MemoryLimitStore } from "../memory-store.js";
import { ledgerScopes, scopeLabel } from "../scope.js";
import type { Admission, AdmissionRequest, Limits, RestoreState, Scope, ScopedLimits } from "../types.js";
import { picoToNano, RedisLimitStore, type RebuildSource } from "./redis-store.js";

const REDIS_URL = process.env.TOLLGATE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
let client: RedisClientType;
const stores: RedisLimitStore[] = [];
const prefixes: string[] = [];

beforeAll(async () => {
  client = createClient({ url: REDIS_URL }) as RedisClientType;
  await client.connect();
});
afterEach(async () => {
  for (const store of stores.splice(0)) store.close();
  for (const prefix of prefixes.splice(0)) {
    for await (const keys of client.scanIterator({ MATCH: `{${prefix}}:*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys);
  }
});
afterAll(async () => {
  await client?.close();
});

const empty: RestoreState = { activity: [], spend: [] };
const noRebuild: RebuildSource = {
  central: async () => empty,
  local: async (_zone, _now, taken) => (taken(), empty),
  unshipped: async (_zone, _now, taken) => (taken(), empty),
};

function clock(start = Date.UTC(2026, 10, 24, 12, 0, 0)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms), set: (ms: number) => void (now = ms) };
}

function newPrefix(): string {
  const prefix = `test-${randomBytes(5).toString("hex")}`;
  prefixes.push(prefix);
  return prefix;
}

function redisStore(options: { prefix: string; instanceId?: string; now?: () => number; leaseMs?: number; rebuild?: RebuildSource; timeZone?: string; connection?: RedisClientType }): RedisLimitStore {
  const store = new RedisLimitStore({
    client: options.connection ?? client,
    prefix: options.prefix,
    instanceId: options.instanceId ?? "a",
    timeZone: options.timeZone ?? "UTC",
    rebuild: options.rebuild ?? noRebuild,
    ...(options.now ? { now: options.now } : {}),
    ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
  });
  stores.push(store);
  return store;
}

const who = (user: string, team: string, model: string, limits: { user?: Limits; team?: Limits; teamModel?: Limits }): ScopedLimits[] =>
  ledgerScopes({ user, team, model }).map((scope) => ({
    scope,
    label: scopeLabel(scope),
    limits: (scope.kind === "user" ? limits.user : scope.kind === "team" ? limits.team : limits.teamModel) ?? {},
  }));

const request = (scopes: ScopedLimits[], estimatedTokens = 100, estimatedCostPicoUsd = 1_000_000): AdmissionRequest => ({ scopes, estimatedTokens, estimatedCostPicoUsd });

/** An admission without its ticket id (the stores number tickets independently). */
function comparable(admission: Admission): unknown {
  return admission.ok ? { ok: true, headers: admission.headers } : admission;
}

describe("RedisLimitStore", () => {
  it("answers every admission exactly as the in-memory store does, over random sequences", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant("admit" as const), user: fc.constantFrom("ann", "bob"), model: fc.constantFrom("m1", "m2"), tokens: fc.integer({ min: 0, max: 3000 }), cost: fc.integer({ min: 0, max: 400 }).map((n) => n * 1_000_000) }),
            fc.record({ op: fc.constant("settle" as const), pick: fc.nat(), tokens: fc.integer({ min: 0, max: 3000 }), cost: fc.integer({ min: 0, max: 400 }).map((n) => n * 1_000_000) }),
            fc.record({ op: fc.constant("release" as const), pick: fc.nat() }),
            fc.record({ op: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 30_000 }) }),
          ),
          { minLength: 1, maxLength: 40 },
        ),
        async (ops) => {
          const time = clock();
          const memory = new MemoryLimitStore({ timeZone: "America/New_York", now: time.now });
          const redis = redisStore({ prefix: newPrefix(), now: time.now, timeZone: "America/New_York", leaseMs: 3_600_000 });
          const limits = { user: { rpm: 4, tpm: 6000, concurrent: 3, dailyUsd: 0.0008 }, team: { rpm: 6, monthlyUsd: 0.0012 }, teamModel: { concurrent: 2 } };
          const open: Array<{ memory: Admission & { ok: true }; redis: Admission & { ok: true } }> = [];
          for (const op of ops) {
            if (op.op === "wait") time.advance(op.ms);
            else if (op.op === "admit") {
              const req = request(who(op.user, "eng", op.model, limits), op.tokens, op.cost);
              const [m, r] = [memory.admit(req), await redis.admit(req)];
              expect(comparable(r)).toEqual(comparable(m));
              if (m.ok && r.ok) open.push({ memory: m, redis: r });
            } else if (open.length > 0) {
              const [held] = open.splice(op.pick % open.length, 1);
              if (op.op === "settle") {
                memory.settle(held!.memory.ticket, { tokens: op.tokens, costPicoUsd: op.cost });
                await redis.settle(held!.redis.ticket, { tokens: op.tokens, costPicoUsd: op.cost });
              } else {
                memory.release(held!.memory.ticket);
                await redis.release(held!.redis.ticket);
              }
            }
          }
          const scopes = [...who("ann", "eng", "m1", limits), ...who("bob", "eng", "m2", limits).slice(2)];
          expect(await redis.status(scopes)).toEqual(memory.status(scopes));
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);

  it("200 concurrent admissions from three brokers against rpm 50 admit exactly 50", async () => {
    const prefix = newPrefix();
    const connections = await Promise.all([0, 1, 2].map(async () => {
      const c = createClient({ url: REDIS_URL }) as RedisClientType;
      await c.connect();
      return c;
    }));
    try {
      const brokers = connections.map((connection, i) => redisStore({ prefix, instanceId: `b${i}`, connection }));
      const req = request(who("ann", "eng", "m", { user: { rpm: 50 } }));
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => brokers[i % 3]!.admit(req)));
      expect(results.filter((r) => r.ok).length).toBe(50);
      const refused = results.find((r) => !r.ok);
      expect(refused && !refused.ok && refused.message).toMatch(/^user ann: 50 requests per minute; retry in \d+ s$/);
    } finally {
      await Promise.all(connections.map((c) => c.close()));
    }
  });

  it("transfers a request to another model's scopes atomically, keeping the old reservation when refused", async () => {
    const store = redisStore({ prefix: newPrefix() });
    const first = await store.admit(request(who("ann", "eng", "m1", { teamModel: { concurrent: 1 } })));
    const other = await store.admit(request(who("bob", "eng", "m2", { teamModel: { concurrent: 1 } })));
    expect(first.ok && other.ok).toBe(true);
    // m2's one slot is bob's: moving ann there is refused, and ann still holds m1's.
    const refused = await store.transfer(first.ok ? first.ticket : (undefined as never), request(who("ann", "eng", "m2", { teamModel: { concurrent: 1 } })));
    expect(refused.ok).toBe(false);
    expect(await store.inFlight({ kind: "team-model", team: "eng", model: "m1" })).toBe(1);
    if (other.ok) await store.release(other.ticket);
    const moved = await store.transfer(first.ok ? first.ticket : (undefined as never), request(who("ann", "eng", "m2", { teamModel: { concurrent: 1 } })));
    expect(moved.ok).toBe(true);
    expect(await store.inFlight({ kind: "team-model", team: "eng", model: "m1" })).toBe(0);
    expect(await store.inFlight({ kind: "team-model", team: "eng", model: "m2" })).toBe(1);
    // The user and team scopes are shared: the request counted once against their rpm.
    const [userStatus] = await store.status([{ scope: { kind: "user", name: "ann" }, label: "user ann", limits: { rpm: 10 } }]);
    expect(userStatus!.limits.rpm!.used).toBe(1);
  });

  it("frees a dead broker's slots and reservations after one lease", async () => {
    const prefix = newPrefix();
    const time = clock();
    const dying = redisStore({ prefix, instanceId: "dying", now: time.now, leaseMs: 5_000 });
    const survivor = redisStore({ prefix, instanceId: "survivor", now: time.now, leaseMs: 5_000 });
    const scopes = who("ann", "eng", "m", { team: { concurrent: 1, dailyUsd: 0.0009 } });
    expect((await dying.admit(request(scopes, 10, 1_000_000_000))).ok).toBe(true);
    dying.close(); // stops renewing, as a SIGKILLed broker does
    const busy = await survivor.admit(request(scopes, 10, 1_000_000_000));
    expect(busy.ok || busy.kind).toBe("budget"); // the dead request's $0.001 reservation still holds (+ $0.001 > $0.0015)
    time.advance(5_001);
    const admitted = await survivor.admit(request(scopes));
    expect(admitted.ok).toBe(true);
  });

  it("keeps renewing the leases of requests still in flight", async () => {
    const prefix = newPrefix();
    const store = redisStore({ prefix, leaseMs: 300 });
    const scopes = who("ann", "eng", "m", { user: { concurrent: 1 } });
    expect((await store.admit(request(scopes))).ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 900));
    const other = redisStore({ prefix, instanceId: "b", leaseMs: 300 });
    expect((await other.admit(request(scopes))).ok).toBe(false);
  });

  it("starts a new day's budget at the policy's midnight without a reset job, the month's spend kept", async () => {
    const time = clock(Date.UTC(2026, 10, 24, 4, 59, 0)); // 23:59 in New York
    const store = redisStore({ prefix: newPrefix(), now: time.now, timeZone: "America/New_York" });
    const scopes = who("ann", "eng", "m", { user: { dailyUsd: 1, monthlyUsd: 10 } });
    const admitted = await store.admit(request(scopes));
    if (admitted.ok) await store.settle(admitted.ticket, { tokens: 10, costPicoUsd: 700_000_000_000 });
    time.advance(2 * 60_000); // 00:01
    const [status] = await store.status(scopes.slice(0, 1));
    expect(status!.limits.dailyUsd!.used).toBe(0);
    expect(status!.limits.monthlyUsd!.used).toBeCloseTo(0.7, 12);
    expect(status!.limits.dailyUsd!.resetsAt).toEqual(new Date(Date.UTC(2026, 10, 25, 5, 0, 0)));
  });

  it("counts money in exact integers: 10,000 settles of odd amounts sum exactly", async () => {
    const store = redisStore({ prefix: newPrefix() });
    const scopes = [{ scope: { kind: "team", name: "eng" } as Scope, label: "team eng", limits: { monthlyUsd: 1_000_000 } }];
    let expectedNano = 0;
    const work: Array<Promise<void>> = [];
    for (let i = 0; i < 10_000; i++) {
      const pico = 1_234_567 * (i % 97) + 999 * i;
      expectedNano += picoToNano(pico);
      work.push(store.admit(request(scopes, 1, 0)).then((a) => (a.ok ? store.settle(a.ticket, { tokens: 1, costPicoUsd: pico }) : undefined)));
      if (work.length === 200) await Promise.all(work.splice(0));
    }
    await Promise.all(work);
    const month = Number(await firstMonthValue(store));
    expect(month).toBe(expectedNano);
    expect(Number.isSafeInteger(month)).toBe(true);
  }, 60_000);

  it("after Redis lost its counters, rebuilds them once from the central store and each broker's own rows", async () => {
    const prefix = newPrefix();
    const time = clock();
    const ann: Scope = { kind: "user", name: "ann" };
    const spendOf = (pico: number): RestoreState => ({ activity: [{ time: time.now() - 10_000, scopes: [ann], tokens: 50 }], spend: [{ scope: ann, dayPicoUsd: pico, monthPicoUsd: pico }] });
    let centralCalls = 0;
    // The central store holds $0.003 of brokers long gone, and what a and b shipped (all of their rows).
    const shipped: Record<string, number> = { a: 1_000_000_000, b: 2_000_000_000 };
    const source = (localPico: number): RebuildSource => ({
      central: async (_zone, _now, exclude) => {
        centralCalls++;
        const pico = 3_000_000_000 + Object.entries(shipped).reduce((sum, [id, p]) => sum + (exclude.includes(id) ? 0 : p), 0);
        return { activity: spendOf(0).activity.concat(Object.keys(shipped).filter((id) => !exclude.includes(id)).map(() => spendOf(0).activity[0]!)), spend: spendOf(pico).spend };
      },
      local: async (_zone, _now, taken) => (taken(), spendOf(localPico)),
      unshipped: async (_zone, _now, taken) => (taken(), empty),
    });
    const a = redisStore({ prefix, instanceId: "a", now: time.now, rebuild: source(1_000_000_000) });
    const b = redisStore({ prefix, instanceId: "b", now: time.now, rebuild: source(2_000_000_000) });
    const scopes = [{ scope: ann, label: "user ann", limits: { dailyUsd: 1, rpm: 10 } }];
    await a.start();
    await b.start();
    // Redis restarted empty: every key of the fleet is gone.
    for await (const keys of client.scanIterator({ MATCH: `{${prefix}}:*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys);
    await Promise.all([a.admit(request(scopes, 1, 0)), b.admit(request(scopes, 1, 0))]);
    const [status] = await a.status(scopes);
    // However many brokers raced to rebuild, the counters were set once (the epoch is created atomically).
    expect(centralCalls).toBeGreaterThanOrEqual(1);
    expect(status!.limits.dailyUsd!.used).toBeCloseTo(0.006, 12); // $0.003 central + $0.001 (a) + $0.002 (b)
    expect(status!.limits.rpm!.used).toBe(3 + 2); // a minute's requests from the three sources, and the two just admitted
  });
});

async function firstMonthValue(store: RedisLimitStore): Promise<string | null> {
  const key = (store as unknown as { key: string }).key;
  for await (const keys of client.scanIterator({ MATCH: `${key}:sm:team:eng:*`, COUNT: 100 })) if (keys[0]) return client.get(keys[0]);
  return null;
}
