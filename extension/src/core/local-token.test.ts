import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadOrCreateLocalToken } from "./local-token.js";
import { writePrivateFile } from "./secure-files.js";
import { tempDir } from "./test-builders.js";

describe("local token", () => {
  it("is made once, kept 0600 in a 0700 folder, and reused", () => {
    const dir = join(tempDir(), "deep", "tollgate");
    const token = loadOrCreateLocalToken(dir);
    expect(token).toMatch(/^tgl_[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dir, "local-token")).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(loadOrCreateLocalToken(dir)).toBe(token);
  });

  it("is replaced when others could read it", () => {
    const dir = tempDir();
    const token = loadOrCreateLocalToken(dir);
    chmodSync(join(dir, "local-token"), 0o644);
    const replaced = loadOrCreateLocalToken(dir);
    expect(replaced).not.toBe(token);
    expect(statSync(join(dir, "local-token")).mode & 0o777).toBe(0o600);
  });

  it("private files are written atomically with 0600 even over a looser file, and tighten a loose folder", () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const file = join(dir, "x.json");
    writeFileSync(file, "old", { mode: 0o644 });
    writePrivateFile(file, "new");
    expect(readFileSync(file, "utf8")).toBe("new");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
});
