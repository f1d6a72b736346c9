// How much of the broker's RSS growth under load is the ledger's SQLite page cache filling up:
// appends soak-like rows to a fresh ledger in this process and prints RSS as the file grows.
//
//   node --import tsx test/soak/ledger-cache-rss.ts [writerCacheMb=4] [rows=600000]
//
// With a 64 MB writer cache (the default until the soak found this) RSS rises with the file until the
// cache is full, then stays flat; with the default 4 MB it is flat after the first rows (docs/reliability.md).
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteLedger } from "../../broker/src/ledger/sqlite-ledger.js";

const cacheMb = Number(process.argv[2] ?? 4);
const rows = Number(process.argv[3] ?? 600_000);
const BATCH = 200;
const REPORT_EVERY = 50_000;
const USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"];

const rssMiB = (): number => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) / 1024;

const dir = mkdtempSync(join(tmpdir(), "tollgate-ledger-rss-"));
const ledger = openSqliteLedger(dir, { writerCacheSizeMb: cacheMb });
const start = rssMiB();
let time = Date.now();
/** Time-ordered ids, as the broker makes them. */
const nextId = (): string => {
  const id = Buffer.alloc(16);
  id.writeUIntBE(time, 0, 6);
  randomBytes(10).copy(id, 6);
  return id.toString("hex");
};
try {
  for (let done = 0; done < rows; done += BATCH) {
    await Promise.all(
      Array.from({ length: BATCH }, (_, i) => {
        time += 1;
        return ledger.append({
          id: nextId(),
          time,
          user: USERS[(done + i) % USERS.length] as string,
          team: "platform",
          project: null,
          requestedModel: "claude-sonnet-4-5",
          servedModel: "claude-haiku-4-5",
          deployment: "usw2",
          status: "ok",
          httpStatus: 200,
          inputTokens: 1_700,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          outputTokens: 40,
          costPicoUsd: 2_000_000_000,
          latencyMs: 90,
          ttftMs: 40,
          fallbacks: 0,
          errorCode: null,
          usageEstimated: false,
        });
      }),
    );
    if ((done + BATCH) % REPORT_EVERY === 0) {
      const file = statSync(join(dir, "ledger.sqlite")).size / 2 ** 20;
      console.log(`cache ${cacheMb} MB: ${done + BATCH} rows, ledger file ${file.toFixed(1)} MiB, RSS ${rssMiB().toFixed(1)} MiB (+${(rssMiB() - start).toFixed(1)})`);
    }
  }
} finally {
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
}
