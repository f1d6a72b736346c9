// Fleet mode under failure, with a PostgreSQL cluster and a Redis server each test owns (so it can
// stop them): a broker SIGKILLed under load and PostgreSQL stopped for 10 s lose nothing and count
// nothing twice; Redis restarted empty rebuilds spend and windows; Redis down divides the limits.
import { keyHashEntry } from "@tollgate/shared";
import { afterEach, describe, expect, it } from "vitest";
import { user } from "../support/builders.js";
import { startFleet, type Fleet } from "../support/fleet.js";
import { TEST_ADMIN_TOKEN, TEST_POLICY } from "../support/harness.js";
import { ownPostgres, ownRedis, type OwnedService } from "../support/services.js";

const key = (name: string): string => `tg_${name}-fleet-fault-key-00000000000`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let fleet: Fleet | undefined;
const owned: OwnedService[] = [];
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  await Promise.all(owned.splice(0).map((service) => service.close()));
});

async function everyBrokerReady(f: Fleet, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(f.brokers.map(async (b) => ((await (await b.call("/readyz")).json()) as { status: string }).status));
    if (states.every((s) => s === "ready")) return;
    if (Date.now() > deadline) throw new Error(`brokers not ready: ${states.join(", ")}`);
    await sleep(100);
  }
}

interface Served {
  id: string;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
}

describe("fleet faults", () => {
  it("a broker SIGKILLed under load and PostgreSQL stopped for 10 s: every completed request reaches PostgreSQL exactly once, as Bedrock reported it", async () => {
    const postgres = await ownPostgres();
    owned.push(postgres);
    const users = { loader: { team: "eng", keys: [keyHashEntry(key("loader"))] } };
    fleet = await startFleet({ databaseUrl: postgres.url, policy: { ...TEST_POLICY, users } });
    const f = fleet;
    const served: Served[] = [];
    let servedWhileDown = 0;
    let postgresDown = false;
    let stop = false;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const broker = f.brokers[w % 3]!;
        if (broker.process.child.exitCode !== null || broker.process.child.signalCode !== null) {
          await sleep(50);
          continue;
        }
        try {
          const { data, response } = await broker
            .client(key("loader"))
            .chat.completions.create({ model: "claude-sonnet-4", max_tokens: 30, messages: [user(`load ${w}-${i}`)] })
            .withResponse();
          const usage = data.usage as (typeof data.usage & { cost?: number }) | undefined;
          served.push({
            id: response.headers.get("x-request-id")!,
            promptTokens: usage!.prompt_tokens,
            completionTokens: usage!.completion_tokens,
            cachedTokens: usage!.prompt_tokens_details?.cached_tokens ?? 0,
            costUsd: usage!.cost ?? Number.NaN,
          });
          if (postgresDown) servedWhileDown++;
        } catch {
          // Requests cut by the SIGKILL fail at the client: they never completed.
        }
      }
    };
    const load = Promise.all(Array.from({ length: 9 }, (_, w) => worker(w)));
    await sleep(1_500);
    await f.brokers[2]!.process.stop("SIGKILL");
    await sleep(500);
    await postgres.stop();
    postgresDown = true;
    await sleep(2_000);
    const degraded = (await (await f.brokers[0]!.call("/readyz")).json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
    expect(degraded.status).toBe("degraded");
    expect(degraded.checks.central_store!.detail).toMatch(/central store unreachable since .*, \d+ rows waiting/);
    // A policy change needs PostgreSQL: refused, saying why, and the old version keeps serving.
    const push = await f.brokers[0]!.call("/admin/policy", { method: "PUT", token: TEST_ADMIN_TOKEN, body: JSON.stringify({ ...TEST_POLICY, users }) });
    expect(push.status).toBe(503);
    expect(((await push.json()) as { error: { code: string } }).error.code).toBe("central_store_unavailable");
    await sleep(8_000);
    await postgres.start();
    postgresDown = false;
    // The killed broker comes back on its data dir and ships what it had committed.
    await f.start("b3");
    await sleep(1_500);
    stop = true;
    await load;
    await f.drained(30_000);

    expect(servedWhileDown).toBeGreaterThan(0);
    const rows = await f.query<{ id: string; input_tokens: string; cache_read_tokens: string; cache_write_tokens: string; output_tokens: string; cost_pico_usd: string; status: string }>(
      "SELECT id, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, cost_pico_usd, status FROM usage",
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.size).toBe(rows.length); // the primary key, but say it: no request twice
    for (const request of served) {
      const row = byId.get(request.id);
      expect(row, `request ${request.id} missing from PostgreSQL`).toBeDefined();
      expect(row!.status).toBe("ok");
      expect(Number(row!.input_tokens) + Number(row!.cache_read_tokens) + Number(row!.cache_write_tokens)).toBe(request.promptTokens);
      expect(Number(row!.cache_read_tokens)).toBe(request.cachedTokens);
      expect(Number(row!.output_tokens)).toBe(request.completionTokens);
      expect(Number(row!.cost_pico_usd) / 1e12).toBeCloseTo(request.costUsd, 9);
    }
    // And no completed request beyond those the clients saw (cut ones are recorded as such).
    const ok = rows.filter((row) => row.status === "ok").length;
    expect(ok).toBeGreaterThanOrEqual(served.length);
    expect(ok - served.length).toBeLessThanOrEqual(9); // at most the requests in flight on the killed broker
  }, 90_000);

  it("Redis restarted empty mid-day: spend and rate windows are rebuilt from PostgreSQL and the outboxes", async () => {
    const redis = await ownRedis();
    owned.push(redis);
    const users = {
      probe: { team: "eng", keys: [keyHashEntry(key("probe"))] },
      budgeted: { team: "eng", keys: [keyHashEntry(key("budgeted"))] },
      windowed: { team: "eng", keys: [keyHashEntry(key("windowed"))], limits: { rpm: 5 } },
    };
    const policy = { ...TEST_POLICY, users };
    fleet = await startFleet({ redisUrl: redis.url, policy });
    const f = fleet;
    const ask = (name: string, i: number) => f.brokers[i % 3]!.client(key(name)).chat.completions.create({ model: "claude-sonnet-4", max_tokens: 30, messages: [user("the same question")] });
    // Identical requests cost the same: learn that cost, then give `budgeted` room for 5.5 of them.
    const probe = await ask("probe", 0);
    const cost = (probe.usage as unknown as { cost: number }).cost;
    const pushed = { ...policy, users: { ...users, budgeted: { ...users.budgeted, limits: { dailyUsd: Number((cost * 5.5).toFixed(9)) } } } };
    const push = await f.brokers[0]!.call("/admin/policy", { method: "PUT", token: TEST_ADMIN_TOKEN, body: JSON.stringify(pushed) });
    expect(push.status).toBe(200);
    await sleep(500);

    for (let i = 0; i < 3; i++) await ask("budgeted", i);
    for (let i = 0; i < 3; i++) await ask("windowed", i);

    await redis.stop();
    await redis.start();
    // A broker that tried Redis while it was down serves degraded for a moment; wait for all to be back.
    await everyBrokerReady(f);

    // Sequential requests are admitted while spend < budget: 3 more (6 in all), then 402.
    let admitted = 0;
    for (let i = 0; i < 10; i++) {
      try {
        await ask("budgeted", i);
        admitted++;
      } catch (error) {
        expect((error as { status?: number }).status).toBe(402);
        break;
      }
    }
    expect(admitted).toBe(3);
    // The minute's window still holds the 3 requests made before the restart: 2 more, then 429.
    let inWindow = 0;
    for (let i = 0; i < 5; i++) {
      try {
        await ask("windowed", i);
        inWindow++;
      } catch (error) {
        expect((error as { status?: number }).status).toBe(429);
        break;
      }
    }
    expect(inWindow).toBe(2);
  }, 90_000);

  it("Redis unreachable: each broker serves with its share of the limits, says it is degraded, and recovers", async () => {
    const redis = await ownRedis();
    owned.push(redis);
    const users = { shared: { team: "eng", keys: [keyHashEntry(key("shared"))], limits: { rpm: 9 } } };
    fleet = await startFleet({ redisUrl: redis.url, policy: { ...TEST_POLICY, users } });
    const f = fleet;
    await sleep(2_500); // heartbeats: every broker knows there are three
    await redis.stop();
    const one = f.brokers[0]!;
    let admitted = 0;
    for (let i = 0; i < 9; i++) {
      try {
        await one.client(key("shared")).chat.completions.create({ model: "claude-sonnet-4", max_tokens: 10, messages: [user(`while down ${i}`)] });
        admitted++;
      } catch (error) {
        expect((error as { status?: number }).status).toBe(429);
        break;
      }
    }
    expect(admitted).toBe(3); // 9 rpm shared by 3 brokers
    const ready = (await (await one.call("/readyz")).json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
    expect(ready.status).toBe("degraded");
    expect(ready.checks.shared_limits!.detail).toMatch(/redis unreachable/);

    await redis.start();
    const deadline = Date.now() + 15_000;
    for (;;) {
      const status = ((await (await one.call("/readyz")).json()) as { status: string }).status;
      if (status === "ready") break;
      if (Date.now() > deadline) throw new Error(`still ${status} after Redis returned`);
      await sleep(200);
    }
  }, 90_000);
});
