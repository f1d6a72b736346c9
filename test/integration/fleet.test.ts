// Fleet mode: three real `tollgate serve` processes sharing one PostgreSQL database and one Redis
// prefix, driven by the `openai` client. Limits and budgets hold across the fleet, a policy pushed
// to one broker reaches the others, and slots freed on one broker are free on all.
import { keyHashEntry } from "@tollgate/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiError } from "../support/api-error.js";
import { user } from "../support/builders.js";
import { startFleet, type Fleet } from "../support/fleet.js";
import { TEST_ADMIN_TOKEN, TEST_POLICY } from "../support/harness.js";

const key = (name: string): string => `tg_${name}-fleet-test-key-0000000000000`;
const users = {
  burst: { team: "eng", keys: [keyHashEntry(key("burst"))], limits: { rpm: 50 } },
  solo: { team: "eng", keys: [keyHashEntry(key("solo"))], limits: { concurrent: 1 } },
  spender: { team: "thrifty", keys: [keyHashEntry(key("spender"))] },
  spender2: { team: "thrifty", keys: [keyHashEntry(key("spender2"))] },
  watcher: { team: "eng", keys: [keyHashEntry(key("watcher"))], limits: { dailyUsd: 5 } },
};
// A team budget of a few requests' worth (claude-sonnet-4: $3 / $15 per million tokens).
const THRIFTY_DAILY_USD = 0.002;
const policy = {
  ...TEST_POLICY,
  teams: { eng: { models: ["*"] }, thrifty: { models: ["*"], limits: { dailyUsd: THRIFTY_DAILY_USD } } },
  users,
};

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ policy });
}, 60_000);
afterAll(async () => {
  await fleet?.close();
});

const brokerFor = (i: number) => fleet.brokers[i % fleet.brokers.length]!;

describe("fleet: shared limits", () => {
  it("starts three brokers at once on an empty database with one schema and one seeded policy", async () => {
    const migrations = await fleet.query<{ version: number }>("SELECT version FROM tollgate_schema_migrations ORDER BY version");
    expect(migrations.map((m) => m.version)).toEqual([...new Set(migrations.map((m) => m.version))]);
    const versions = await fleet.query<{ version: number; kind: string }>("SELECT version, kind FROM policy_versions ORDER BY version");
    expect(versions).toEqual([{ version: 1, kind: "seed" }]);
  });

  it("200 concurrent requests over three brokers against a user rpm of 50 admit exactly 50", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => brokerFor(i).client(key("burst")).chat.completions.create({ model: "claude-sonnet-4", max_tokens: 20, messages: [user(`hi ${i}`)] })),
    );
    const admitted = results.filter((r) => r.status === "fulfilled").length;
    const refused = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason as { status?: number });
    expect(admitted).toBe(50);
    expect(refused.every((error) => error.status === 429)).toBe(true);
    // Every broker served some: the limit held across hosts, not per host.
    await fleet.drained();
    const perBroker = await fleet.query<{ instance_id: string; n: string }>(
      "SELECT instance_id, count(*) AS n FROM usage WHERE \"user\" = 'burst' AND status = 'ok' GROUP BY instance_id ORDER BY instance_id",
    );
    expect(perBroker.map((row) => row.instance_id)).toEqual(["b1", "b2", "b3"]);
    expect(perBroker.reduce((sum, row) => sum + Number(row.n), 0)).toBe(50);
  });

  it("a team daily budget is never exceeded by more than the requests in flight when it was reached", async () => {
    const inFlight = 6;
    let refused402 = 0;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; i < 8; i++) {
        try {
          await brokerFor(w).client(key(w % 2 === 0 ? "spender" : "spender2")).chat.completions.create({ model: "claude-sonnet-4", max_tokens: 40, messages: [user(`spend ${w}-${i}`)] });
        } catch (error) {
          if ((error as { status?: number }).status === 402) refused402++;
          else throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: inFlight }, (_, w) => worker(w)));
    expect(refused402).toBeGreaterThan(0);
    await fleet.drained();
    const [spent] = await fleet.query<{ pico: string; max_request: string }>(
      "SELECT COALESCE(sum(cost_pico_usd), 0) AS pico, COALESCE(max(cost_pico_usd), 0) AS max_request FROM usage WHERE team = 'thrifty'",
    );
    const spentUsd = Number(spent!.pico) / 1e12;
    expect(spentUsd).toBeGreaterThan(0);
    expect(spentUsd).toBeLessThanOrEqual(THRIFTY_DAILY_USD + (inFlight * Number(spent!.max_request)) / 1e12);
    // Every broker now refuses the team, whichever one the next request reaches.
    for (const broker of fleet.brokers) {
      const error = await apiError(broker.client(key("spender")).chat.completions.create({ model: "claude-sonnet-4", max_tokens: 40, messages: [user("more")] }));
      expect(error.status).toBe(402);
    }
  });

  it("/v1/me shows the user's org-wide spend on every broker", async () => {
    for (let i = 0; i < 3; i++) await brokerFor(i).client(key("watcher")).chat.completions.create({ model: "claude-sonnet-4", max_tokens: 20, messages: [user(`watch ${i}`)] });
    const [row] = await (async () => {
      await fleet.drained();
      return fleet.query<{ pico: string }>("SELECT sum(cost_pico_usd) AS pico FROM usage WHERE \"user\" = 'watcher'");
    })();
    const expected = Number(row!.pico) / 1e12;
    for (const broker of fleet.brokers) {
      const me = (await (await broker.call("/v1/me", { token: key("watcher") })).json()) as { budgets: Array<{ scope: string; period: string; spentUsd: number }> };
      const day = me.budgets.find((b) => b.scope === "user watcher" && b.period === "day")!;
      expect(day.spentUsd).toBeCloseTo(expected, 12);
    }
  });

  it("a cancelled stream frees its concurrency slot across the fleet", async () => {
    fleet.emulator.setOptions({ chunkDelayMs: 200 });
    try {
      const controller = new AbortController();
      const stream = await fleet.brokers[0]!.client(key("solo")).chat.completions.create(
        { model: "claude-sonnet-4", stream: true, messages: [user("a long answer please")] },
        { signal: controller.signal },
      );
      const iterator = stream[Symbol.asyncIterator]();
      await iterator.next();
      // The one slot is taken: another broker refuses.
      const busy = await apiError(fleet.brokers[1]!.client(key("solo")).chat.completions.create({ model: "claude-sonnet-4", messages: [user("second")] }));
      expect(busy.status).toBe(429);
      expect(busy.message).toContain("concurrent");
      controller.abort();
      await iterator.next().catch(() => undefined);
      // Freed once the cancelled request is settled on the first broker: the second admits it.
      const deadline = Date.now() + 5_000;
      for (;;) {
        try {
          await fleet.brokers[2]!.client(key("solo")).chat.completions.create({ model: "claude-sonnet-4", max_tokens: 10, messages: [user("third")] });
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    } finally {
      fleet.emulator.setOptions({ chunkDelayMs: 0 });
    }
  });
});

describe("fleet: policy", () => {
  it("a push on one broker is served by the other two within 1 s, and /admin/policy says which version each holds", async () => {
    const pushed = { ...policy, models: { ...policy.models, "claude-sonnet-4-extra": { route: [{ id: "use1", modelId: "us.anthropic.claude-sonnet-4-20250514-v1:0", region: "us-east-1" }] } } };
    const started = Date.now();
    const response = await fleet.brokers[0]!.call("/admin/policy?comment=extra%20Sonnet%20route", { method: "PUT", token: TEST_ADMIN_TOKEN, body: JSON.stringify(pushed) });
    expect(response.status).toBe(200);
    const { version } = (await response.json()) as { version: number };
    const servedEverywhere = async (): Promise<boolean> => {
      const models = await Promise.all(fleet.brokers.map(async (b) => ((await (await b.call("/v1/models", { token: key("burst") })).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)));
      return models.every((ids) => ids.includes("claude-sonnet-4-extra"));
    };
    while (!(await servedEverywhere())) {
      expect(Date.now() - started).toBeLessThan(1_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(Date.now() - started).toBeLessThan(1_000);
    // The heartbeats carry each broker's version (every 2 s).
    const deadline = Date.now() + 5_000;
    for (;;) {
      const view = (await (await fleet.brokers[1]!.call("/admin/policy", { token: TEST_ADMIN_TOKEN })).json()) as { version: number; brokers: Array<{ instanceId: string; policyVersion: number }> };
      expect(view.version).toBe(version);
      const held = Object.fromEntries(view.brokers.map((b) => [b.instanceId, b.policyVersion]));
      if (["b1", "b2", "b3"].every((name) => held[name] === version)) break;
      if (Date.now() > deadline) throw new Error(`brokers hold ${JSON.stringify(held)}, not ${version}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Rollback likewise reaches every broker.
    const rolled = await fleet.brokers[2]!.call("/admin/policy/rollback", { method: "POST", token: TEST_ADMIN_TOKEN, body: JSON.stringify({ version: 1 }) });
    expect(rolled.status).toBe(200);
    const rollbackStarted = Date.now();
    const anyServesExtra = async (): Promise<boolean> =>
      (await Promise.all(fleet.brokers.map(async (b) => ((await (await b.call("/v1/models", { token: key("burst") })).json()) as { data: Array<{ id: string }> }).data.some((m) => m.id === "claude-sonnet-4-extra")))).some(Boolean);
    while (await anyServesExtra()) {
      expect(Date.now() - rollbackStarted).toBeLessThan(1_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The audit, from PostgreSQL on a third broker: who, when, what and why.
    const history = (await (await fleet.brokers[1]!.call("/admin/policy/versions", { token: TEST_ADMIN_TOKEN })).json()) as {
      data: Array<{ version: number; kind: string; by: string; createdAt: string; comment?: string; restoredFrom?: number }>;
    };
    const audit = history.data.slice(-2);
    expect(audit[0]).toMatchObject({ version, kind: "push", comment: "extra Sonnet route" });
    expect(audit[0]!.by).toMatch(/127\.0\.0\.1/);
    expect(Number.isNaN(Date.parse(audit[0]!.createdAt))).toBe(false);
    expect(audit[1]).toMatchObject({ version: version + 1, kind: "rollback", restoredFrom: 1 });
    expect(audit[1]!.comment).toBeUndefined();
  });

  it("the admin API answers org-wide from PostgreSQL on any broker", async () => {
    await fleet.drained();
    const [row] = await fleet.query<{ n: string }>("SELECT count(*) AS n FROM usage");
    for (const broker of fleet.brokers) {
      const usage = (await (await broker.call("/admin/usage?groupBy=team", { token: TEST_ADMIN_TOKEN })).json()) as { total: { requests: number } };
      expect(usage.total.requests).toBe(Number(row!.n));
    }
    const health = (await (await fleet.brokers[0]!.call("/admin/health", { token: TEST_ADMIN_TOKEN })).json()) as { mode: string; status: string; brokers: Array<{ instanceId: string }> };
    expect(health.mode).toBe("fleet");
    expect(health.status).toBe("ready");
    expect(health.brokers.map((b) => b.instanceId).sort()).toEqual(["b1", "b2", "b3"]);
  });
});
