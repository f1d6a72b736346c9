import { createHash, randomBytes } from "node:crypto";
import { KEY_HASH_PREFIX } from "./access-schema.js";

/*
 * API keys are random bearer tokens shown once to their owner; the policy and everything else keep
 * only their SHA-256. A plain (unsalted) hash is enough because the keys are 256 random bits, not
 * passwords: there is nothing to guess, and the hash doubles as the lookup index.
 */

export const API_KEY_PREFIX = "tg_";

/** A new key: "tg_" + 32 random bytes in base64url (46 characters). */
export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
}

/** Lowercase hex SHA-256 of the key exactly as given (UTF-8): the index of `Policy.userByKeyHash`. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** The key as written in the policy file's `users.X.keys`: "sha256:<hex>". */
export function keyHashEntry(key: string): string {
  return `${KEY_HASH_PREFIX}${hashApiKey(key)}`;
}

/**
 * A key hash short enough for logs, diffs and admin screens: "sha256:9f86d081…". Accepts the hex
 * hash or the "sha256:" entry.
 */
export function abbreviateKeyHash(hash: string): string {
  const hex = hash.startsWith(KEY_HASH_PREFIX) ? hash.slice(KEY_HASH_PREFIX.length) : hash;
  return `${KEY_HASH_PREFIX}${hex.slice(0, 8)}…`;
}
