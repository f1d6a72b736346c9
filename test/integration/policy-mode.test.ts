// The --policy file at a restart: by default stored versions win and the broker says which it serves
// and why; with --policy-mode file (policy kept in git) an edited file is stored and served.
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { startBrokerProcess, tempDir, writePolicyFile } from "../support/broker-process.js";
import { TEST_ADMIN_TOKEN, TEST_POLICY } from "../support/harness.js";

const env = { ...process.env, TOLLGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
const edited = { ...TEST_POLICY, timezone: "Europe/Paris" };

async function versions(url: string): Promise<Array<{ version: number; kind: string; by: string; comment?: string; changes: string[] }>> {
  const response = await fetch(`${url}/admin/policy/versions`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  return ((await response.json()) as { data: Array<{ version: number; kind: string; by: string; comment?: string; changes: string[] }> }).data;
}

describe("--policy-mode", () => {
  it("seed (default): an edited file is not served, and the broker says what it serves, that it was the seed, and how to serve the file", async () => {
    const dataDir = tempDir();
    const policyFile = writePolicyFile(TEST_POLICY);
    const first = await startBrokerProcess({ policyFile, env, dataDir });
    await first.stop();
    writeFileSync(policyFile, JSON.stringify(edited));
    const second = await startBrokerProcess({ policyFile, env, dataDir });
    try {
      expect(second.output()).toMatch(/serving stored policy version 1 \(the seed from an earlier --policy file, .*\), not the --policy file, which differs.*--policy-mode file/);
      expect(second.output()).not.toMatch(/pushed later/);
      expect((await versions(second.url)).map((v) => v.kind)).toEqual(["seed"]);
    } finally {
      await second.stop();
    }
  });

  it("file: an edited file becomes the next version, with its diff and who, and is served; an unchanged one adds nothing", async () => {
    const dataDir = tempDir();
    const policyFile = writePolicyFile(TEST_POLICY);
    const args = ["--policy-mode", "file"];
    const first = await startBrokerProcess({ policyFile, env, dataDir, args });
    await first.stop();
    writeFileSync(policyFile, JSON.stringify(edited));
    const second = await startBrokerProcess({ policyFile, env, dataDir, args });
    try {
      expect(second.output()).toMatch(/serving the --policy file as policy version 2 \(--policy-mode file; it replaced version 1\)/);
      const stored = await versions(second.url);
      expect(stored.map((v) => v.kind)).toEqual(["seed", "push"]);
      expect(stored[1]).toMatchObject({ by: "policy file (--policy-mode file)", comment: "served from the --policy file at start-up" });
      expect(stored[1]!.changes.join("\n")).toMatch(/timezone/);
    } finally {
      await second.stop();
    }
    const third = await startBrokerProcess({ policyFile, env, dataDir, args });
    try {
      expect((await versions(third.url)).map((v) => v.version)).toEqual([1, 2]);
    } finally {
      await third.stop();
    }
  });
});
