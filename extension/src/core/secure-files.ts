// Files only their owner may read: a 0700 directory and 0600 files written atomically.
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is masked by the umask and does not touch an existing folder.
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Writes `text` to `file` with mode 0600, atomically (temp file + rename), creating the folder 0700. */
export function writePrivateFile(file: string, text: string): void {
  ensurePrivateDir(dirname(file));
  const temp = join(dirname(file), `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(temp, text, { mode: 0o600, flag: "wx" });
    chmodSync(temp, 0o600);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

export type PrivateRead =
  | { kind: "ok"; text: string }
  | { kind: "missing" }
  | { kind: "too-open"; mode: number }
  | { kind: "unreadable"; reason: string };

/** Reads a file that must be private: refuses it when its group or others may read or write it. */
export function readPrivateFile(file: string): PrivateRead {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    return { kind: "unreadable", reason: (error as Error).message };
  }
  if ((mode & 0o077) !== 0) return { kind: "too-open", mode };
  try {
    return { kind: "ok", text: readFileSync(file, "utf8") };
  } catch (error) {
    return { kind: "unreadable", reason: (error as Error).message };
  }
}

export function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}
