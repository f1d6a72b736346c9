// The Redis connection of fleet mode (ElastiCache in production): URL, password file, TLS, and the
// settings that make a dead Redis fail fast instead of queueing every admission behind it.
import { readFileSync } from "node:fs";
import { createClient, type RedisClientType } from "@redis/client";
import type { Logger } from "../log.js";
import { readSecretFile } from "./secret-file.js";

export interface RedisConnectionOptions {
  url: string;
  /** CA bundle for `rediss://` (ElastiCache in-transit encryption uses Amazon's public CAs by default). */
  caFile?: string | undefined;
  logger: Logger;
}

export class RedisConfigError extends Error {
  override readonly name = "RedisConfigError";
}

const CONNECT_TIMEOUT_MS = 2_000;

/** Parses the URL (password inline or `?password_file=`), refusing what can't work, without echoing a password. */
export function redisClientOptions(options: Pick<RedisConnectionOptions, "url" | "caFile">): Parameters<typeof createClient>[0] {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new RedisConfigError("--redis-url is not a URL; expected redis://host:6379 or rediss://host:6379 (TLS)");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new RedisConfigError(`--redis-url must start with redis:// or rediss:// (TLS), not ${url.protocol}//`);
  }
  const passwordFile = url.searchParams.get("password_file");
  url.searchParams.delete("password_file");
  const password = passwordFile ? readSecretFile(passwordFile, "--redis-url password_file") : undefined;
  if (password !== undefined && url.password !== "") throw new RedisConfigError("--redis-url has both a password and a password_file; keep one");
  const tls = url.protocol === "rediss:";
  if (options.caFile && !tls) throw new RedisConfigError("--redis-ca-file needs a rediss:// URL (TLS)");
  return {
    url: url.toString(),
    ...(password !== undefined ? { password } : {}),
    // Commands sent while disconnected fail at once: the limits then fall back to this broker's
    // memory (divided among the brokers) instead of every request waiting for a reconnect.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Keep retrying (the fallback serves meanwhile), at most every 2 s.
      reconnectStrategy: (retries: number) => Math.min(2_000, 50 * 2 ** Math.min(retries, 6)),
      ...(tls ? { tls: true as const, ...(options.caFile ? { ca: readFileSync(options.caFile) } : {}) } : {}),
    },
  };
}

/** Creates and connects the client; a Redis that is down at start-up is not fatal (the fallback serves). */
export async function connectRedis(options: RedisConnectionOptions): Promise<RedisClientType> {
  const client = createClient(redisClientOptions(options)) as RedisClientType;
  let lastLogged = "";
  client.on("error", (error: Error) => {
    // node-redis emits an error per failed reconnect: log each distinct one once.
    if (error.message === lastLogged) return;
    lastLogged = error.message;
    options.logger.warn({ err: error }, "redis connection error");
  });
  client.on("ready", () => {
    lastLogged = "";
  });
  // connect() resolves only once Redis answers (it retries meanwhile): wait a moment, not forever.
  const connected = client.connect().then(
    () => true,
    (error: unknown) => {
      options.logger.warn({ err: error }, "redis connection failed");
      return false;
    },
  );
  const ready = await Promise.race([connected, new Promise<false>((resolve) => setTimeout(() => resolve(false), CONNECT_TIMEOUT_MS).unref())]);
  if (!ready) options.logger.warn("redis unreachable at start-up: serving with local limits until it answers");
  return client;
}
