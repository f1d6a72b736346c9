import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { KEY_HASH_PATTERN } from "./access-schema.js";
import { abbreviateKeyHash, generateApiKey, hashApiKey, keyChecksum, keyHashEntry } from "./keys.js";

describe("generateApiKey", () => {
  it('is "tg_", 40 random base62 characters and a 6-character checksum that keyChecksum accepts', () => {
    const key = generateApiKey();
    expect(key).toMatch(/^tg_[0-9A-Za-z]{46}$/);
    expect(keyChecksum(key)).toBe("ok");
  });

  it("a changed character is told apart by the checksum alone; keys of the earlier format are left to the look-up", () => {
    const key = generateApiKey();
    let caught = 0;
    for (let i = 3; i < key.length; i++) {
      const typo = key.slice(0, i) + (key[i] === "a" ? "b" : "a") + key.slice(i + 1);
      if (keyChecksum(typo) === "mistyped") caught++;
    }
    // Every single-character change of the random part or the checksum (a 32-bit check: a miss is one in four billion).
    expect(caught).toBe(key.length - 3);
    expect(keyChecksum("tg_test-key-for-integration-tests-0001")).toBe("ok");
    expect(keyChecksum(`tg_${"A".repeat(43)}`)).toBe("ok");
  });

  it("draws every base62 character about equally often", () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) for (const c of generateApiKey().slice(3, 43)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    const expected = (2000 * 40) / 62;
    for (const count of counts.values()) expect(Math.abs(count - expected) / expected).toBeLessThan(0.2);
  });

  it("never repeats", () => {
    const keys = new Set(Array.from({ length: 1000 }, generateApiKey));
    expect(keys.size).toBe(1000);
  });
});

describe("hashApiKey and keyHashEntry", () => {
  it("is the lowercase hex SHA-256 of the key's UTF-8", () => {
    expect(hashApiKey("test")).toBe("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    expect(hashApiKey("tg_é")).toBe(createHash("sha256").update(Buffer.from("tg_é", "utf8")).digest("hex"));
  });

  it("hashes exactly what it is given", () => {
    expect(hashApiKey("tg_a ")).not.toBe(hashApiKey("tg_a"));
  });

  it('writes the policy entry as "sha256:<hex>", which the schema accepts', () => {
    const key = generateApiKey();
    const entry = keyHashEntry(key);
    expect(entry).toBe(`sha256:${hashApiKey(key)}`);
    expect(entry).toMatch(KEY_HASH_PATTERN);
    expect(entry).not.toContain(key.slice(3));
  });
});

describe("abbreviateKeyHash", () => {
  it("keeps the first 8 hex digits, from the hex or the entry", () => {
    const hex = hashApiKey("test");
    expect(abbreviateKeyHash(hex)).toBe("sha256:9f86d081…");
    expect(abbreviateKeyHash(`sha256:${hex}`)).toBe("sha256:9f86d081…");
  });
});
