import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { KEY_HASH_PATTERN } from "./access-schema.js";
import { abbreviateKeyHash, generateApiKey, hashApiKey, keyHashEntry } from "./keys.js";

describe("generateApiKey", () => {
  it('is "tg_" and 32 random bytes in base64url', () => {
    const key = generateApiKey();
    expect(key).toMatch(/^tg_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(3), "base64url")).toHaveLength(32);
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
