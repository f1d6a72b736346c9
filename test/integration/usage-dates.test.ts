// A usage query's dates are days in the policy's time zone, as its budgets and day rows are.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/broker-process.js";
import { startHarness, TEST_ADMIN_TOKEN, TEST_POLICY, type Harness } from "../support/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policy: { ...TEST_POLICY, timezone: "Europe/Paris" } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

// Paris in winter is UTC+1 (the test runs in December or not: the offset is read, not assumed).
function parisToday(): { date: string; startIso: string; endIso: string } {
  const date = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris" }).format(new Date());
  const offset = (day: string): string => {
    const name = new Intl.DateTimeFormat("en-US", { timeZone: "Europe/Paris", timeZoneName: "longOffset" }).formatToParts(new Date(`${day}T12:00:00Z`)).find((p) => p.type === "timeZoneName")!.value;
    return name === "GMT" ? "+00:00" : name.slice(3);
  };
  const next = new Date(Date.parse(`${date}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { date, startIso: new Date(`${date}T00:00:00${offset(date)}`).toISOString(), endIso: new Date(`${next}T00:00:00${offset(next)}`).toISOString() };
}

describe("usage dates", () => {
  it("reads a date alone as that whole day in the policy's zone, and refuses a time without an offset", async () => {
    await h.client.chat.completions.create({ model: "claude-sonnet-4", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    const today = parisToday();
    const response = await h.call(`/admin/usage?groupBy=user&from=${today.date}&to=${today.date}`, { token: TEST_ADMIN_TOKEN });
    const usage = (await response.json()) as { from: string; to: string; rows: Array<{ key: string; requests: number }> };
    expect(usage.from).toBe(today.startIso);
    expect(usage.to).toBe(today.endIso);
    expect(usage.rows.find((row) => row.key === "tester")?.requests).toBe(1);

    const noOffset = await h.call("/admin/usage?from=2026-12-01T10:00", { token: TEST_ADMIN_TOKEN });
    expect(noOffset.status).toBe(400);
    expect(((await noOffset.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "invalid_query", message: expect.stringMatching(/has no offset; add Z/) });
    const notADate = await h.call("/admin/usage?from=2026-02-30", { token: TEST_ADMIN_TOKEN });
    expect(((await notADate.json()) as { error: { message: string } }).error.message).toBe("from: 2026-02-30 is not a date.");

    const cli = await runCli(["usage", "--url", h.broker.url, "--group-by", "user", "--from", today.date, "--to", today.date], { TOLLGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`${today.startIso} → ${today.endIso}`);
  });
});
