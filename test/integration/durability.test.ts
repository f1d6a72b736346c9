// A broker killed with SIGKILL under load loses no completed request's usage, counts none twice,
// and comes back with its limits and spend.
import { keyHashEntry } from "@tollgate/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, TEST_ADMIN_TOKEN, TEST_KEY, TEST_POLICY, type Harness } from "../support/harness.js";

const LIMITED = "tg_limited-durability-key-000000000001";
const policy = {
  ...TEST_POLICY,
  users: {
    tester: { ...TEST_POLICY.users.tester, limits: { dailyUsd: 100 } },
    limited: { team: "eng", keys: [keyHashEntry(LIMITED)], limits: { rpm: 5 } },
  },
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policy });
});
afterAll(async () => {
  await h?.close();
});

async function complete(key: string, stream: boolean): Promise<string | undefined> {
  const response = await h.call("/v1/chat/completions", {
    token: key,
    method: "POST",
    body: JSON.stringify({ model: "claude-sonnet-4", stream, messages: [{ role: "user", content: "durable?" }] }),
  });
  const body = await response.text();
  // Complete means the client got the whole answer: a 200 and, for streams, the final [DONE].
  if (response.status !== 200 || (stream && !body.trimEnd().endsWith("data: [DONE]"))) return undefined;
  return response.headers.get("x-request-id") ?? undefined;
}

describe("SIGKILL under load", () => {
  it("keeps every completed request, once, and restores spend", { timeout: 60_000 }, async () => {
    h.emulator.setOptions({ firstByteDelayMs: 15 });
    const completed: string[] = [];
    let stop = false;
    const workers = Array.from({ length: 25 }, async (_, worker) => {
      while (!stop) {
        const id = await complete(TEST_KEY, worker % 2 === 0).catch(() => undefined);
        if (id && !stop) completed.push(id);
        else if (!id) return;
      }
    });
    // Kill once plenty have completed (however fast this machine is), with more in flight.
    await expect.poll(() => completed.length, { timeout: 20_000, interval: 20 }).toBeGreaterThan(50);
    const before = completed.length;
    await h.broker.stop("SIGKILL");
    stop = true;
    await Promise.all(workers);
    h.emulator.setOptions({ firstByteDelayMs: 0 });
    expect(before).toBeGreaterThan(50);

    await h.restart();
    const rows = (await (await h.call("/admin/requests?refused=exclude&limit=1000", { token: TEST_ADMIN_TOKEN })).json()) as { data: Array<{ id: string; costUsd: number; status: string }> };
    const ids = rows.data.map((row) => row.id);
    expect(new Set(ids).size).toBe(ids.length);
    const recorded = new Set(ids);
    expect(completed.filter((id) => !recorded.has(id))).toEqual([]);

    const spent = rows.data.reduce((total, row) => total + row.costUsd, 0);
    const me = (await (await h.call("/v1/me")).json()) as { budgets: Array<{ scope: string; period: string; spentUsd: number }> };
    expect(me.budgets.find((budget) => budget.scope === "user tester" && budget.period === "day")?.spentUsd).toBeCloseTo(spent, 9);
  });

  it("restores rate-limit windows from the ledger", async () => {
    for (let i = 0; i < 5; i++) expect(await complete(LIMITED, false)).toBeDefined();
    await h.restart("SIGKILL");
    const response = await h.call("/v1/chat/completions", {
      token: LIMITED,
      method: "POST",
      body: JSON.stringify({ model: "claude-sonnet-4", messages: [{ role: "user", content: "one more" }] }),
    });
    expect(response.status).toBe(429);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/^user limited: 5 requests per minute/);
  });
});
