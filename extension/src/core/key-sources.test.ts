import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCredentials, resolveDeveloperKey } from "./key-sources.js";
import { tempDir } from "./test-builders.js";

function withCredentials(text: string, mode: number): string {
  const dir = join(tempDir(), "tollgate");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "credentials"), text);
  chmodSync(join(dir, "credentials"), mode);
  return dir;
}

describe("developer key sources", () => {
  it("takes secret storage first, then TOLLGATE_API_KEY, then the credentials file", async () => {
    const dir = withCredentials("tg_from-file\n", 0o600);
    const env = { TOLLGATE_API_KEY: " tg_from-env " };
    expect(await resolveDeveloperKey({ secret: async () => "tg_from-secret", env, configDir: dir })).toMatchObject({ key: "tg_from-secret", source: "secret-storage" });
    expect(await resolveDeveloperKey({ secret: async () => undefined, env, configDir: dir })).toMatchObject({ key: "tg_from-env", source: "environment" });
    expect(await resolveDeveloperKey({ secret: async () => "", env: {}, configDir: dir })).toMatchObject({ key: "tg_from-file", source: "credentials-file", warnings: [] });
  });

  it("refuses a credentials file that group or others can read, saying how to fix it", async () => {
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      const dir = withCredentials("tg_from-file\n", mode);
      const resolved = await resolveDeveloperKey({ secret: async () => undefined, env: {}, configDir: dir });
      expect(resolved.key).toBeUndefined();
      expect(resolved.warnings[0]).toMatch(/other users may read it\. Run: chmod 600 .*credentials/);
      expect(resolved.warnings[0]).not.toContain("tg_from-file");
    }
  });

  it("has no key and no warning when nothing is set", async () => {
    expect(await resolveDeveloperKey({ secret: async () => undefined, env: {}, configDir: join(tempDir(), "none") })).toEqual({ key: undefined, source: undefined, warnings: [] });
  });

  it("reads the key from plain or assignment lines, skipping comments", () => {
    expect(parseCredentials("tg_abc\n")).toBe("tg_abc");
    expect(parseCredentials("# provisioned by admin\n\nTOLLGATE_API_KEY=tg_abc\n")).toBe("tg_abc");
    expect(parseCredentials('export TOLLGATE_API_KEY="tg_abc"')).toBe("tg_abc");
    expect(parseCredentials("api_key = 'tg_abc'")).toBe("tg_abc");
    expect(parseCredentials("OTHER=1\nkey=tg_abc")).toBe("tg_abc");
    expect(parseCredentials("# nothing\n")).toBeUndefined();
  });
});
