// Load shedding: past --max-open-requests the broker answers 503 `overloaded` at once (OpenAI's shape,
// retry-after), calls Bedrock for nothing it refused, and takes requests again as soon as slots free,
// whether the open requests finished or their clients went away.
import { afterEach, describe, expect, it } from "vitest";
import { user } from "../support/builders.js";
import { startHarness, type Harness } from "../support/harness.js";

const MAX_OPEN = 3;
const ask = { model: "claude-sonnet-4", messages: [user("Count slowly")] };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function post(harness: Harness, body: object, signal?: AbortSignal): Promise<Response> {
  return harness.call("/v1/chat/completions", { method: "POST", body: JSON.stringify({ ...body }), ...(signal ? { signal } : {}) });
}

describe("load shedding", () => {
  it("refuses requests past --max-open-requests with 503 overloaded, serves the open ones whole, then takes new ones", async () => {
    h = await startHarness({ brokerArgs: ["--max-open-requests", String(MAX_OPEN)] });
    const harness = h;
    // Each stream takes ~1.2 s: long enough to be open while the extra request arrives.
    harness.emulator.setHandler(() => ({ content: [{ text: "one two three four five six" }], chunks: 6, chunkDelayMs: 200 }));
    const open = Array.from({ length: MAX_OPEN }, () => post(harness, { ...ask, stream: true }).then(async (r) => ({ status: r.status, text: await r.text() })));
    await expect.poll(() => harness.emulator.calls.length, { timeout: 10_000 }).toBe(MAX_OPEN);

    const refused = await post(harness, ask);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    const body = (await refused.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(body.error).toMatchObject({ type: "server_error", code: "overloaded" });
    expect(body.error.message).toMatch(/limit of 3 requests in progress.*retry/);
    // Only chat requests count: the developer's usage still answers.
    expect((await harness.call("/v1/me")).status).toBe(200);
    expect(harness.emulator.calls.length).toBe(MAX_OPEN);

    for (const answer of await Promise.all(open)) {
      expect(answer.status).toBe(200);
      expect(answer.text).toContain("[DONE]");
    }
    // The slots freed when those responses closed.
    harness.emulator.setHandler(undefined);
    const after = await Promise.all(Array.from({ length: MAX_OPEN }, () => post(harness, ask)));
    expect(after.map((r) => r.status)).toEqual(Array(MAX_OPEN).fill(200));

    // Refused requests were never admitted, so nothing was recorded for them.
    const requests = (await (await harness.call("/v1/me/requests?limit=50")).json()) as { data: unknown[] };
    expect(requests.data).toHaveLength(MAX_OPEN * 2);
  });

  it("frees a slot when its client goes away mid-stream", async () => {
    h = await startHarness({ brokerArgs: ["--max-open-requests", String(MAX_OPEN)] });
    const harness = h;
    harness.emulator.setHandler(() => ({ content: [{ text: "a b c d e f g h i j" }], chunks: 10, chunkDelayMs: 500 }));
    const controllers = Array.from({ length: MAX_OPEN }, () => new AbortController());
    const responses = await Promise.all(controllers.map((c) => post(harness, { ...ask, stream: true }, c.signal)));
    expect(responses.map((r) => r.status)).toEqual(Array(MAX_OPEN).fill(200));
    expect((await post(harness, ask)).status).toBe(503);

    for (const controller of controllers) controller.abort();
    harness.emulator.setHandler(undefined);
    await expect.poll(async () => (await post(harness, ask)).status, { timeout: 5_000, interval: 100 }).toBe(200);
  });
});
