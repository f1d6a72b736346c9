// The CLI contract other tests and admins rely on.
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, runCli, startBrokerProcess, tempDir, writePolicyFile } from "../support/broker-process.js";
import { TEST_POLICY } from "../support/harness.js";

describe("tollgate policy validate", () => {
  it("exits 0 for a valid file", async () => {
    const result = await runCli(["policy", "validate", writePolicyFile(TEST_POLICY)]);
    expect(result.code).toBe(0);
  });

  it("exits 0 for the shipped sample policy", async () => {
    const result = await runCli(["policy", "validate", join(REPO_ROOT, "shared/examples/policy.sample.json")]);
    expect(result.code).toBe(0);
  });

  it("exits 1 with one `json.path: message` line per problem", async () => {
    const file = writePolicyFile({
      models: {
        good: { route: [{ id: "a", modelId: "us.anthropic.claude-sonnet-4-20250514-v1:0", region: "us-east-1" }], contextWindw: 5 },
        mystery: { route: [{ id: "a", modelId: "acme.secret-model-v1:0", region: "us-east-1" }] },
      },
    });
    const result = await runCli(["policy", "validate", file]);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toEqual([
      expect.stringMatching(/^models\.good\.contextWindw: unknown field "contextWindw"/),
      expect.stringMatching(/^models\.mystery\.route\[0\]\.modelId: no built-in price .*add models\.mystery\.pricing$/),
      expect.stringMatching(/^models\.mystery\.contextWindow: is required/),
      expect.stringMatching(/^models\.mystery\.maxOutputTokens: is required/),
    ]);
  });
});

describe("tollgate serve", () => {
  it("refuses a bad policy with a one-line reason", async () => {
    const result = await runCli(["serve", "--policy", writePolicyFile({ models: { x: { route: [] } } }), "--port", "0", "--data-dir", tempDir()]);
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/invalid policy/);
  });

  it("refuses a policy file with a repeated key at start-up and in validate, naming its path", async () => {
    const file = join(tempDir(), "policy.json");
    writeFileSync(file, JSON.stringify(TEST_POLICY, null, 2).replace(/^\{/, '{\n  "timezone": "UTC",').replace(/\}$/, ',\n  "timezone": "Asia/Tokyo"\n}'));
    const serve = await runCli(["serve", "--policy", file, "--port", "0", "--data-dir", tempDir()]);
    expect(serve.code).not.toBe(0);
    expect(serve.stderr).toMatch(/timezone: duplicate key "timezone"/);
    const validate = await runCli(["policy", "validate", file]);
    expect(validate.code).toBe(1);
    expect(validate.stdout).toMatch(/^timezone: duplicate key "timezone" at line \d+, column 3 \(first at line 2, column 3\)/m);
  });

  it("refuses a port in use", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runCli(["serve", "--policy", writePolicyFile(TEST_POLICY), "--port", String(port), "--data-dir", tempDir()]);
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim()).toBe(`tollgate serve: port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it("refuses a bad --max-open-requests with a one-line reason", async () => {
    const result = await runCli(["serve", "--policy", writePolicyFile(TEST_POLICY), "--port", "0", "--data-dir", tempDir(), "--max-open-requests", "0"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toBe('tollgate serve: --max-open-requests must be a positive integer, got "0"');
  });

  it("refuses an unwritable data dir", async () => {
    // A directory below a regular file can't be created, even by root (CI runs as root).
    const blocker = join(tempDir(), "not-a-directory");
    writeFileSync(blocker, "");
    const result = await runCli(["serve", "--policy", writePolicyFile(TEST_POLICY), "--port", "0", "--data-dir", join(blocker, "data")]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/data dir .* is not writable/);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("refuses a data dir another running broker holds, and takes over one a killed broker left", async () => {
    const dataDir = tempDir();
    const policyFile = writePolicyFile(TEST_POLICY);
    const first = await startBrokerProcess({ policyFile, env: process.env, dataDir });
    try {
      const second = await runCli(["serve", "--policy", policyFile, "--port", "0", "--data-dir", dataDir]);
      expect(second.code).not.toBe(0);
      expect(second.stderr.trim()).toBe(`tollgate serve: data dir ${dataDir} is in use by another running broker; each broker needs a --data-dir of its own`);
    } finally {
      await first.stop("SIGKILL");
    }
    // The operating system dropped the killed broker's lock: no stale lock to clear by hand.
    const third = await startBrokerProcess({ policyFile, env: process.env, dataDir });
    expect(third.url).toMatch(/^http:/);
    await third.stop();
  });

  it("listens on 127.0.0.1 by default and prints where", async () => {
    const broker = await startBrokerProcess({ policyFile: writePolicyFile(TEST_POLICY), env: process.env });
    try {
      expect(broker.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(broker.output()).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/m);
    } finally {
      expect(await broker.stop("SIGTERM")).toBe(0);
    }
  });
});
