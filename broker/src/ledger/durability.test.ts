// A broker killed with SIGKILL must not lose any record whose append() had resolved.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteLedger } from "./sqlite-ledger.js";
import { tempDataDir } from "./testing/records.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CHILD = fileURLToPath(new URL("./testing/durability-child.ts", import.meta.url));

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

/** Runs the child until it has acknowledged `killAfter` ids, SIGKILLs it, returns the ids it printed. */
function runAndKill(dataDir: string, prefix: string, killAfter: number, synchronous: string): Promise<{ acked: string[]; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dataDir, prefix, "32", "1000000"], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const acked: string[] = [];
    let partial = "";
    let stderr = "";
    const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (line !== "ready" && line !== "done") acked.push(line);
      if (acked.length >= killAfter && child.exitCode === null) child.kill("SIGKILL");
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(guard);
      if (signal !== "SIGKILL") reject(new Error(`child exited with ${code ?? signal}: ${stderr}`));
      else resolve({ acked, signal });
    });
  });
}

describe("SqliteLedger durability", () => {
  // NORMAL too: in WAL mode a commit is in the OS's page cache before it is acknowledged, which a
  // killed process can't lose (a power loss can; that's what the FULL default is for).
  it.each(["FULL", "NORMAL"])("keeps every acknowledged record when the writer is SIGKILLed mid-stream (synchronous=%s, 3 rounds)", async (synchronous) => {
    const tmp = tempDataDir();
    cleanups.push(tmp.remove);
    await openSqliteLedger(tmp.dir).close(); // as the broker would: created before the first request
    const allAcked: string[] = [];
    for (const [round, killAfter] of [[1, 3000], [2, 777], [3, 5000]] as const) {
      const { acked } = await runAndKill(tmp.dir, `round${round}`, killAfter, synchronous);
      expect(acked.length).toBeGreaterThanOrEqual(killAfter);
      allAcked.push(...acked);

      // Reopen through the ledger (WAL recovery), then read every id.
      const ledger = openSqliteLedger(tmp.dir);
      const stored = ledger.totals({}, 0).requests;
      await ledger.close();
      const db = new Database(`${tmp.dir}/ledger.sqlite`, { readonly: true });
      try {
        const ids = new Set(db.prepare("SELECT id FROM usage").pluck().all() as string[]);
        const missing = allAcked.filter((id) => !ids.has(id));
        expect(missing, `round ${round}: acknowledged but missing`).toEqual([]);
        expect(ids.size).toBe(stored); // no duplicate ids
        expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      } finally {
        db.close();
      }
    }
    expect(new Set(allAcked).size).toBe(allAcked.length);
  }, 90_000);
});
