// `npm run demo` (the README's first command, after its build): it answers a first request, prints a
// key that works, and leaves nothing behind in the temp dir when stopped.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/broker-process.js";

describe("the demo", () => {
  it("serves, prints a working key, and removes its temp dir on Ctrl-C", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "test/demo/run-demo.ts")], {
      cwd: REPO_ROOT,
      env: { ...process.env, TOLLGATE_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 30_000;
    while (!output.includes("Press Ctrl-C to stop.")) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the demo did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const url = /Tollgate broker: (http:\/\/\S+)/.exec(output)?.[1];
    const key = /Demo user's key: (\S+)/.exec(output)?.[1];
    const policyFile = /^Policy: (\S+)/m.exec(output)?.[1];
    expect(output).toMatch(/First answer: ".+"/);
    const me = await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${key}` } });
    expect(me.status).toBe(200);
    const dir = dirname(policyFile!);
    expect(existsSync(dir)).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});
