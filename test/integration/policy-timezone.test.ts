// A policy push that changes `timezone` moves the budgets' days and months at once: spend is re-read
// from the ledger for the new zone's periods, and refusals name the new zone's reset time.
import { keyHashEntry } from "@tollgate/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { user } from "../support/builders.js";
import { startHarness, TEST_ADMIN_TOKEN, TEST_KEY, TEST_POLICY, type Harness } from "../support/harness.js";

// Well below what one emulator answer costs: one request spends it.
const policy = { ...TEST_POLICY, users: { tester: { team: "eng", keys: [keyHashEntry(TEST_KEY)], limits: { dailyUsd: 0.000001 } } } };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policy });
});
afterAll(async () => {
  await h?.close();
});

async function ask(): Promise<{ status: number; message: string }> {
  const response = await h.call("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: "claude-sonnet-4", messages: [user("Hi")] }) });
  const body = (await response.json()) as { error?: { message: string } };
  return { status: response.status, message: body.error?.message ?? "" };
}

describe("a push that changes the policy's time zone", () => {
  it("keeps the day's spend (re-read from the ledger) and resets at midnight in the new zone, without a restart", async () => {
    expect((await ask()).status).toBe(200);
    const spent = await ask();
    expect(spent.status).toBe(402);
    expect(spent.message).toMatch(/resets \d{4}-\d\d-\d\d 00:00 UTC/);

    const pushed = await h.call("/admin/policy", { method: "PUT", token: TEST_ADMIN_TOKEN, body: JSON.stringify({ ...policy, timezone: "America/Los_Angeles" }) });
    expect(pushed.status).toBe(200);
    await expect.poll(() => h.broker.output(), { timeout: 5_000 }).toMatch(/budgets moved to the policy's new time zone/);

    const after = await ask();
    expect(after.status).toBe(402);
    expect(after.message).toMatch(/resets \d{4}-\d\d-\d\d 00:00 P[SD]T/);
  });
});
