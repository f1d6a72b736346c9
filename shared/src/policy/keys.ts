import { createHash, randomBytes } from "node:crypto";
import { KEY_HASH_PREFIX } from "./access-schema.js";

/*
 * API keys are random bearer tokens shown once to their owner; the policy and everything else keep
 * only their SHA-256. A plain (unsalted) hash is enough because the keys are 256 random bits, not
 * passwords: there is nothing to guess, and the hash doubles as the lookup index.
 */

export const API_KEY_PREFIX = "tg_";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_CHARS = 40; // 40 × log2(62) ≈ 238 random bits
const CHECKSUM_CHARS = 6;
/** The current format: "tg_", 40 random base62 characters, a 6-character checksum of them. */
const CHECKSUMMED_KEY = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${RANDOM_CHARS + CHECKSUM_CHARS}}$`);

/** 6 base62 digits of the first 32 bits of the random part's SHA-256. */
function checksumOf(random: string): string {
  let n = createHash("sha256").update(random, "utf8").digest().readUInt32BE(0);
  let out = "";
  for (let i = 0; i < CHECKSUM_CHARS; i++) {
    out = BASE62[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/**
 * A new key: "tg_" + 40 random base62 characters + a 6-character checksum (49 characters), as GitHub's
 * tokens carry one: secret scanners can tell a real key from look-alike text, and a mistyped key is
 * told so without a look-up. Base62 only, so a double-click selects all of it.
 */
export function generateApiKey(): string {
  let random = "";
  while (random.length < RANDOM_CHARS) {
    // Bytes ≥ 248 are dropped so that every character is equally likely (248 = 4 × 62).
    for (const byte of randomBytes(64)) if (byte < 248 && random.length < RANDOM_CHARS) random += BASE62[byte % 62];
  }
  return `${API_KEY_PREFIX}${random}${checksumOf(random)}`;
}

/**
 * "mistyped" for a key in the current format whose checksum does not match (a character changed);
 * "ok" for every other key, of any format: older keys have no checksum and are only looked up.
 */
export function keyChecksum(key: string): "ok" | "mistyped" {
  if (!CHECKSUMMED_KEY.test(key)) return "ok";
  const body = key.slice(API_KEY_PREFIX.length);
  return checksumOf(body.slice(0, RANDOM_CHARS)) === body.slice(RANDOM_CHARS) ? "ok" : "mistyped";
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
