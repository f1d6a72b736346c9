// Rate limits and budgets over HTTP with the `openai` client: each limit hit, what the client sees,
// and the concurrency race.
import OpenAI, { APIError } from "openai";
import { keyHashEntry } from "@tollgate/shared";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { system, textOfTokens, user } from "../support/builders.js";
import { apiError } from "../support/api-error.js";
import { startHarness, TEST_POLICY, type Harness } from "../support/harness.js";

const key = (name: string): string => `tg_${name}-limits-test-key-000000000000`;
const specs: Array<[name: string, team: string, limits: Record<string, number>]> = [
  ["rpm3", "eng", { rpm: 3 }],
  ["race", "eng", { rpm: 20 }],
  ["conc", "eng", { concurrent: 2 }],
  ["tpm", "eng", { tpm: 6000 }],
  ["spender", "eng", { dailyUsd: 0.0001 }],
  ["cacher", "eng", {}],
  ["llama1", "capped", {}],
  ["llama2", "capped", {}],
  ["frugal1", "frugal", {}],
  ["frugal2", "frugal", {}],
];
const users = Object.fromEntries(specs.map(([name, team, limits]) => [name, { team, keys: [keyHashEntry(key(name))], limits }]));

const policy = {
  ...TEST_POLICY,
  teams: {
    eng: { models: ["*"] },
    capped: { models: ["*"], modelLimits: { "llama3-3-70b": { rpm: 1 } } },
    frugal: { models: ["*"], limits: { dailyUsd: 0.0001 } },
  },
  users,
};

let h: Harness;
const as = (name: string): OpenAI => h.clientFor(key(name));
beforeAll(async () => {
  h = await startHarness({ policy });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.emulator.reset();
});

describe("requests per minute", () => {
  it("admits rpm requests, then answers 429 naming the limit with the real wait", async () => {
    for (let i = 0; i < 3; i++) {
      const { response } = await as("rpm3").chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")] }).withResponse();
      expect(response.headers.get("x-ratelimit-limit-requests")).toBe("3");
      expect(response.headers.get("x-ratelimit-remaining-requests")).toBe(String(2 - i));
      expect(response.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+s$/);
    }
    const error = await apiError(as("rpm3").chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")] }));
    expect(error.status).toBe(429);
    expect(error.type).toBe("rate_limit_exceeded");
    expect(error.message).toMatch(/^429 user rpm3: 3 requests per minute; retry in \d+ s/);
    const retryAfter = Number(error.headers?.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(h.emulator.calls).toHaveLength(3);
  });

  it("admits exactly rpm of 200 simultaneous requests", async () => {
    h.emulator.setOptions({ firstByteDelayMs: 50 });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () => as("race").chat.completions.create({ model: "claude-sonnet-4", messages: [user("go")] })),
    );
    h.emulator.setOptions({ firstByteDelayMs: 0 });
    const admitted = results.filter((result) => result.status === "fulfilled");
    const limited = results.filter((result) => result.status === "rejected" && (result.reason as APIError).status === 429);
    expect(admitted).toHaveLength(20);
    expect(limited).toHaveLength(180);
    expect(h.emulator.calls).toHaveLength(20);
  });

  it("applies the team's per-model limits to the team as a whole", async () => {
    await as("llama1").chat.completions.create({ model: "llama3-3-70b", messages: [user("hi")] });
    const error = await apiError(as("llama2").chat.completions.create({ model: "llama3-3-70b", messages: [user("hi")] }));
    expect(error.status).toBe(429);
    expect(error.message).toMatch(/^429 team capped, model llama3-3-70b: 1 requests? per minute/);
    // Other models of the same team are not limited by it.
    await as("llama2").chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")] });
  });
});

describe("concurrency", () => {
  it("refuses a request beyond `concurrent` while others are in flight, and frees the slots after", async () => {
    h.emulator.setHandler(() => ({ content: [{ text: "slow answer" }], firstByteDelayMs: 600 }));
    const inFlight = [0, 1].map(() => as("conc").chat.completions.create({ model: "claude-sonnet-4", messages: [user("wait")] }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const error = await apiError(as("conc").chat.completions.create({ model: "claude-sonnet-4", messages: [user("third")] }));
    expect(error.status).toBe(429);
    expect(error.message).toMatch(/user conc: 2 concurrent requests/);
    await Promise.all(inFlight);
    h.emulator.setHandler(undefined);
    await Promise.all([0, 1].map(() => as("conc").chat.completions.create({ model: "claude-sonnet-4", messages: [user("again")] })));
  });

  it("frees the slot of a cancelled stream", async () => {
    h.emulator.setHandler(() => ({ content: [{ text: "a b c d e f" }], chunks: 6, chunkDelayMs: 150 }));
    for (let round = 0; round < 3; round++) {
      const controllers = [new AbortController(), new AbortController()];
      await Promise.all(
        controllers.map(async (controller) => {
          const stream = await as("conc").chat.completions.create({ model: "claude-sonnet-4", messages: [user("x")], stream: true }, { signal: controller.signal });
          for await (const chunk of stream) {
            if (chunk.choices[0]?.delta.content) {
              controller.abort();
              break;
            }
          }
        }),
      );
      await expect.poll(() => h.emulator.calls.filter((call) => call.aborted).length, { timeout: 3000 }).toBe(2 * (round + 1));
    }
    h.emulator.setHandler(undefined);
    // Both slots are free again: two requests at once pass.
    await Promise.all([0, 1].map(() => as("conc").chat.completions.create({ model: "claude-sonnet-4", messages: [user("after")] })));
  });
});

describe("tokens per minute", () => {
  it("counts input (with cached) plus output; refuses when the estimate would pass the limit", async () => {
    // Each request reserves its input estimate + max_tokens; 2,000 max tokens fit twice in 6,000.
    await as("tpm").chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")], max_tokens: 2000 });
    await as("tpm").chat.completions.create({ model: "claude-sonnet-4", messages: [user("hi")], max_tokens: 2000 });
    const error = await apiError(as("tpm").chat.completions.create({ model: "claude-sonnet-4", messages: [user(textOfTokens(5000))], max_tokens: 2000 }));
    expect(error.status).toBe(429);
    expect(error.message).toMatch(/^429 user tpm: 6,000 tokens per minute/);
  });
});

describe("budgets", () => {
  it("stops a user at the daily budget with a status clients don't retry", async () => {
    // Default retries on: the budget answer must not be retried by the client.
    const client = new OpenAI({ baseURL: `${h.broker.url}/v1`, apiKey: key("spender") });
    await client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("spend")] });
    const error = await apiError(client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("more")] }));
    expect(error.status).toBe(402);
    expect(error.type).toBe("budget_exceeded");
    expect(error.headers?.get("x-should-retry")).toBe("false");
    expect(error.message).toMatch(/user spender: daily budget of \$0\.0001 reached \(\$0\.000\d+ spent\); resets \d{4}-\d{2}-\d{2} 00:00/);
    expect(h.emulator.calls).toHaveLength(1);
  });

  it("stops the whole team at the team's budget", async () => {
    await as("frugal1").chat.completions.create({ model: "claude-sonnet-4", messages: [user("spend")] });
    const error = await apiError(as("frugal2").chat.completions.create({ model: "claude-sonnet-4", messages: [user("more")] }));
    expect(error.status).toBe(402);
    expect(error.message).toMatch(/^402 team frugal: daily budget/);
  });

  it("prices cache reads and writes at their own rates in the ledger", async () => {
    const prefix = [system(textOfTokens(3000, "Stable system prompt. ")), user("first question")];
    const first = await as("cacher").chat.completions.create({ model: "claude-sonnet-4", messages: prefix });
    const second = await as("cacher").chat.completions.create({
      model: "claude-sonnet-4",
      messages: [...prefix, { role: "assistant", content: first.choices[0]?.message.content ?? "" }, user("second question")],
    });
    const reported = h.emulator.calls.map((call) => call.usage);
    expect(reported[0]?.cacheWriteInputTokens).toBeGreaterThan(0);
    expect(reported[1]?.cacheReadInputTokens).toBeGreaterThan(0);
    const expectedUsd = (u: (typeof reported)[number]) =>
      ((u?.inputTokens ?? 0) * 3 + (u?.outputTokens ?? 0) * 15 + (u?.cacheReadInputTokens ?? 0) * 0.3 + (u?.cacheWriteInputTokens ?? 0) * 3.75) / 1e6;
    const requests = (await (await h.call("/v1/me/requests?limit=2", { token: key("cacher") })).json()) as { data: Array<{ costUsd: number; cacheReadTokens: number; cacheWriteTokens: number }> };
    const [newest, oldest] = requests.data;
    expect(oldest?.cacheWriteTokens).toBe(reported[0]?.cacheWriteInputTokens);
    expect(newest?.cacheReadTokens).toBe(reported[1]?.cacheReadInputTokens);
    expect(oldest?.costUsd).toBeCloseTo(expectedUsd(reported[0]), 12);
    expect(newest?.costUsd).toBeCloseTo(expectedUsd(reported[1]), 12);
    expect((second.usage as unknown as { cost: number }).cost).toBeCloseTo(expectedUsd(reported[1]), 12);
  });
});
