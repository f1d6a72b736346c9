// Several real `tollgate serve` processes sharing one PostgreSQL database and one Redis key prefix,
// with one Bedrock emulator, for fleet-mode integration tests.
import { randomBytes } from "node:crypto";
import OpenAI from "openai";
import { createClient } from "@redis/client";
import pg from "pg";
import { createTestDatabase } from "../../broker/src/central/testing.js";
import { startEmulator, type Emulator } from "../emulator/index.js";
import { startBrokerProcess, tempDir, writePolicyFile, type BrokerProcess } from "./broker-process.js";
import { TEST_ADMIN_TOKEN, TEST_KEY, TEST_POLICY } from "./harness.js";

export const MACHINE_REDIS_URL = process.env.TOLLGATE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface FleetBroker {
  name: string;
  process: BrokerProcess;
  client(key?: string): OpenAI;
  call(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
}

export interface Fleet {
  emulator: Emulator;
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  brokers: FleetBroker[];
  /** Starts another broker (or restarts `name` on its data dir after a kill). */
  start(name: string, options?: { dataDir?: string }): Promise<FleetBroker>;
  /** SQL against the fleet's database. */
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Waits until every running broker reports an empty outbox (everything shipped). */
  drained(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface FleetOptions {
  size?: number;
  policy?: unknown;
  /** A database URL of the test's own (e.g. ownPostgres()); default: a new database on the machine's server. */
  databaseUrl?: string;
  redisUrl?: string;
  args?: string[];
}

export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const emulator = await startEmulator();
  const database = options.databaseUrl ? { url: options.databaseUrl, drop: async () => undefined } : await createTestDatabase();
  const redisUrl = options.redisUrl ?? MACHINE_REDIS_URL;
  const prefix = `t-${randomBytes(6).toString("hex")}`;
  const policyFile = writePolicyFile(options.policy ?? TEST_POLICY);
  const env = { ...emulator.envFor(process.env), TOLLGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
  const dataDirs = new Map<string, string>();
  const brokers: FleetBroker[] = [];

  const start = async (name: string, startOptions: { dataDir?: string } = {}): Promise<FleetBroker> => {
    const dataDir = startOptions.dataDir ?? dataDirs.get(name) ?? tempDir(`tollgate-${name}-`);
    dataDirs.set(name, dataDir);
    const child = await startBrokerProcess({
      policyFile,
      env,
      dataDir,
      args: ["--database-url", database.url, "--redis-url", redisUrl, "--redis-key-prefix", prefix, "--instance-id", name, ...(options.args ?? [])],
    });
    const broker: FleetBroker = {
      name,
      process: child,
      client: (key = TEST_KEY) => new OpenAI({ baseURL: `${child.url}/v1`, apiKey: key, maxRetries: 0 }),
      call: (path, init = {}) => {
        const { token = TEST_KEY, headers, ...rest } = init;
        return fetch(`${child.url}${path}`, { ...rest, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(headers as Record<string, string> | undefined) } });
      },
    };
    const existing = brokers.findIndex((b) => b.name === name);
    if (existing >= 0) brokers[existing] = broker;
    else brokers.push(broker);
    return broker;
  };

  // All at once, as a fleet deploy would: migrations and the policy seed must cope.
  await Promise.all(Array.from({ length: options.size ?? 3 }, (_, i) => start(`b${i + 1}`)));
  // In name order, whichever started first: brokers[2] is b3, as the tests that restart it by name expect.
  brokers.sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
  const sql = new pg.Pool({ connectionString: database.url, max: 2 });

  return {
    emulator,
    databaseUrl: database.url,
    redisUrl,
    prefix,
    brokers,
    start,
    async query<T extends pg.QueryResultRow>(text: string, params: unknown[] = []) {
      return (await sql.query<T>(text, params)).rows;
    },
    async drained(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const waiting = await Promise.all(
          brokers
            .filter((b) => b.process.child.exitCode === null && b.process.child.signalCode === null)
            .map(async (b) => ((await (await b.call("/admin/health", { token: TEST_ADMIN_TOKEN })).json()) as { outbox: { waitingRows: number } }).outbox.waitingRows),
        );
        if (waiting.every((n) => n === 0)) return;
        if (Date.now() > deadline) throw new Error(`outboxes not drained: ${waiting.join(", ")} rows waiting`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async close() {
      await Promise.all(brokers.map((b) => b.process.stop("SIGKILL")));
      await sql.end();
      await emulator.close();
      await database.drop().catch(() => undefined);
      const redis = createClient({ url: redisUrl });
      await redis.connect().catch(() => undefined);
      if (redis.isReady) {
        for await (const keys of redis.scanIterator({ MATCH: `{${prefix}}:*`, COUNT: 500 })) if (keys.length > 0) await redis.del(keys);
        await redis.close();
      } else {
        redis.destroy();
      }
    },
  };
}
