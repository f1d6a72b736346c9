// The admin CLI covers the policy API (get, versions, rollback) and exports usage as JSON or CSV,
// against a real broker, through the real `tollgate` bin.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { user } from "../support/builders.js";
import { runCli, tempDir, writePolicyFile } from "../support/broker-process.js";
import { startHarness, TEST_ADMIN_TOKEN, TEST_POLICY, type Harness } from "../support/harness.js";

let h: Harness;
let env: Record<string, string>;
beforeAll(async () => {
  h = await startHarness();
  env = { TOLLGATE_URL: h.broker.url, TOLLGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("tollgate policy get | versions | rollback", () => {
  it("lists versions, prints any version's document, and rolls back with a message", async () => {
    const tightened = { ...TEST_POLICY, users: { tester: { ...TEST_POLICY.users.tester, limits: { rpm: 5 } } } };
    const pushed = await runCli(["policy", "push", writePolicyFile(tightened), "--message", "rpm 5 for the tester"], env);
    expect(pushed.code).toBe(0);

    const current = await runCli(["policy", "get"], env);
    expect(current.code).toBe(0);
    expect(JSON.parse(current.stdout)).toEqual(tightened);
    const file = join(tempDir("tollgate-cli-policy-"), "v1.json");
    const first = await runCli(["policy", "get", "1", "--output", file], env);
    expect(first.stderr).toBe(`policy version 1 written to ${file}\n`);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(TEST_POLICY);

    const rolled = await runCli(["policy", "rollback", "1", "-m", "too tight"], env);
    expect(rolled.code).toBe(0);
    expect(rolled.stdout).toMatch(/^policy version 3 \(the content of version 1\) is serving\n/);
    expect(JSON.parse((await runCli(["policy", "get"], env)).stdout)).toEqual(TEST_POLICY);

    const versions = await runCli(["policy", "versions"], env);
    const lines = versions.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^v3 {2}\S+ {2}rollback to v1 {2}by admin at \S+ {2}\(\d+ changes?\) {2}"too tight"$/);
    expect(lines[1]).toMatch(/^v2 {2}\S+ {2}push {2}by admin at \S+ {2}\(1 change\) {2}"rpm 5 for the tester"$/);
    expect(lines[2]).toMatch(/^v1 {2}\S+ {2}seed /);
    const json = JSON.parse((await runCli(["policy", "versions", "--json"], env)).stdout) as Array<{ version: number; changes: string[] }>;
    expect(json.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(json[1]!.changes.join("\n")).toMatch(/tester/);
  });

  it("says in one line what is wrong with a version", async () => {
    const missing = await runCli(["policy", "get", "99"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^tollgate: cannot read the policy \(404\): There is no policy version 99; versions run from 1 to \d+\.\n$/);
    const bad = await runCli(["policy", "rollback", "latest"], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('tollgate: VERSION must be a version number (1, 2, …); got "latest"\n');
  });
});

describe("tollgate usage --json | --csv", () => {
  it("exports the same report as the API, as JSON and as CSV", async () => {
    await h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [user("count me")] });
    const api = (await (await h.call("/admin/usage?groupBy=user&from=2026-01-01", { token: TEST_ADMIN_TOKEN })).json()) as { rows: Array<{ key: string; requests: number; costUsd: number; outputTokens: number }> };
    const json = await runCli(["usage", "--group-by", "user", "--from", "2026-01-01", "--json"], env);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { rows: unknown[] }).rows).toEqual(api.rows);

    const csv = await runCli(["usage", "--group-by", "user", "--from", "2026-01-01", "--csv"], env);
    const [header, ...rows] = csv.stdout.trimEnd().split("\r\n");
    expect(header).toBe("from,to,user,requests,uncached_input_tokens,cache_read_tokens,cache_write_tokens,output_tokens,cost_usd,cache_savings_usd");
    expect(rows).toHaveLength(api.rows.length);
    const tester = rows.find((row) => row.split(",")[2] === "tester")!.split(",");
    const expected = api.rows.find((row) => row.key === "tester")!;
    expect(Number(tester[3])).toBe(expected.requests);
    expect(Number(tester[7])).toBe(expected.outputTokens);
    expect(Number(tester[8])).toBe(expected.costUsd);

    const both = await runCli(["usage", "--json", "--csv"], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/option '--json' cannot be used with option '--csv'/);
  });
});
