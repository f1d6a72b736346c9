// Runs a Lua script by its SHA (EVALSHA), loading it on first use or after Redis restarted and
// forgot it (NOSCRIPT). Every call has a deadline: a Redis that stops answering must turn into an
// error quickly, so the broker falls back to local limits instead of hanging requests.
import { createHash } from "node:crypto";
import type { RedisClientType } from "@redis/client";
import { LimitStoreUnavailableError } from "./errors.js";

export type RedisReply = string | number | null | RedisReply[];

export class ScriptRunner {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(client: RedisClientType, key: string, args: ReadonlyArray<string | number>, timeoutMs: number): Promise<RedisReply[]> {
    const argv = args.map(String);
    try {
      // A connection being re-established (Redis restarted, a blip) gets a moment before the call fails.
      if (!client.isReady) await withDeadline(readyOrClosed(client), Math.min(timeoutMs, RECONNECT_GRACE_MS));
      return await withDeadline(this.send(client, key, argv), timeoutMs);
    } catch (error) {
      if (error instanceof LimitStoreUnavailableError) throw error;
      // A script error is a bug, not an outage; a connection error is an outage.
      if (isScriptError(error)) throw error;
      throw new LimitStoreUnavailableError(`redis unreachable: ${(error as Error).message}`, { cause: error });
    }
  }

  private async send(client: RedisClientType, key: string, argv: string[]): Promise<RedisReply[]> {
    try {
      return (await client.sendCommand(["EVALSHA", this.sha, "1", key, ...argv])) as RedisReply[];
    } catch (error) {
      if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
      return (await client.sendCommand(["EVAL", this.source, "1", key, ...argv])) as RedisReply[];
    }
  }
}

/** How long a call waits for a reconnecting client before it counts Redis as unreachable. */
const RECONNECT_GRACE_MS = 300;

function readyOrClosed(client: RedisClientType): Promise<void> {
  return new Promise((resolve) => {
    if (client.isReady) return resolve();
    client.once("ready", () => resolve());
  });
}

function isScriptError(error: unknown): boolean {
  const message = String((error as Error | undefined)?.message ?? "");
  return /^ERR (Error running script|user_script)|script:|ERR .*Lua/i.test(message);
}

async function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LimitStoreUnavailableError(`redis did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
