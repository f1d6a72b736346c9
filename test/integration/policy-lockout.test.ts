// A policy can be valid and still let no one in. validate warns, serve warns, push refuses it
// unless forced: an admin never locks the whole org out by accident.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startBrokerProcess, writePolicyFile } from "../support/broker-process.js";
import { startHarness, TEST_ADMIN_TOKEN, TEST_POLICY, type Harness } from "../support/harness.js";

const nobody = { ...TEST_POLICY, users: {} };
const revoked = { ...TEST_POLICY, users: { tester: { ...TEST_POLICY.users.tester, disabled: true } } };

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("a policy that locks everyone out", () => {
  it("validate passes it with a warning", async () => {
    const result = await runCli(["policy", "validate", writePolicyFile(nobody)]);
    expect(result.code).toBe(0);
    expect(result.stderr.trim()).toBe("warning: users: the policy has no users, so every request will be refused (401 invalid_api_key)");
    const clean = await runCli(["policy", "validate", writePolicyFile(TEST_POLICY)]);
    expect(clean.stderr).toBe("");
  });

  it("serve starts with it, and says so", async () => {
    const broker = await startBrokerProcess({ policyFile: writePolicyFile(nobody), env: process.env });
    try {
      expect(broker.output()).toMatch(/tollgate serve: warning: users: the policy has no users, so every request will be refused/);
    } finally {
      await broker.stop();
    }
  });

  it("push refuses it (the old version keeps serving) until forced", async () => {
    const env = { TOLLGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
    const refused = await runCli(["policy", "push", writePolicyFile(revoked), "--url", h.broker.url], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^users: no user has a key that isn't revoked, so every request will be refused \(401 invalid_api_key\); push with --force/m);
    const api = await h.call("/admin/policy", { method: "PUT", token: TEST_ADMIN_TOKEN, body: JSON.stringify(nobody) });
    expect(api.status).toBe(400);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("policy_locks_everyone_out");
    expect((await h.client.models.list()).data.length).toBeGreaterThan(0);

    const forced = await runCli(["policy", "push", writePolicyFile(revoked), "--url", h.broker.url, "--force"], env);
    expect(forced.code).toBe(0);
    expect((await h.call("/v1/models")).status).toBe(401);
  });
});
