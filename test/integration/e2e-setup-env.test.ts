// The e2e installer runs under `npm test`, and npm leaves its own Node and settings in the
// environment. The installer's inner npm must not see them (code-server's install then ran under
// Node 20 and refused). Checked under a real `npm run`, with a stand-in `node` first on PATH.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, tempDir } from "../support/broker-process.js";

const CLEAN_ENV = join(REPO_ROOT, "test/e2e/clean-env.sh");

/** Runs `command` (bash) as an npm script, as `npm test` runs the installer; returns what `node` printed. */
function underNpmRun(command: string): { env: Record<string, string>; node: string } {
  const dir = tempDir("tollgate-npm-env-");
  const bin = join(dir, "bin");
  mkdirSync(bin);
  // A stand-in for Node 24: says who it is and what environment it got.
  writeFileSync(join(bin, "node"), "#!/bin/sh\necho stand-in-node\nenv\n");
  chmodSync(join(bin, "node"), 0o755);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "env-probe", private: true, scripts: { probe: `bash -c '${command}'` } }));
  const out = execFileSync("npm", ["run", "--silent", "probe"], { cwd: dir, env: { ...process.env, PROBE_BIN: bin, CLEAN_ENV }, encoding: "utf8" });
  const [node, ...lines] = out.trim().split("\n");
  const env = Object.fromEntries(lines.filter((line) => line.includes("=")).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
  return { env, node: node ?? "" };
}

describe("the e2e installer's environment under npm", () => {
  it("without cleaning, npm's Node and settings reach the inner command (the hazard)", () => {
    const { env } = underNpmRun('PATH="$PROBE_BIN:$PATH" node');
    expect(Object.keys(env).some((name) => name.startsWith("npm_"))).toBe(true);
  });

  it("clean_env gives the inner command the chosen Node first and none of npm's variables", () => {
    const { env, node } = underNpmRun('source "$CLEAN_ENV"; clean_env "$PROBE_BIN" npm_config_nodedir=/opt/node24 node');
    expect(node).toBe("stand-in-node");
    expect(env.PATH?.split(":")[0]).toMatch(/\/bin$/);
    expect(env.PATH).not.toMatch(/node_modules/);
    const leaked = Object.keys(env).filter((name) => (name.startsWith("npm_") && name !== "npm_config_nodedir") || name === "NODE" || name === "INIT_CWD");
    expect(leaked).toEqual([]);
    expect(env.npm_config_nodedir).toBe("/opt/node24");
    expect(env.HOME).toBe(process.env.HOME);
  });
});
