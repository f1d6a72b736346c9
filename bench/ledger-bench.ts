// Usage-ledger benchmark: `node --import tsx bench/ledger-bench.ts [--quick] [--dir DIR]`.
//
// 1. Fills a ledger with 1,000,000 rows (200,000 with --quick) over 30 days: 500 users in 20 teams,
//    ~100 active in any hour, random request ids like the broker's (so the primary-key index takes
//    random inserts; `--ids ordered` uses time-ordered ids instead).
// 2. Times the read queries on it.
// 3. Appends to that same file with synchronous=NORMAL and =FULL: closed loops (N writers, each
//    awaiting its append before the next) and an open loop at a fixed 20,000 records/s. Prints
//    records/s, append→durable latency p50/p99/max, commits, mean batch, writer-thread commit time,
//    and the main thread's event-loop delay p99/max while it ran (commits run on the writer thread).
// The data lives in a temp directory on the disk under test (default: the OS temp dir), removed at the end.
// Flags: --quick (200k rows, 1.5 s loads), --dir DIR, --ids ordered, and writer tuning
// --max-batch N, --checkpoint-pages N, --cache-mb N (reader), --writer-cache-mb N. Figures and the choices they led to are at the
// top of broker/src/ledger/sqlite-ledger.ts.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { openSqliteLedger, type FlushEvent, type SqliteLedger, type SqliteLedgerOptions } from "../broker/src/ledger/sqlite-ledger.js";
import type { UsageRecord } from "../broker/src/ledger/types.js";

const quick = process.argv.includes("--quick");
const baseDir = process.argv.includes("--dir") ? process.argv[process.argv.indexOf("--dir") + 1]! : tmpdir();
const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
/** --ids ordered: time-ordered request ids (ms timestamp prefix) instead of the broker's random ones. */
const orderedIds = flag("--ids") === "ordered";
/** Writer tuning under test (defaults: the ledger's). */
const tuning: SqliteLedgerOptions = {
  ...(flag("--max-batch") !== undefined ? { maxBatch: Number(flag("--max-batch")) } : {}),
  ...(flag("--checkpoint-pages") !== undefined ? { walAutocheckpointPages: Number(flag("--checkpoint-pages")) } : {}),
  ...(flag("--cache-mb") !== undefined ? { cacheSizeMb: Number(flag("--cache-mb")) } : {}),
  ...(flag("--writer-cache-mb") !== undefined ? { writerCacheSizeMb: Number(flag("--writer-cache-mb")) } : {}),
};
const LOOP_MS = quick ? 1500 : 5000;
const QUERY_ROWS = quick ? 200_000 : 1_000_000;
const DAY = 86_400_000;

let sequence = 0;
const MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1", "nova-pro", "llama-4"];
const USERS = 500;
const TEAMS = 20;

/** xorshift32: deterministic attributes without a dependency. */
let seed = 2463534242;
function random(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}

/**
 * A request at `time`. Like an org: in any hour about 100 of the 500 users are active; each user is
 * in one team, works mostly in one project (or none) and mostly with one model, else a second one.
 */
function record(time: number): UsageRecord {
  const n = sequence++;
  const hour = Math.floor(time / 3_600_000);
  const user = ((hour * 37) % USERS + random(100)) % USERS;
  const model = MODELS[(user + (random(10) < 8 ? 0 : 1)) % MODELS.length]!;
  const failed = random(50) === 0;
  return {
    id: orderedIds ? `${time.toString(36).padStart(9, "0")}${randomBytes(6).toString("base64url")}` : randomBytes(12).toString("base64url"), // random: as the broker's newRequestId()
    time,
    user: `user${user}@example.com`,
    team: `team${user % TEAMS}`,
    project: user % 10 === 0 ? null : `project${(user + (random(10) < 9 ? 0 : 1)) % 50}`,
    requestedModel: model,
    servedModel: `us.anthropic.${model}-v1:0`,
    deployment: "us-east-1",
    status: failed ? "error" : "ok",
    httpStatus: failed ? 502 : 200,
    inputTokens: 1000 + random(977),
    cacheReadTokens: 20_000 + random(5003),
    cacheWriteTokens: random(7) === 0 ? 1500 : 0,
    outputTokens: 200 + random(811),
    costPicoUsd: 10_000_000_000 + random(1_000_003) * 13,
    latencyMs: 1500 + random(3000),
    ttftMs: 400 + random(600),
    fallbacks: random(100) === 0 ? 1 : 0,
    errorCode: failed ? "upstream_unavailable" : null,
  };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function ms(x: number): string {
  return x < 10 ? x.toFixed(2) : x.toFixed(1);
}

interface LoadResult {
  label: string;
  records: number;
  seconds: number;
  latencies: number[];
  flushes: FlushEvent[];
  loopDelay: { p99: number; max: number };
}

function report(r: LoadResult): string {
  const lat = [...r.latencies].sort((a, b) => a - b);
  const commit = r.flushes.map((f) => f.commitMs).sort((a, b) => a - b);
  const rate = r.records / r.seconds;
  return (
    `| ${r.label} | ${Math.round(rate).toLocaleString("en-US")} | ${ms(quantile(lat, 0.5))} / ${ms(quantile(lat, 0.99))} / ${ms(lat.at(-1) ?? Number.NaN)} ` +
    `| ${r.flushes.length.toLocaleString("en-US")} | ${(r.records / Math.max(1, r.flushes.length)).toFixed(1)} ` +
    `| ${ms(quantile(commit, 0.5))} / ${ms(quantile(commit, 0.99))} / ${ms(commit.at(-1) ?? Number.NaN)} ` +
    `| ${ms(r.loopDelay.p99)} / ${ms(r.loopDelay.max)} |`
  );
}

async function withLedger<T>(dir: string, options: SqliteLedgerOptions, fn: (ledger: SqliteLedger, flushes: FlushEvent[]) => Promise<T>): Promise<T> {
  const flushes: FlushEvent[] = [];
  const ledger = openSqliteLedger(dir, { ...tuning, ...options, onFlush: (e) => flushes.push(e) });
  try {
    return await fn(ledger, flushes);
  } finally {
    await ledger.close();
  }
}

async function measured(
  ledger: SqliteLedger,
  flushes: FlushEvent[],
  label: string,
  drive: (latencies: number[]) => Promise<number>,
): Promise<LoadResult> {
  // Warm up (statement, page cache, WAL), then measure.
  await Promise.all(Array.from({ length: 2000 }, () => ledger.append(record(Date.now()))));
  flushes.length = 0;
  const latencies: number[] = [];
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const start = performance.now();
  const records = await drive(latencies);
  const seconds = (performance.now() - start) / 1000;
  histogram.disable();
  const loopDelay = { p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 };
  return { label, records, seconds, latencies, flushes: [...flushes], loopDelay };
}

/** `writers` concurrent loops, each appending and awaiting, for LOOP_MS. */
function closedLoop(ledger: SqliteLedger, flushes: FlushEvent[], label: string, writers: number): Promise<LoadResult> {
  return measured(ledger, flushes, `${label}, ${writers} writer${writers > 1 ? "s" : ""}`, async (latencies) => {
    const deadline = performance.now() + LOOP_MS;
    let records = 0;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await ledger.append(record(Date.now()));
        latencies.push(performance.now() - t);
        records++;
      }
    };
    await Promise.all(Array.from({ length: writers }, worker));
    return records;
  });
}

/** Appends arriving at a fixed rate (as from many concurrent requests), not waiting for each other. */
function openLoop(ledger: SqliteLedger, flushes: FlushEvent[], label: string, perSecond: number): Promise<LoadResult> {
  return measured(ledger, flushes, `${label}, open loop ${perSecond.toLocaleString("en-US")}/s`, async (latencies) => {
    const pending: Promise<void>[] = [];
    const start = performance.now();
    const total = Math.floor((LOOP_MS / 1000) * perSecond);
    let issued = 0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * perSecond));
        for (; issued < due; issued++) {
          const t = performance.now();
          pending.push(ledger.append(record(Date.now())).then(() => void latencies.push(performance.now() - t)));
        }
        if (issued >= total) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
    await Promise.all(pending);
    return issued;
  });
}

function time<T>(fn: () => T, runs = 5): { ms: number; result: T } {
  let result = fn(); // warm
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    result = fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[Math.floor(samples.length / 2)]!, result };
}

const NOW = Date.UTC(2026, 10, 23, 12);
const FROM = NOW - 30 * DAY;

async function fill(dir: string): Promise<string> {
  return withLedger(dir, { synchronous: "NORMAL" }, async (ledger) => {
    const t0 = performance.now();
    const chunk = 20_000;
    for (let i = 0; i < QUERY_ROWS; i += chunk) {
      const batch: Promise<void>[] = [];
      for (let j = i; j < Math.min(QUERY_ROWS, i + chunk); j++) batch.push(ledger.append(record(FROM + Math.floor((j / QUERY_ROWS) * 30 * DAY))));
      await Promise.all(batch);
    }
    const seconds = (performance.now() - t0) / 1000;
    const { transactions, largestBatch } = ledger.stats();
    return (
      `Filled ${QUERY_ROWS.toLocaleString("en-US")} rows (30 days, ${USERS} users of whom ~100 active per hour, ${TEAMS} teams) in ${seconds.toFixed(1)} s: ` +
      `${Math.round(QUERY_ROWS / seconds).toLocaleString("en-US")} records/s, synchronous=NORMAL, ${transactions} commits of up to ${largestBatch}.`
    );
  });
}

async function queries(dir: string): Promise<string[]> {
  return withLedger(dir, {}, async (ledger) => {
    const size = statSync(ledger.path).size;
    const lines = [`Queries on ${QUERY_ROWS.toLocaleString("en-US")} rows (file ${(size / 1e6).toFixed(0)} MB); median of 5 runs, main thread:`, "", "| query | rows out | ms |", "| --- | --- | --- |"];
    const row = (label: string, fn: () => unknown): void => {
      const { ms: took, result } = time(fn);
      const count = Array.isArray(result) ? result.length : result instanceof Object && "users" in result ? (result as { users: Map<string, number> }).users.size : 1;
      lines.push(`| ${label} | ${count.toLocaleString("en-US")} | ${ms(took)} |`);
    };
    const user = "user17@example.com";
    const team = "team3";
    row("totals({user}, 30 days)", () => ledger.totals({ user }, FROM));
    row("totals({team, model}, 30 days)", () => ledger.totals({ team, model: "us.anthropic.claude-haiku-4-5-v1:0" }, FROM));
    row("totals({}, last hour)", () => ledger.totals({}, NOW - 3_600_000));
    row("recentActivity(last 5 min)", () => ledger.recentActivity(NOW - 300_000));
    row("recent({user}) (limit 50)", () => ledger.recent({ user }));
    row("recent({limit: 1000})", () => ledger.recent({ limit: 1000 }));
    row("usage(day, user, 30 days, America/Los_Angeles)", () => ledger.usage({ from: FROM, to: NOW, groupBy: "day", user, timezone: "America/Los_Angeles" }));
    row("usage(day, team, 30 days, America/Los_Angeles)", () => ledger.usage({ from: FROM, to: NOW, groupBy: "day", team, timezone: "America/Los_Angeles" }));
    row("usage(model, team, 30 days)", () => ledger.usage({ from: FROM, to: NOW, groupBy: "model", team, timezone: "UTC" }));
    row("usage(user, whole org, 1 day)", () => ledger.usage({ from: NOW - DAY, to: NOW, groupBy: "user", timezone: "UTC" }));
    row("usage(model, whole org, 30 days)", () => ledger.usage({ from: FROM, to: NOW, groupBy: "model", timezone: "UTC" }));
    row("spendByScope(30 days): start-up, whole table", () => ledger.spendByScope(FROM));
    return lines;
  });
}

function fileSystemOf(dir: string): string {
  try {
    return execFileSync("df", ["-T", dir], { encoding: "utf8" }).trim().split("\n").at(-1)!.split(/\s+/)[1]!;
  } catch {
    return "unknown";
  }
}

const dir = mkdtempSync(join(baseDir, "tollgate-ledger-bench-"));
try {
  console.log(
    `Ledger benchmark: node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ` +
      `data on ${baseDir} (${fileSystemOf(baseDir)}), ${orderedIds ? "time-ordered" : "random"} ids, ` +
      `options ${JSON.stringify(tuning)}${quick ? " (--quick)" : ""}\n`,
  );
  console.log(await fill(dir));
  console.log("");
  for (const line of await queries(dir)) console.log(line);
  console.log(
    `\nAppends to that ledger, ${LOOP_MS / 1000} s per load:\n\n` +
      "| synchronous, load | records/s | append→durable ms p50 / p99 / max | commits | records/commit | commit on writer thread ms p50 / p99 / max | main event-loop delay ms p99 / max |\n" +
      "| --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const synchronous of ["NORMAL", "FULL"] as const) {
    await withLedger(dir, { synchronous }, async (ledger, flushes) => {
      for (const writers of [1, 64, 1000]) console.log(report(await closedLoop(ledger, flushes, synchronous, writers)));
      console.log(report(await openLoop(ledger, flushes, synchronous, 20_000)));
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
