// The CLI as an admin meets it: --help on every command, --version, and one clear line for each
// mistake (the process is the real `tollgate` bin).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, runCli, tempDir } from "../support/broker-process.js";
import { startHarness, TEST_ADMIN_TOKEN, type Harness } from "../support/harness.js";

const COMMANDS = [[], ["serve"], ["policy"], ["policy", "validate"], ["policy", "push"], ["policy", "diff"], ["policy", "get"], ["policy", "versions"], ["policy", "rollback"], ["key"], ["key", "create"], ["iam-policy"], ["usage"], ["requests"], ["audit"], ["deployments"]];

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("tollgate --help and --version", () => {
  it("--help works on every command and subcommand", async () => {
    for (const command of COMMANDS) {
      const result = await runCli([...command, "--help"]);
      expect(result.code, command.join(" ")).toBe(0);
      expect(result.stdout).toContain(`Usage: tollgate${command.length ? ` ${command.join(" ")}` : ""}`);
    }
  });

  it("--version prints the package's version", async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, "broker/package.json"), "utf8")) as { version: string };
    const result = await runCli(["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it("a usage mistake exits 2 and says what was wrong", async () => {
    const unknown = await runCli(["nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'nope'/);
    const missing = await runCli(["serve"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--policy <file>' not specified/);
  });
});

describe("tollgate iam-policy", () => {
  it("prints the IAM for a policy file, as sections or as one JSON object", async () => {
    const sample = join(REPO_ROOT, "shared/examples/policy.sample.json");
    const text = await runCli(["iam-policy", "--policy", sample, "--instance-role-arn", "arn:aws:iam::111111111111:role/tollgate"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^# Attach to the broker hosts' instance role \(arn:aws:iam::111111111111:role\/tollgate\):/);
    const json = await runCli(["iam-policy", "--policy", sample, "--json"]);
    const iam = JSON.parse(json.stdout) as { instanceRole: { Statement: Array<{ Resource: string[] }> }; roles: unknown[] };
    expect(iam.instanceRole.Statement[0]!.Resource).toContain("arn:aws:bedrock:us-east-1:*:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    const bad = await runCli(["iam-policy", "--policy", sample, "--account-id", "12"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('tollgate: --account-id must be 12 digits, got "12"');
  });
});

describe("one clear line per mistake", () => {
  const oneLine = (stderr: string): string => {
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    return lines[0]!;
  };

  it("a missing token file, a URL without its scheme, a wrong admin token", async () => {
    const noFile = await runCli(["usage", "--url", h.broker.url, "--admin-token-file", "/nonexistent/token"]);
    expect(noFile.code).toBe(1);
    expect(oneLine(noFile.stderr)).toBe("tollgate: cannot read the admin token file /nonexistent/token: no such file");
    const noScheme = await runCli(["usage", "--url", "127.0.0.1:7800"], { TOLLGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN });
    expect(oneLine(noScheme.stderr)).toBe('tollgate: --url "127.0.0.1:7800" is not a URL; write it with its scheme, e.g. http://127.0.0.1:7800');
    const wrong = await runCli(["usage", "--url", h.broker.url], { TOLLGATE_ADMIN_TOKEN: "not-the-admin-token" });
    expect(wrong.code).toBe(1);
    expect(oneLine(wrong.stderr)).toMatch(/refused the admin token \(401\): The admin token is wrong: it is not the token this broker was started with/);
  });

  it("validate names the file it can't read; push of malformed JSON gives line and column; key create checks the name", async () => {
    const missing = await runCli(["policy", "validate", "/nope.json"]);
    expect(missing.code).toBe(1);
    expect(missing.stdout.trim()).toBe("cannot read /nope.json: no such file");
    const broken = join(tempDir(), "broken.json");
    writeFileSync(broken, '{\n  "models": {\n    "x": oops\n}');
    const push = await runCli(["policy", "push", broken, "--url", h.broker.url], { TOLLGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN });
    expect(push.code).toBe(1);
    expect(push.stdout).toMatch(/^\(root\): invalid JSON at line 3, column 10/m);
    const validate = await runCli(["policy", "validate", broken]);
    expect(validate.stdout).toMatch(/^\(root\): invalid JSON at line 3, column 10/m);
    const badName = await runCli(["key", "create", "--user", "bad name!"]);
    expect(badName.code).toBe(1);
    expect(oneLine(badName.stderr)).toMatch(/^tollgate: --user "bad name!": user name must start with a letter or digit/);
    expect(badName.stdout).toBe("");
    expect((await runCli(["key", "create", "--user", "alice"])).stdout).toMatch(/users\.alice\.keys/);
  });

  it("the policy file is still required to be a real file for serve", async () => {
    const result = await runCli(["serve", "--policy", "/nope.json", "--port", "0", "--data-dir", tempDir()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot read \/nope\.json: no such file/);
  });
});
