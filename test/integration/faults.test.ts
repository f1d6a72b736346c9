// Faults the broker must survive with nothing lost: throttling storms on every deployment, 5xx,
// dropped connections, and SIGKILL with 100 streams in flight.
import { keyHashEntry } from "@tollgate/shared";
import { afterEach, describe, expect, it } from "vitest";
import { user } from "../support/builders.js";
import { startHarness, TEST_ADMIN_TOKEN, TEST_KEY, type Harness } from "../support/harness.js";

const SONNET_4 = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const HAIKU_4_5 = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const RPM = 1000;

const POLICY = {
  teams: { eng: { models: ["*"] } },
  users: { tester: { team: "eng", keys: [keyHashEntry(TEST_KEY)], limits: { rpm: RPM, dailyUsd: 100 } } },
  models: {
    "claude-sonnet-4": {
      route: [
        { id: "use1", modelId: SONNET_4, region: "us-east-1" },
        { id: "usw2", modelId: SONNET_4, region: "us-west-2" },
      ],
      fallbacks: ["claude-haiku-4-5"],
      cooldown: { initialMs: 1_000, maxMs: 3_000 },
    },
    "claude-haiku-4-5": { route: [{ id: "use1", modelId: HAIKU_4_5, region: "us-east-1" }], cooldown: { initialMs: 1_000, maxMs: 3_000 } },
  },
};
const ask = { model: "claude-sonnet-4", messages: [user("Hello")] };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface ErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}

async function post(harness: Harness, body: object): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await harness.call("/v1/chat/completions", { method: "POST", body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe("throttling storm on every deployment", () => {
  it("answers 429s in OpenAI's shape; while everything cools down a request asks Bedrock once, not never and not everywhere; recovers", async () => {
    h = await startHarness({ policy: POLICY });
    const harness = h;
    harness.emulator.setHandler(() => ({ error: { name: "ThrottlingException", message: "Too many requests" } }));
    // Waves of concurrent requests: the first wave meets every deployment throttling and fails over
    // through all three; later waves find them cooling down and ask only the one whose cool-down
    // ends first (no model is cooled into refusing everyone without asking Bedrock).
    const answers: Array<{ status: number; headers: Headers; text: string }> = [];
    const callsAfterWave: number[] = [];
    for (let wave = 0; wave < 6; wave++) {
      answers.push(...(await Promise.all(Array.from({ length: 10 }, () => post(harness, ask)))));
      callsAfterWave.push(harness.emulator.calls.length);
    }
    for (const answer of answers) {
      expect(answer.status).toBe(429);
      const body = JSON.parse(answer.text) as ErrorBody;
      expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
      expect(body.error.code).toBe("upstream_throttled");
      expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    expect(callsAfterWave[0]).toBeLessThanOrEqual(10 * 3);
    for (let wave = 1; wave < 6; wave++) expect(callsAfterWave[wave]! - callsAfterWave[wave - 1]!).toBeLessThanOrEqual(10);

    // Bedrock's own retry-after is honoured: until it passes, a request costs Bedrock nothing.
    harness.emulator.setHandler(() => ({ error: { name: "ThrottlingException", message: "Too many requests", retryAfterSeconds: 2 } }));
    // Each deployment is asked once more, in turn, and answers with the retry-after (three at most).
    for (let i = 0; i < 3; i++) expect((await post(harness, ask)).status).toBe(429);
    const before = harness.emulator.calls.length;
    const told = await post(harness, ask);
    expect(told.status).toBe(429);
    expect((JSON.parse(told.text) as ErrorBody).error.message).toMatch(/cooling down/);
    expect(harness.emulator.calls.length).toBe(before);

    // The storm passes; the broker serves again, and it never stopped being alive.
    harness.emulator.setHandler(undefined);
    expect((await fetch(`${harness.broker.url}/healthz`)).status).toBe(200);
    await expect.poll(async () => (await post(harness, ask)).status, { timeout: 5_000, interval: 200 }).toBe(200);
  });
});

describe("5xx and dropped connections", () => {
  it("a deployment answering 5xx or dropping the connection before the first byte fails over", async () => {
    h = await startHarness({ policy: POLICY });
    const harness = h;
    harness.emulator.setHandler((call) => (call.region === "us-east-1" && call.modelId === SONNET_4 ? { error: { name: "InternalServerException" } } : undefined));
    const served = await post(harness, ask);
    expect(served.status).toBe(200);
    expect(served.headers.get("x-tollgate-deployment")).toBe("usw2");

    harness.emulator.reset();
    harness.emulator.setHandler((call) => (call.region === "us-east-1" && call.modelId === SONNET_4 ? { dropAfterEvents: 0 } : undefined));
    const streamed = await post(harness, { ...ask, stream: true });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("x-tollgate-deployment")).toBe("usw2");
    expect(streamed.text.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("5xx everywhere → 502 naming the last deployment; the broker keeps serving once Bedrock recovers", async () => {
    h = await startHarness({ policy: POLICY });
    const harness = h;
    harness.emulator.setHandler(() => ({ error: { name: "ModelErrorException", message: "The model failed" } }));
    const failed = await post(harness, ask);
    expect(failed.status).toBe(502);
    const body = JSON.parse(failed.text) as ErrorBody;
    expect(body.error.code).toBe("upstream_error");
    expect(body.error.message).toMatch(/claude-haiku-4-5.*The model failed/);
    expect(failed.headers.get("x-tollgate-fallbacks")).toBe("2");
    harness.emulator.setHandler(undefined);
    expect((await post(harness, ask)).status).toBe(200);
  });
});

describe("SIGKILL with 100 streams in flight", () => {
  it("loses no completed request, counts none twice, and restores rpm and spend", async () => {
    h = await startHarness({ policy: POLICY });
    const harness = h;
    // Half the streams finish quickly; the other half are still streaming when the broker dies.
    let n = 0;
    harness.emulator.setHandler(() => (n++ % 2 === 0 ? { content: [{ text: "quick" }] } : { content: [{ text: "slow ".repeat(50) }], chunks: 50, chunkDelayMs: 200 }));
    const completed: string[] = [];
    const started = Array.from({ length: 100 }, async () => {
      // A stream the kill cuts (before or after its headers) is not complete; only whole ones count.
      const response = await harness.call("/v1/chat/completions", { method: "POST", body: JSON.stringify({ ...ask, stream: true }) }).catch(() => undefined);
      if (!response) return;
      const text = await response.text().catch(() => "");
      if (response.status === 200 && text.trimEnd().endsWith("data: [DONE]")) completed.push(response.headers.get("x-request-id") ?? "");
    });
    await expect.poll(() => completed.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(50);
    await expect.poll(() => harness.emulator.calls.length).toBe(100);
    await harness.broker.stop("SIGKILL");
    await Promise.all(started);
    expect(completed.length).toBeGreaterThanOrEqual(50);
    expect(completed.length).toBeLessThan(100);

    harness.emulator.setHandler(undefined);
    await harness.restart();
    const rows = ((await (await harness.call("/admin/requests?refused=exclude&limit=1000", { token: TEST_ADMIN_TOKEN })).json()) as { data: Array<{ id: string; costUsd: number }> }).data;
    const ids = rows.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(completed.filter((id) => !ids.includes(id))).toEqual([]);

    const me = (await (await harness.call("/v1/me")).json()) as {
      limits: Array<{ limit: string; used: number }>;
      budgets: Array<{ scope: string; period: string; spentUsd: number }>;
    };
    // The restored rpm window counts every recorded request (the /v1/me calls are not requests).
    expect(me.limits.find((l) => l.limit === "rpm")?.used).toBe(rows.length);
    const spent = rows.reduce((total, r) => total + r.costUsd, 0);
    expect(me.budgets.find((b) => b.scope === "user tester" && b.period === "day")?.spentUsd).toBeCloseTo(spent, 9);
  });
});
