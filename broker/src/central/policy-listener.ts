// Hears of new policy versions: LISTEN on a connection of its own (a pooled one could be handed
// back and lose the subscription). NOTIFY is not replayed to a connection that was down, so after
// every (re)connect the latest version is read and reported too.
import pg from "pg";
import { POLICY_CHANNEL } from "./policy-versions.js";

export interface PolicyListener {
  close(): Promise<void>;
}

export interface PolicyListenerOptions {
  config: pg.ClientConfig;
  /** Called with a version number: from a notification, or the latest after each (re)connect. */
  onVersion(version: number): void;
  onError?(error: unknown): void;
  /** Longest wait between reconnect attempts. */
  maxBackoffMs?: number;
}

export async function listenForPolicy(options: PolicyListenerOptions): Promise<PolicyListener> {
  let closed = false;
  let client: pg.Client | undefined;
  let backoffMs = 100;
  let timer: NodeJS.Timeout | undefined;
  const maxBackoffMs = options.maxBackoffMs ?? 2_000;

  const connect = async (): Promise<void> => {
    const next = new pg.Client(options.config);
    next.on("notification", (message) => {
      const version = Number(message.payload);
      if (message.channel === POLICY_CHANNEL && Number.isInteger(version)) options.onVersion(version);
    });
    // A dropped connection (server restart, network) surfaces as an error and/or end: reconnect.
    const lost = (error?: unknown): void => {
      if (client !== next) return;
      client = undefined;
      next.removeAllListeners("end");
      if (error) options.onError?.(error);
      void next.end().catch(() => undefined);
      schedule();
    };
    next.on("error", lost);
    next.on("end", () => lost());
    await next.connect();
    client = next;
    await next.query(`LISTEN ${POLICY_CHANNEL}`);
    const { rows } = await next.query<{ version: number | null }>("SELECT max(version) AS version FROM policy_versions");
    backoffMs = 100;
    if (rows[0]?.version != null) options.onVersion(rows[0].version);
  };

  const schedule = (): void => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      connect().catch((error: unknown) => {
        options.onError?.(error);
        client = undefined;
        backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
        schedule();
      });
    }, backoffMs);
    timer.unref();
  };

  await connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
