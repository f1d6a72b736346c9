// The operations kit: the systemd unit is valid and hardened, and install.sh lays out the host as
// docs/operations.md says (run into a temporary root, with systemctl stubbed out; CI runs as root).
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, tempDir, writePolicyFile } from "../support/broker-process.js";
import { TEST_POLICY } from "../support/harness.js";

const UNIT = join(REPO_ROOT, "deploy/tollgate.service");
const INSTALL = join(REPO_ROOT, "deploy/install.sh");

function install(root: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync("bash", [INSTALL, ...args], {
    env: { ...process.env, TOLLGATE_ROOT: root, TOLLGATE_SERVICE_USER: "nobody", TOLLGATE_SYSTEMCTL: "true" },
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("deploy/", () => {
  it("the unit passes systemd-analyze verify and keeps its hardening", () => {
    execFileSync("systemd-analyze", ["verify", "--man=no", UNIT], { encoding: "utf8" });
    const unit = readFileSync(UNIT, "utf8");
    for (const line of ["User=tollgate", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "StateDirectory=tollgate", "CapabilityBoundingSet=", "Restart=on-failure", "KillSignal=SIGTERM"]) {
      expect(unit).toContain(`\n${line}\n`);
    }
  });

  it("install.sh: config dir, policy and a private admin token owned by the service user; a re-run keeps the token", () => {
    const root = tempDir("tollgate-root-");
    const first = install(root, ["--policy", writePolicyFile(TEST_POLICY)]);
    expect(first.code, first.stderr).toBe(0);
    const nobody = Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" }).trim());
    const dir = statSync(join(root, "etc/tollgate"));
    expect(dir.mode & 0o777).toBe(0o750);
    const token = statSync(join(root, "etc/tollgate/admin-token"));
    expect(token.mode & 0o777).toBe(0o600);
    expect(token.uid).toBe(nobody);
    const secret = readFileSync(join(root, "etc/tollgate/admin-token"), "utf8").trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.stdout).not.toContain(secret);
    expect(JSON.parse(readFileSync(join(root, "etc/tollgate/policy.json"), "utf8"))).toEqual(TEST_POLICY);
    const unit = readFileSync(join(root, "etc/systemd/system/tollgate.service"), "utf8");
    expect(unit).toContain(`ExecStart=${process.execPath} ${REPO_ROOT}/broker/bin/tollgate.js serve --policy /etc/tollgate/policy.json`);

    const again = install(root, []);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(join(root, "etc/tollgate/admin-token"), "utf8").trim()).toBe(secret);
  });

  it("install.sh refuses an invalid policy, saying what is wrong, and installs nothing", () => {
    const root = tempDir("tollgate-root-");
    const result = install(root, ["--policy", writePolicyFile({ models: {} , timezone: "Mars/Olympus" })]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/timezone: /);
    expect(() => statSync(join(root, "etc/systemd/system/tollgate.service"))).toThrow();
  });
});
