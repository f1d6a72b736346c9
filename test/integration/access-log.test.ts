// The access log names every request by its full path, successful or not, without its query string.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, TEST_ADMIN_TOKEN, type Harness } from "../support/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

interface AccessLine {
  msg: string;
  method: string;
  path: string;
  status: number;
}

function accessLines(): AccessLine[] {
  return h.broker
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as AccessLine)
    .filter((line) => line.msg === "request");
}

describe("the access log", () => {
  it("logs the full original path for successes and errors alike, and no query string", async () => {
    await h.client.chat.completions.create({ model: "claude-sonnet-4", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    expect((await h.call("/v1/me")).status).toBe(200);
    expect((await h.call("/admin/policy/versions?secret-looking=abc", { token: TEST_ADMIN_TOKEN })).status).toBe(200);
    expect((await h.call("/v1/chat/completions", { method: "POST", body: "{}" })).status).toBe(400);
    expect((await h.call("/v1/me", { token: "tg_wrong-key-00000000000000000000000" })).status).toBe(401);
    // Lines are written when each response closes: wait for the last.
    const deadline = Date.now() + 2_000;
    while (accessLines().length < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const seen = accessLines().map(({ method, path, status }) => `${method} ${path} ${status}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        "POST /v1/chat/completions 200",
        "GET /v1/me 200",
        "GET /admin/policy/versions 200",
        "POST /v1/chat/completions 400",
        "GET /v1/me 401",
      ]),
    );
    expect(h.broker.output()).not.toMatch(/secret-looking/);
  });
});
