// Write failures: appends are rejected, healthy() turns false with lastError, and the ledger
// recovers on its own once a write succeeds again.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LedgerError } from "./errors.js";
import { openSqliteLedger } from "./sqlite-ledger.js";
import { tempDataDir, usageRecord } from "./testing/records.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const LEDGER_MODULE = fileURLToPath(new URL("./sqlite-ledger.ts", import.meta.url));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe("SqliteLedger write failures", () => {
  it("rejects appends and reports unhealthy while its directory is moved away; recovers when it's back", async () => {
    const tmp = tempDataDir();
    const moved = `${tmp.dir}.moved`;
    cleanups.push(tmp.remove, () => rmSync(moved, { recursive: true, force: true }));
    const health: boolean[] = [];
    const ledger = openSqliteLedger(tmp.dir, { probeIntervalMs: 60_000, onHealthChange: (ok) => health.push(ok) });
    cleanups.push(() => ledger.close());
    const before = usageRecord();
    await ledger.append(before);

    renameSync(tmp.dir, moved);
    const lost = [usageRecord(), usageRecord()];
    const results = await Promise.allSettled(lost.map((r) => ledger.append(r)));
    for (const r of results) {
      expect(r.status).toBe("rejected");
      expect(LedgerError.is((r as PromiseRejectedResult).reason, "write_failed")).toBe(true);
    }
    expect(ledger.healthy()).toBe(false);
    expect(ledger.lastError?.code).toBe("write_failed");
    expect(ledger.lastError?.message).toMatch(/deleted or its directory moved/);
    await expect(ledger.probe()).resolves.toBe(false);

    renameSync(moved, tmp.dir);
    await expect(ledger.probe()).resolves.toBe(true);
    const after = usageRecord();
    await ledger.append(after);
    expect(ledger.recent({}).map((r) => r.id)).toEqual([after.id, before.id]);
    expect(health).toEqual([false, true]);
    expect(ledger.stats()).toMatchObject({ failedTransactions: 1, recordsRejected: 2, recordsWritten: 2 });
  });

  it("rejects appends on a disk I/O error (immutable WAL file) and probes its way back to healthy", async () => {
    const tmp = tempDataDir();
    cleanups.push(tmp.remove);
    const health: Array<[boolean, string | undefined]> = [];
    const ledger = openSqliteLedger(tmp.dir, { probeIntervalMs: 25, onHealthChange: (ok, e) => health.push([ok, e?.sqliteCode]) });
    cleanups.push(() => ledger.close());
    const before = usageRecord();
    await ledger.append(before);

    const wal = join(tmp.dir, "ledger.sqlite-wal");
    try {
      execFileSync("chattr", ["+i", wal], { stdio: "ignore" });
    } catch (error) {
      // No silent skip: this test needs root (CAP_LINUX_IMMUTABLE) and a file system with the
      // immutable flag, which CI and the development hosts have.
      throw new Error(`cannot make the WAL immutable (run the tests as root on ext4/xfs): ${String(error)}`);
    }
    let immutable = true;
    const release = (): void => {
      if (immutable) execFileSync("chattr", ["-i", wal]);
      immutable = false;
    };
    cleanups.push(release);

    const lost = usageRecord();
    const error = await ledger.append(lost).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(LedgerError.is(error, "write_failed")).toBe(true);
    expect((error as LedgerError).sqliteCode).toMatch(/^SQLITE_IOERR/);
    expect(ledger.healthy()).toBe(false);
    await expect(ledger.append(usageRecord())).rejects.toMatchObject({ code: "write_failed" });

    release();
    await vi.waitFor(() => expect(ledger.healthy()).toBe(true), { timeout: 2000, interval: 10 });
    const after = usageRecord();
    await ledger.append(after);
    expect(ledger.recent({}).map((r) => r.id)).toEqual([after.id, before.id]);
    expect(health[0]).toEqual([false, expect.stringMatching(/^SQLITE_IOERR/)]);
    expect(health.at(-1)).toEqual([true, undefined]);
  });

  it("fails to open with open_failed when the data directory is missing", () => {
    const tmp = tempDataDir();
    cleanups.push(tmp.remove);
    expect(() => openSqliteLedger(join(tmp.dir, "nope"))).toThrow(expect.objectContaining({ code: "open_failed" }));
  });

  it("fails to open with open_failed when the broker's user can't write the data directory", () => {
    const tmp = tempDataDir();
    cleanups.push(tmp.remove);
    const dir = join(tmp.dir, "data");
    mkdirSync(dir);
    chmodSync(tmp.dir, 0o755);
    chmodSync(dir, 0o555);
    const code = `import(${JSON.stringify(LEDGER_MODULE)}).then((m) => {
      try { m.openSqliteLedger(${JSON.stringify(dir)}); console.log("opened"); }
      catch (e) { console.log(e.code + " " + e.message); }
    });`;
    // Root ignores directory permissions, so as root run the attempt as "nobody".
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const run = spawnSync(process.execPath, ["--import", "tsx", "-e", code], { cwd: REPO_ROOT, encoding: "utf8", ...asNobody });
    // As "nobody" the checkout itself must be readable (it is under /work on CI and development hosts).
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^open_failed Cannot open the usage ledger .*ledger\.sqlite: .*(EACCES|permission denied)/i);
  });
});
