// One broker per data dir. Two brokers on one dir would share a ledger and an outbox cursor, and a
// fleet would see one instance's rows under two names (or lose a killed one's outbox to the other).
// The lock is SQLite's own: an exclusive transaction held for the process's life on a small file.
// The operating system drops it when the process dies, SIGKILL included, so no stale lock survives.
import Database from "better-sqlite3";
import { join } from "node:path";

export const DATA_DIR_LOCK_FILE = "broker.lock";

export interface DataDirLock {
  release(): void;
}

export class DataDirInUseError extends Error {
  override readonly name = "DataDirInUseError";
}

export function lockDataDir(dir: string): DataDirLock {
  const db = new Database(join(dir, DATA_DIR_LOCK_FILE), { timeout: 0 });
  try {
    db.pragma("locking_mode = EXCLUSIVE");
    // A write takes the file's exclusive lock; in EXCLUSIVE mode it is kept after the commit.
    db.exec("CREATE TABLE IF NOT EXISTS holder (pid INTEGER, since TEXT); DELETE FROM holder;");
    db.prepare("INSERT INTO holder VALUES (?, ?)").run(process.pid, new Date().toISOString());
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === "SQLITE_BUSY") {
      throw new DataDirInUseError(`data dir ${dir} is in use by another running broker; each broker needs a --data-dir of its own`);
    }
    throw error;
  }
  return { release: () => db.close() };
}
