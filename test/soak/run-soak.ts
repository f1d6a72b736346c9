// The soak: the Bedrock emulator (in this process) and a real `tollgate serve` (a child process,
// the built CLI), driven open-loop at a target rate with the soak's traffic mix, then checked.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { Pool } from "undici";
import { startEmulator } from "../emulator/index.js";
import { REPO_ROOT, startBrokerProcess, writePolicyFile, type BrokerProcess } from "../support/broker-process.js";
import { TEST_ADMIN_TOKEN } from "../support/harness.js";
import { buildReport, type LedgerRow, type RssSample, type SlotSnapshot, type SoakConfig, type SoakReport } from "./soak-checks.js";
import { sendRequest, type RequestResult } from "./soak-client.js";
import { SOAK_USERS, soakPolicy } from "./soak-policy.js";
import { CallTracker, expectedAnswer, planFor, requestBody, rng } from "./soak-traffic.js";

export type { SoakConfig, SoakReport } from "./soak-checks.js";

export const DEFAULT_CONFIG: SoakConfig = {
  durationSeconds: 600,
  rps: 200,
  warmupSeconds: 120,
  rampSeconds: 30,
  rssWindowSeconds: 60,
  rssGrowthLimit: 0.1,
  // Below Node's listen backlog (511): when the broker falls behind, arrivals beyond the cap are
  // counted as not sent instead of piling up as connections the kernel drops, and the broker's
  // memory is not judged on a backlog of thousands of requests.
  maxInFlight: 500,
  seed: 1,
  rssSampleMs: 1_000,
  // Only against a hang: a request the client gives up on may still be admitted and recorded by the
  // broker, and its ledger row then has an id no client saw. An overloaded run is slow, not lost.
  requestTimeoutMs: 600_000,
};

export interface SoakRunOptions {
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Keep the broker's data dir (its ledger) instead of deleting it. */
  keepData?: boolean;
}

/** The emulator's pacing: a short wait before the first byte, and between deltas. */
const EMULATOR_TIMING = { firstByteDelayMs: 25, chunkDelayMs: 8 };

/** utime + stime of a process, in seconds (clock ticks of 1/100 s on Linux). */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Machine-wide busy and total CPU seconds so far, over all cores (/proc/stat). */
export function machineCpuSeconds(): { busy: number; total: number } | undefined {
  try {
    const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((sum, n) => sum + n, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: (total - idle) / 100, total: total / 100 };
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in KiB: VmRSS from /proc on Linux, else `ps` (macOS). */
export function rssKb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    try {
      const kb = Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim());
      return Number.isFinite(kb) && kb > 0 ? kb : undefined;
    } catch {
      return undefined;
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runSoak(config: SoakConfig, options: SoakRunOptions = {}): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const emulator = await startEmulator(EMULATOR_TIMING);
  const tracker = new CallTracker(config.seed);
  emulator.setHandler((call) => tracker.handle(call));
  const policyFile = writePolicyFile(soakPolicy({ rps: config.rps, durationSeconds: config.durationSeconds }));
  let broker: BrokerProcess | undefined;
  let pool: Pool | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    broker = await startBrokerProcess({
      policyFile,
      // Access lines at 200 requests/s would only cost CPU: warnings and errors still show.
      env: { ...emulator.envFor(process.env), TOLLGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN, TOLLGATE_LOG_LEVEL: "warn" },
      args: ["--drain-seconds", "30"],
    });
    const pid = broker.child.pid;
    if (pid === undefined) throw new Error("the broker process has no pid");
    log(`broker pid ${pid} at ${broker.url}; emulator at ${emulator.url}; data dir ${broker.dataDir}`);
    // A starved broker accepts connections late: give connects as long as the requests' own timeout allows.
    pool = new Pool(broker.url, { connections: config.maxInFlight, keepAliveTimeout: 4_000, connect: { timeout: 60_000 } });
    const ctx = { pool, runStartedAt: performance.now(), timeoutMs: config.requestTimeoutMs };
    const startedAt = ctx.runStartedAt;

    const rss: RssSample[] = [];
    const inFlight = new Set<Promise<void>>();
    const sample = (): void => {
      const kb = rssKb(pid);
      if (kb === undefined) return;
      const own = process.cpuUsage();
      rss.push({
        t: (performance.now() - startedAt) / 1000,
        kb,
        cpu: { broker: cpuSeconds(pid) ?? Number.NaN, self: (own.user + own.system) / 1e6, machine: machineCpuSeconds()?.busy ?? Number.NaN },
        inFlight: inFlight.size,
      });
    };
    sample();
    sampler = setInterval(sample, config.rssSampleMs);
    const brokerCpuAtStart = cpuSeconds(pid) ?? 0;
    const ownCpuAtStart = process.cpuUsage();
    const machineAtStart = machineCpuSeconds();
    sweeper = setInterval(() => tracker.sweep(), 1_000);

    // Open loop: arrivals follow a Poisson process at the target rate (after the ramp), whatever the answers do.
    const results: RequestResult[] = [];
    const launchLagMs: number[] = [];
    const arrivals = rng(config.seed ^ 0xa441);
    const endAt = startedAt + config.durationSeconds * 1000;
    let nextAt = startedAt;
    let seq = 0;
    let notSent = 0;
    let maxInFlightSeen = 0;
    let lastProgress = startedAt;
    const launch = (scheduledAt: number): void => {
      const plan = planFor(config.seed, seq++);
      if (inFlight.size >= config.maxInFlight) {
        notSent += 1;
        return;
      }
      launchLagMs.push(performance.now() - scheduledAt);
      const promise = sendRequest(ctx, plan, requestBody(plan), expectedAnswer(config.seed, plan)).then((result) => {
        results.push(result);
        inFlight.delete(promise);
      });
      inFlight.add(promise);
      maxInFlightSeen = Math.max(maxInFlightSeen, inFlight.size);
    };
    for (;;) {
      const now = performance.now();
      while (nextAt <= now && nextAt < endAt) {
        launch(nextAt);
        // During the ramp the rate grows linearly from 5% of the target: a cold broker is not met
        // by the full rate in its first second, as no real deployment is.
        const ramp = config.rampSeconds > 0 ? Math.min(1, Math.max(0.05, (nextAt - startedAt) / 1000 / config.rampSeconds)) : 1;
        nextAt += (-Math.log(1 - arrivals()) / (config.rps * ramp)) * 1000;
      }
      if (nextAt >= endAt) break;
      if (now - lastProgress >= 30_000) {
        lastProgress = now;
        const last = rss[rss.length - 1];
        log(`t=${((now - startedAt) / 1000).toFixed(0)} s: ${seq} arrivals, ${results.length} answered, ${inFlight.size} in flight, broker RSS ${last ? (last.kb / 1024).toFixed(1) : "?"} MiB`);
      }
      await sleep(Math.min(10, Math.max(0, nextAt - performance.now())));
    }
    // The last minute of RSS is judged against the first, so stop sampling when traffic stops.
    clearInterval(sampler);
    sampler = undefined;
    log(`traffic done: ${seq} arrivals; waiting for ${inFlight.size} in flight`);
    await Promise.all(inFlight);
    const wallSeconds = (performance.now() - startedAt) / 1000;
    const answeredAt = performance.now();
    const ownCpu = process.cpuUsage(ownCpuAtStart);
    const machineAtEnd = machineCpuSeconds();
    const cpu = {
      brokerSeconds: (cpuSeconds(pid) ?? 0) - brokerCpuAtStart,
      loadGeneratorAndEmulatorSeconds: (ownCpu.user + ownCpu.system) / 1e6,
      machineBusySeconds: machineAtStart && machineAtEnd ? machineAtEnd.busy - machineAtStart.busy : Number.NaN,
      machineTotalSeconds: machineAtStart && machineAtEnd ? machineAtEnd.total - machineAtStart.total : Number.NaN,
      cores: availableParallelism(),
      loadAverage: loadavg()[0] ?? 0,
    };

    const slots = await settledSlots(broker.url, answeredAt);
    log(`slots: ${slots.concurrent.filter((s) => s.used !== 0).length} busy concurrent limits, ${slots.deployments.filter((d) => d.inFlight !== 0).length} deployments in flight`);
    const brokerExitCode = await broker.stop("SIGTERM");
    // The emulator sees the broker's connections close a moment after the process exits.
    let callsStillRunning = tracker.sweep(false);
    for (let waited = 0; callsStillRunning > 0 && waited < 5_000; waited += 100) {
      await sleep(100);
      callsStillRunning = tracker.sweep(false);
    }
    tracker.sweep(true);
    const ledger = readLedger(join(broker.dataDir, "ledger.sqlite"));
    log(`broker exited ${brokerExitCode}; ledger has ${ledger.length} rows`);

    const report = buildReport({
      config,
      build: buildInfo(),
      results: results.sort((a, b) => a.seq - b.seq),
      scheduled: seq,
      notSent,
      wallSeconds,
      launchLagMs,
      maxInFlightSeen,
      cpu,
      rss,
      slots,
      brokerExitCode,
      ledger,
      tracker,
      callsStillRunning,
      emulator: emulator.totals(),
    });
    if (!report.pass) log(`broker output (last 4000 characters):\n${broker.output().slice(-4000)}`);
    return report;
  } finally {
    if (sampler) clearInterval(sampler);
    if (sweeper) clearInterval(sweeper);
    await pool?.close().catch(() => undefined);
    await broker?.stop("SIGKILL").catch(() => undefined);
    await emulator.close();
    if (!options.keepData && broker) rmSync(broker.dataDir, { recursive: true, force: true });
    rmSync(dirname(policyFile), { recursive: true, force: true });
  }
}

/** Which broker this was: the commit, and whether broker/ or shared/ had uncommitted changes when it was built. */
function buildInfo(): string {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "broker", "shared"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    return `commit ${commit}${dirty ? ", with uncommitted changes in broker/ or shared/" : ""}`;
  } catch {
    return "commit unknown";
  }
}

async function getJson(url: string, token: string): Promise<unknown> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function slotSnapshot(base: string, since: number): Promise<SlotSnapshot> {
  const concurrent: SlotSnapshot["concurrent"] = [];
  for (const user of SOAK_USERS) {
    const me = (await getJson(`${base}/v1/me`, user.key)) as { limits: Array<{ limit: string; scope: string; used: number; max: number }> };
    for (const limit of me.limits) if (limit.limit === "concurrent") concurrent.push({ user: user.name, scope: limit.scope, used: limit.used, max: limit.max });
  }
  const deployments = ((await getJson(`${base}/admin/deployments`, TEST_ADMIN_TOKEN)) as { data: SlotSnapshot["deployments"] }).data.map((d) => ({
    model: d.model,
    deployment: d.deployment,
    inFlight: d.inFlight,
    state: d.state,
  }));
  return { concurrent, deployments, afterMs: Math.round(performance.now() - since) };
}

/**
 * Every answer has been read, but a cancelled stream's slot is released when the broker notices the
 * closed connection, which can be a moment later: poll for up to 10 s until everything is free.
 */
async function settledSlots(base: string, since: number): Promise<SlotSnapshot> {
  let snapshot = await slotSnapshot(base, since);
  while (performance.now() - since < 10_000) {
    if (snapshot.concurrent.every((s) => s.used === 0) && snapshot.deployments.every((d) => d.inFlight === 0)) break;
    await sleep(250);
    snapshot = await slotSnapshot(base, since);
  }
  return snapshot;
}

/** The ledger straight from its SQLite file (the broker has exited, so every row is in it). */
export function readLedger(file: string): LedgerRow[] {
  const db = new Database(file, { fileMustExist: true });
  try {
    return db
      .prepare(
        "SELECT id, status, http_status, error_code, served_model, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, cost_pico_usd, usage_estimated FROM usage",
      )
      .all() as LedgerRow[];
  } finally {
    db.close();
  }
}
