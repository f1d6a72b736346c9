// The audit names people: each admin credential has a name, and every policy change records it with
// the admin's comment, served by /admin/audit and `tollgate audit`.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../support/broker-process.js";
import { startHarness, TEST_POLICY, type Harness } from "../support/harness.js";

const ALICE = "alice-admin-token-0123456789abcdef";
const BOB = "bob-admin-token-0123456789abcdef00";

let h: Harness;
let dir: string;

beforeAll(async () => {
  dir = tempDir("tollgate-audit-");
  const tokens = join(dir, "admin-tokens");
  writeFileSync(tokens, `# one line per admin\nalice ${ALICE}\nbob ${BOB}\n`, { mode: 0o600 });
  writeFileSync(join(dir, "alice"), `${ALICE}\n`, { mode: 0o600 });
  h = await startHarness({ brokerArgs: ["--admin-token-file", tokens] });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

interface AuditEntry {
  actor: string;
  action: string;
  version: number;
  comment: string | null;
  changes: string[];
  restoredFrom?: number;
}

describe("audit", () => {
  it("records who (the credential's name) pushed and rolled back, with their comments, newest first", async () => {
    const next = { ...TEST_POLICY, users: { ...TEST_POLICY.users, tester: { ...TEST_POLICY.users.tester, limits: { rpm: 10 } } } };
    const pushed = await h.call(`/admin/policy?comment=${encodeURIComponent("rpm cap for the test user")}`, { method: "PUT", token: ALICE, body: JSON.stringify(next) });
    expect(pushed.status).toBe(200);
    const rolled = await h.call("/admin/policy/rollback", { method: "POST", token: BOB, body: JSON.stringify({ version: 1, comment: "too tight" }) });
    expect(rolled.status).toBe(200);
    // The old single-token variable no longer opens the admin API: the file's credentials do.
    expect((await h.call("/admin/audit", { token: "test-admin-token-0123456789abcdef" })).status).toBe(401);

    const { data } = (await (await h.call("/admin/audit", { token: BOB })).json()) as { data: AuditEntry[] };
    expect(data.map((entry) => [entry.version, entry.action, entry.actor.split(" ")[0], entry.comment])).toEqual([
      [3, "policy.rollback", "bob", "too tight"],
      [2, "policy.push", "alice", "rpm cap for the test user"],
      [1, "policy.seed", "policy", null],
    ]);
    expect(data[0]!.restoredFrom).toBe(1);
    expect(data[1]!.actor).toMatch(/^alice at (::ffff:)?127\.0\.0\.1$/);
    expect(data[1]!.changes.join("\n")).toMatch(/tester/);
  });

  it("`tollgate audit` prints the same, and --json gives the entries", async () => {
    const env = { TOLLGATE_URL: h.broker.url };
    const table = await runCli(["audit", "--admin-token-file", join(dir, "alice")], env);
    expect(table.stderr).toBe("");
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^v3 {2}\S+ {2}policy\.rollback \(restores v1\) {2}by bob at /m);
    expect(table.stdout).toContain('  "rpm cap for the test user"');
    const json = await runCli(["audit", "--json", "--limit", "1", "--admin-token-file", join(dir, "alice")], env);
    expect((JSON.parse(json.stdout) as AuditEntry[]).map((entry) => entry.version)).toEqual([3]);
  });
});
