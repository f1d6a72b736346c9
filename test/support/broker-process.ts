// Starts the real `tollgate serve` (the built CLI) as a child process, the way an admin runs it,
// and waits for its "listening on" line.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
export const TOLLGATE_BIN = join(REPO_ROOT, "broker/bin/tollgate.js");

export interface BrokerProcess {
  url: string;
  child: ChildProcess;
  dataDir: string;
  /** Everything the broker wrote to stdout and stderr so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function tempDir(prefix = "tollgate-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writePolicyFile(policy: unknown, dir = tempDir()): string {
  const file = join(dir, "policy.json");
  writeFileSync(file, JSON.stringify(policy, null, 2));
  return file;
}

export interface StartOptions {
  policyFile: string;
  /** The broker's whole environment (e.g. `emulator.envFor(process.env)`). */
  env: NodeJS.ProcessEnv;
  args?: string[];
  dataDir?: string;
}

/** Node flags for every broker process, e.g. TOLLGATE_BROKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile a benchmark's brokers. */
const BROKER_NODE_ARGS = process.env.TOLLGATE_BROKER_NODE_ARGS?.split(" ").filter(Boolean) ?? [];

export async function startBrokerProcess(options: StartOptions): Promise<BrokerProcess> {
  const dataDir = options.dataDir ?? tempDir("tollgate-data-");
  const child = spawn(process.execPath, [...BROKER_NODE_ARGS, TOLLGATE_BIN, "serve", "--policy", options.policyFile, "--port", "0", "--data-dir", dataDir, ...(options.args ?? [])], {
    env: { TOLLGATE_LOG_LEVEL: "info", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (data: Buffer) => (output += data.toString()));
  child.stderr?.on("data", (data: Buffer) => (output += data.toString()));

  const url = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start within 15 s:\n${output}`)), 15_000);
    const onData = (): void => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        resolvePromise(match[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code} before listening:\n${output}`));
    });
  });

  return {
    url,
    child,
    dataDir,
    output: () => output,
    stop: (signal = "SIGTERM") =>
      new Promise((resolveStop) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolveStop(child.exitCode);
        child.once("exit", (code) => resolveStop(code));
        child.kill(signal);
      }),
  };
}

/** Runs the CLI to completion and returns its exit code and output. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [TOLLGATE_BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
    child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
    child.on("exit", (code) => resolveRun({ code, stdout, stderr }));
  });
}
