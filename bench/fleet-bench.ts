// Embedded vs fleet mode, side by side in one run: the same policy, emulator and load, one broker
// with SQLite + in-memory limits and one with PostgreSQL (ledger shipped from the local outbox) +
// Redis (one Lua script per admission and per settle). What fleet mode adds per request is Redis
// round trips on the hot path; shipping to PostgreSQL runs off it, in batches.
import { randomBytes } from "node:crypto";
import { createClient } from "@redis/client";
import { createTestDatabase } from "../broker/src/central/testing.js";
import { startBrokerProcess, tempDir, writePolicyFile, type BrokerProcess } from "../test/support/broker-process.js";
import { envFor } from "../test/emulator/emulator-env.js";

interface FleetSample {
  latencyMs: number;
  firstByteMs: number;
  /** From the broker's server-timing header (non-stream). */
  admitMs?: number;
  ledgerMs?: number;
}

export interface FleetBenchTarget {
  once(stream: boolean): Promise<FleetSample>;
  close(): Promise<void>;
}

export interface FleetBenchOptions {
  emulatorUrl: string;
  policy: unknown;
  /** Makes a load target for a broker URL (the same HTTP client as the main benchmark). */
  target(url: string): FleetBenchTarget;
  sequential(target: FleetBenchTarget, stream: boolean): Promise<FleetSample[]>;
  load(target: FleetBenchTarget, stream: boolean): Promise<{ perSecond: number }>;
  percentile(values: number[], p: number): number;
  log(line: string): void;
}

const REDIS_URL = process.env.TOLLGATE_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

export async function runFleetBench(options: FleetBenchOptions): Promise<void> {
  const database = await createTestDatabase();
  const prefix = `bench-${randomBytes(4).toString("hex")}`;
  const policyFile = writePolicyFile(options.policy);
  const env = { ...envFor(process.env, options.emulatorUrl), TOLLGATE_LOG_LEVEL: "warn" };
  const brokers: BrokerProcess[] = [];
  try {
    const embedded = await startBrokerProcess({ policyFile, env, dataDir: tempDir("tollgate-bench-embedded-") });
    brokers.push(embedded);
    const fleet = await startBrokerProcess({
      policyFile,
      env,
      dataDir: tempDir("tollgate-bench-fleet-"),
      args: ["--database-url", database.url, "--redis-url", REDIS_URL, "--redis-key-prefix", prefix, "--instance-id", "bench-fleet"],
    });
    brokers.push(fleet);
    const targets = { embedded: options.target(embedded.url), fleet: options.target(fleet.url) };
    const fmt = (value: number, digits = 2): string => value.toFixed(digits);
    const { log, percentile } = options;
    log("");
    log("| embedded vs fleet mode (same run) | embedded (SQLite, memory limits) | fleet (PostgreSQL, Redis) | fleet adds |");
    log("|---|---|---|---|");
    for (const stream of [false, true]) {
      const kind = stream ? "stream, time to first byte" : "non-stream, latency";
      const pick = (s: { latencyMs: number; firstByteMs: number }): number => (stream ? s.firstByteMs : s.latencyMs);
      // Interleaved halves, so drift in machine load falls on both alike.
      const e1 = await options.sequential(targets.embedded, stream);
      const f1 = await options.sequential(targets.fleet, stream);
      const e2 = await options.sequential(targets.embedded, stream);
      const f2 = await options.sequential(targets.fleet, stream);
      const e = [...e1, ...e2].map(pick);
      const f = [...f1, ...f2].map(pick);
      for (const p of [50, 99]) {
        const [a, b] = [percentile(e, p), percentile(f, p)];
        log(`| ${kind}, 1 in flight, p${p} | ${fmt(a)} ms | ${fmt(b)} ms | +${fmt(b - a)} ms |`);
      }
      if (!stream) {
        // Where the difference goes, phase by phase, from the brokers' server-timing headers.
        const phase = (samples: FleetSample[], name: "admitMs" | "ledgerMs"): number[] => samples.flatMap((s) => (s[name] === undefined ? [] : [s[name]]));
        for (const [name, label] of [["admitMs", "admission (limits)"], ["ledgerMs", "settle + ledger commit"]] as const) {
          const [a, b] = [percentile(phase([...e1, ...e2], name), 50), percentile(phase([...f1, ...f2], name), 50)];
          log(`| non-stream, 1 in flight, ${label} p50 | ${fmt(a, 3)} ms | ${fmt(b, 3)} ms | +${fmt(b - a, 3)} ms |`);
        }
      }
      const el = await options.load(targets.embedded, stream);
      const fl = await options.load(targets.fleet, stream);
      log(`| ${stream ? "stream" : "non-stream"}, 50 in flight, throughput | ${fmt(el.perSecond, 0)}/s | ${fmt(fl.perSecond, 0)}/s | ${fmt((fl.perSecond / el.perSecond) * 100, 0)}% |`);
    }
    await targets.embedded.close();
    await targets.fleet.close();
  } finally {
    await Promise.all(brokers.map((broker) => broker.stop()));
    await database.drop().catch(() => undefined);
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    for await (const keys of redis.scanIterator({ MATCH: `{${prefix}}:*`, COUNT: 500 })) if (keys.length > 0) await redis.del(keys);
    await redis.close();
  }
}
