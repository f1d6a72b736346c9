// Routing and resilience, measured through the real broker: what failing over from a throttled
// deployment costs a request, how well cool-downs keep requests away from it, and how fast a client's
// cancel reaches Bedrock. `npm run bench` runs this after the overhead scenarios (bench/run.ts);
// on its own: `node --import tsx bench/routing-bench.ts [--quick]` (after `npm run build`).
//
// Three processes, as in run.ts: the Bedrock emulator (bench/routing-emulator.ts, steered over IPC,
// 20 ms to first byte), the broker (`tollgate serve`), and this load generator (undici).
//
// Fail-over. One model, two deployments in different regions, strategy "ordered": use1 (us-east-1)
// first, usw2 (us-west-2) second. The emulator throttles every other call that reaches us-east-1
// (deterministic alternation, so runs repeat). Scenarios, interleaved in rounds so that load from
// elsewhere on the machine falls on all of them alike:
//   baseline          nothing throttled: every request is served by use1 at once
//   throttled         50% of use1's calls throttled (after the emulator's 20 ms, like any answer),
//                     cool-down effectively off ({initialMs: 1, maxMs: 1}): every throttled call pays
//                     the fail-over to usw2
//   throttled, 0 ms   the same, but the throttle is answered at once: what remains is the cost of a
//                     failed attempt and a second one (AWS SDK and broker)
// then, on its own (it depends on time running on):
//   cool-down         50% throttled, the default cool-down (5 s, doubling, up to 5 min): requests
//                     skip use1 while it cools; counts how many calls still reached it, and how
//                     many of those arrived while it should have been cooling.
//
// Cancel. Streams against a slow answer (a delta every 20 ms for 4 s) are cancelled by the client
// (AbortController) as soon as the first content chunk arrives; measured: the client's Date.now() at
// abort to the emulator's Date.now() when it saw the broker's Bedrock call go away (RecordedCall.abortedAt).
// Both are the same system clock (CLOCK_REALTIME) read in two processes, 1 ms resolution. The same
// client cancelling a ConverseStream at the emulator directly (no broker) is the floor, interleaved.
import { spawn, type ChildProcess } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Pool } from "undici";
import { listeningUrl } from "./listening-url.js";
import { DEFAULT_COOLDOWN, keyHashEntry } from "@tollgate/shared";
import { REPO_ROOT, startBrokerProcess, tempDir, writePolicyFile } from "../test/support/broker-process.js";
import { envFor } from "../test/emulator/emulator-env.js";
import type { AbortRecord, Mode, RegionCounts, Request } from "./routing-emulator.js";

const FIRST_BYTE_DELAY_MS = 20;
const BENCH_KEY = "tg_benchmark-user-key-00000000000000000";
const MODEL_ID = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const THROTTLED_REGION = "us-east-1";
const ROUTE = [
  { id: "use1", modelId: MODEL_ID, region: THROTTLED_REGION },
  { id: "usw2", modelId: MODEL_ID, region: "us-west-2" },
];
const CONCURRENCIES = [1, 16] as const;
const MAX_IN_FLIGHT = Math.max(...CONCURRENCIES);
/** Slow stream for the cancel scenario: 200 deltas 20 ms apart. */
const SLOW_STREAM = { chunks: 200, chunkDelayMs: 20 };
const CANCEL_TARGET_MS = 100;
/** A call to use1 this long after a throttle was answered counts as arriving while it should cool. */
const COOLDOWN_SLACK_MS = 100;

/** The first chunk that carries content (the role chunk before it has `"content":""`). */
const CONTENT_CHUNK = /"content":"(?!")/;

type FailoverMode = "baseline" | "throttled" | "throttled-instant" | "cooldown";
const MODE_LABEL: Record<FailoverMode, string> = {
  baseline: "baseline, nothing throttled",
  throttled: "50% of use1 throttled, no cool-down",
  "throttled-instant": "50% of use1 throttled at once (0 ms), no cool-down",
  cooldown: "50% of use1 throttled, default cool-down",
};

interface Sizes {
  /** Requests per scenario at each concurrency. */
  requests: Record<(typeof CONCURRENCIES)[number], number>;
  rounds: number;
  cancels: number;
}

function sizes(quick: boolean): Sizes {
  return quick ? { requests: { 1: 100, 16: 320 }, rounds: 2, cancels: 40 } : { requests: { 1: 800, 16: 3200 }, rounds: 8, cancels: 200 };
}

interface Sample {
  status: number;
  /** Non-stream: whole response. Stream: time to the first content chunk. */
  ms: number;
  fallbacks: number;
  deployment: string | undefined;
}

// ---------------------------------------------------------------------------------------------
// The emulator process

/** A request to the emulator process, before the id that pairs it with its answer. */
type Command = Request extends infer R ? (R extends unknown ? Omit<R, "id"> : never) : never;

interface EmulatorChild {
  url: string;
  send<T>(request: Command): Promise<T>;
  close(): Promise<void>;
}

async function startEmulatorChild(): Promise<EmulatorChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", join(REPO_ROOT, "bench/routing-emulator.ts"), "--first-byte-delay-ms", String(FIRST_BYTE_DELAY_MS)],
    { stdio: ["ignore", "pipe", "inherit", "ipc"] },
  );
  const url = await listeningUrl(child, "routing emulator");
  let next = 0;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  child.on("message", (message: { id: number; result?: unknown; error?: string }) => {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.result);
  });
  return {
    url,
    send: <T>(request: Command) =>
      new Promise<T>((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ ...request, id });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.disconnect();
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Requests

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function chatBody(model: string, stream: boolean, prompt: string): string {
  return JSON.stringify({ model, max_tokens: 200, stream, messages: [{ role: "user", content: prompt }] });
}

const HEADERS = { "content-type": "application/json", authorization: `Bearer ${BENCH_KEY}` };

async function chat(pool: Pool, model: string, stream: boolean): Promise<Sample> {
  const started = performance.now();
  const response = await pool.request({ path: "/v1/chat/completions", method: "POST", headers: HEADERS, body: chatBody(model, stream, "Say hello") });
  let firstContentMs = -1;
  let text = "";
  for await (const chunk of response.body) {
    if (stream && firstContentMs < 0) {
      text += (chunk as Buffer).toString();
      if (CONTENT_CHUNK.test(text)) firstContentMs = performance.now() - started;
    }
  }
  const totalMs = performance.now() - started;
  return {
    status: response.statusCode,
    ms: stream ? firstContentMs : totalMs,
    fallbacks: Number(header(response.headers["x-tollgate-fallbacks"]) ?? NaN),
    deployment: header(response.headers["x-tollgate-deployment"]),
  };
}

/** `total` calls of `fn`, `inFlight` at a time. */
async function runMany<T>(total: number, inFlight: number, fn: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let issued = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, total) }, async () => {
      while (issued < total) {
        const index = issued++;
        results.push(await fn(index));
      }
    }),
  );
  return results;
}

// ---------------------------------------------------------------------------------------------
// Statistics

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const fmt = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const ms = (value: number): string => (Number.isFinite(value) ? `${fmt(value)} ms` : "–");
const plus = (value: number): string => (Number.isFinite(value) ? `${value >= 0 ? "+" : ""}${fmt(value)} ms` : "–");
const pct = (part: number, whole: number): string => (whole === 0 ? "–" : `${fmt((part / whole) * 100, 1)}%`);

// ---------------------------------------------------------------------------------------------
// The run

export interface RoutingBenchOptions {
  quick: boolean;
  log(line: string): void;
}

function modelName(mode: FailoverMode, stream: boolean, inFlight: number): string {
  return `bench-${mode}-${stream ? "stream" : "nonstream"}-${inFlight}`;
}

export async function runRoutingBench({ quick, log }: RoutingBenchOptions): Promise<void> {
  const size = sizes(quick);
  const loadAtStart = loadavg()[0] ?? NaN;
  const emulator = await startEmulatorChild();
  const limits = { rpm: 10_000_000, tpm: 1_000_000_000, concurrent: 10_000, dailyUsd: 1_000_000, monthlyUsd: 10_000_000 };
  const models: Record<string, unknown> = {
    // Warms the second region's SDK client and connections before anything is measured.
    "bench-warm-usw2": { route: [ROUTE[1]], promptCaching: { enabled: false } },
    "bench-warm": { route: ROUTE, strategy: "ordered", cooldown: { initialMs: 1, maxMs: 1 }, promptCaching: { enabled: false } },
    "bench-cancel": { route: [ROUTE[0]], promptCaching: { enabled: false } },
  };
  // A model per scenario and shape, so one scenario's cool-down state never steers another's.
  for (const stream of [false, true]) {
    for (const inFlight of CONCURRENCIES) {
      for (const mode of ["baseline", "throttled", "throttled-instant", "cooldown"] as const) {
        models[modelName(mode, stream, inFlight)] = {
          route: ROUTE,
          strategy: "ordered",
          ...(mode === "cooldown" ? {} : { cooldown: { initialMs: 1, maxMs: 1 } }),
          promptCaching: { enabled: false },
        };
      }
    }
  }
  const policy = {
    models,
    teams: { bench: { models: ["*"], limits } },
    users: { bench: { team: "bench", keys: [keyHashEntry(BENCH_KEY)], limits } },
  };
  const broker = await startBrokerProcess({
    policyFile: writePolicyFile(policy),
    env: { ...envFor(process.env, emulator.url), TOLLGATE_LOG_LEVEL: "warn" },
    dataDir: tempDir("tollgate-bench-routing-"),
  });
  const pool = new Pool(broker.url, { connections: MAX_IN_FLIGHT + 8 });

  const setMode = (mode: Mode): Promise<void> => emulator.send({ op: "mode", mode });
  const modeFor = (mode: FailoverMode, key: string): Mode => {
    switch (mode) {
      case "baseline":
        return { kind: "plain", key };
      case "throttled":
        return { kind: "alternate-throttle", key, region: THROTTLED_REGION };
      case "throttled-instant":
        return { kind: "alternate-throttle", key, region: THROTTLED_REGION, errorDelayMs: 0 };
      case "cooldown":
        // No retry-after and use1 succeeds between throttles, so each cool-down should be initialMs.
        return { kind: "alternate-throttle", key, region: THROTTLED_REGION, cooldownMs: DEFAULT_COOLDOWN.initialMs, slackMs: COOLDOWN_SLACK_MS };
    }
  };

  // Warm-up: both regions' clients and sockets, the fail-over path, both shapes.
  for (const stream of [false, true]) {
    await setMode({ kind: "plain", key: "warm" });
    await runMany(quick ? 200 : 600, MAX_IN_FLIGHT, () => chat(pool, "bench-warm-usw2", stream));
    await setMode(modeFor("throttled", "warm"));
    await runMany(quick ? 200 : 600, MAX_IN_FLIGHT, () => chat(pool, "bench-warm", stream));
  }

  log("");
  log("## Routing: one deployment throttles 50% of calls");
  log("");
  log(
    `Model with two deployments, strategy "ordered": use1 (${THROTTLED_REGION}) first, usw2 (us-west-2) second. The emulator ` +
      `throttles every other call reaching ${THROTTLED_REGION}. Emulator first byte (and throttle answer) after ${FIRST_BYTE_DELAY_MS} ms. ` +
      `${size.requests[1]} requests per scenario at 1 in flight, ${size.requests[16]} at 16; baseline and the no-cool-down scenarios ` +
      `interleaved in ${size.rounds} rounds. Stream: time to the first content chunk. "failed over": x-tollgate-fallbacks ≥ 1.`,
  );
  log("");
  const latencyRows: string[] = [];
  const addedRows: string[] = [];
  const coolRows: string[] = [];
  const summary: string[] = [];
  for (const stream of [false, true]) {
    const shape = stream ? "stream (TTFT)" : "non-stream";
    for (const inFlight of CONCURRENCIES) {
      const samples: Record<FailoverMode, Sample[]> = { baseline: [], throttled: [], "throttled-instant": [], cooldown: [] };
      const key = (mode: FailoverMode): string => modelName(mode, stream, inFlight);
      const perRound = Math.ceil(size.requests[inFlight] / size.rounds);
      for (let round = 0; round < size.rounds; round++) {
        for (const mode of ["baseline", "throttled", "throttled-instant"] as const) {
          await setMode(modeFor(mode, key(mode)));
          samples[mode].push(...(await runMany(perRound, inFlight, () => chat(pool, key(mode), stream))));
        }
      }
      await setMode(modeFor("cooldown", key("cooldown")));
      const coolStarted = performance.now();
      samples.cooldown = await runMany(perRound * size.rounds, inFlight, () => chat(pool, key("cooldown"), stream));
      const coolSeconds = (performance.now() - coolStarted) / 1000;

      const okMs = (list: Sample[], fallbacks?: (n: number) => boolean): number[] =>
        list.filter((s) => s.status === 200 && (fallbacks === undefined || fallbacks(s.fallbacks))).map((s) => s.ms);
      const baseline = okMs(samples.baseline);
      for (const mode of ["baseline", "throttled", "throttled-instant", "cooldown"] as const) {
        const list = samples[mode];
        const all = okMs(list);
        const failedOver = okMs(list, (n) => n >= 1);
        const errors = list.length - all.length;
        latencyRows.push(
          `| ${shape} | ${inFlight} | ${MODE_LABEL[mode]}${errors > 0 ? ` (${errors} errors)` : ""} | ${list.length} | ${failedOver.length} (${pct(failedOver.length, all.length)}) | ` +
            `${ms(percentile(all, 50))} | ${ms(percentile(all, 95))} | ${ms(percentile(all, 99))} | ` +
            `${ms(percentile(failedOver, 50))} | ${ms(percentile(failedOver, 95))} | ${ms(percentile(failedOver, 99))} |`,
        );
        if (mode !== "throttled" && mode !== "throttled-instant") continue;
        // The brief's figure: failed-over requests against the baseline scenario. Beside it, against the
        // requests of the same scenario that use1 served at once (same rounds, same machine load).
        const direct = okMs(list, (n) => n === 0);
        const [p50, p95] = [percentile(failedOver, 50) - percentile(baseline, 50), percentile(failedOver, 95) - percentile(baseline, 95)];
        const [d50, d95] = [percentile(failedOver, 50) - percentile(direct, 50), percentile(failedOver, 95) - percentile(direct, 95)];
        const when = mode === "throttled" ? `after ${FIRST_BYTE_DELAY_MS} ms` : "at once";
        addedRows.push(`| ${shape} | ${inFlight} | ${when} | **${plus(p50)}** | ${plus(p95)} | ${plus(d50)} | ${plus(d95)} |`);
        summary.push(`- fallback path adds (${shape}, ${inFlight} in flight, throttle ${when}): p50 ${plus(p50)}, p95 ${plus(p95)} vs baseline; p50 ${plus(d50)}, p95 ${plus(d95)} vs the same run's direct requests`);
      }

      const counts = async (mode: FailoverMode): Promise<RegionCounts> =>
        (await emulator.send<Record<string, RegionCounts>>({ op: "counts", key: key(mode) }))[THROTTLED_REGION] ?? { calls: 0, throttled: 0, duringCooldown: 0 };
      const off = await counts("throttled");
      const cool = await counts("cooldown");
      const coolFailedOver = okMs(samples.cooldown, (n) => n >= 1).length;
      coolRows.push(
        `| ${shape} | ${inFlight} | ${samples.cooldown.length} in ${fmt(coolSeconds, 1)} s | ${cool.calls} (${cool.throttled} throttled) | ${cool.duringCooldown} | ${coolFailedOver} | ` +
          `${off.calls} (${off.throttled} throttled) of ${samples.throttled.length} |`,
      );
    }
  }

  log("| shape | in flight | scenario | requests | failed over | all p50 | all p95 | all p99 | failed-over p50 | failed-over p95 | failed-over p99 |");
  log("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const row of latencyRows) log(row);
  log("");
  log("What the fallback path adds: failed-over requests' percentile minus the baseline scenario's (the figure asked for), and minus");
  log("the percentile of the requests in the same scenario that use1 served at once (same rounds, so the same machine load):");
  log("");
  log("| shape | in flight | throttle answered | adds p50 vs baseline | adds p95 vs baseline | adds p50 vs same run | adds p95 vs same run |");
  log("|---|---|---|---|---|---|---|");
  for (const row of addedRows) log(row);
  log("");
  log("How many calls still reached the throttled deployment (use1). \"While it should cool\": calls that reached use1 more than");
  log(`${COOLDOWN_SLACK_MS} ms (time for the broker to see the throttle; calls already on their way land before) and less than`);
  log(`${DEFAULT_COOLDOWN.initialMs} ms after some throttle was answered: a cool-down lasts at least initialMs = ${DEFAULT_COOLDOWN.initialMs} ms (no retry-after here).`);
  log("");
  log("| shape | in flight | requests (default cool-down) | calls reaching use1 | of them while it should cool | requests that failed over | without cool-down: calls reaching use1, of requests |");
  log("|---|---|---|---|---|---|---|");
  for (const row of coolRows) log(row);

  // -------------------------------------------------------------------------------------------
  // Cancel latency

  // Two paths, interleaved in rounds: via the broker (OpenAI SSE), and, as the floor this machine
  // allows, the same client cancelling a ConverseStream to the emulator directly (no broker hop).
  const cancelPools = { broker: new Pool(broker.url, { connections: MAX_IN_FLIGHT + 8 }), direct: new Pool(emulator.url, { connections: MAX_IN_FLIGHT + 8 }) };
  await setMode({ kind: "slow-stream", key: "cancel", ...SLOW_STREAM });
  let serial = 0;
  type CancelPath = keyof typeof cancelPools;
  const cancelOnce = async (path: CancelPath): Promise<{ record: AbortRecord | null; clientAbortAt: number }> => {
    const tag = `bench-cancel-${process.pid}-${serial++}`;
    const controller = new AbortController();
    const response =
      path === "broker"
        ? await cancelPools.broker.request({
            path: "/v1/chat/completions",
            method: "POST",
            headers: HEADERS,
            body: chatBody("bench-cancel", true, `${tag}: write a long answer`),
            signal: controller.signal,
          })
        : await cancelPools.direct.request({
            path: `/model/${encodeURIComponent(MODEL_ID)}/converse-stream`,
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ messages: [{ role: "user", content: [{ text: `${tag}: write a long answer` }] }], inferenceConfig: { maxTokens: 4096 } }),
            signal: controller.signal,
          });
    if (response.statusCode !== 200) throw new Error(`cancel scenario (${path}): HTTP ${response.statusCode}: ${await response.body.text()}`);
    let text = "";
    let clientAbortAt = NaN;
    try {
      for await (const chunk of response.body) {
        // Direct: Bedrock's binary event stream; its first delta frame names contentBlockDelta.
        text += (chunk as Buffer).toString("latin1");
        if (path === "broker" ? CONTENT_CHUNK.test(text) : text.includes("contentBlockDelta")) {
          clientAbortAt = Date.now();
          controller.abort();
          break;
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
    const record = await emulator.send<AbortRecord | null>({ op: "await-abort", tag, timeoutMs: 5_000 });
    return { record, clientAbortAt };
  };
  // Warm both cancel paths.
  for (const path of ["direct", "broker"] as const) await runMany(quick ? 10 : 40, 4, () => cancelOnce(path));

  log("");
  log("## Client cancel → Bedrock call aborted");
  log("");
  log(
    `Streams of ${SLOW_STREAM.chunks} deltas ${SLOW_STREAM.chunkDelayMs} ms apart, cancelled by the client (AbortController, undici) at the first ` +
      `content chunk. Measured: client Date.now() at abort → emulator Date.now() when the Bedrock call went away (1 ms resolution). ` +
      `"direct": the same client and cancel straight to the emulator, no broker: the floor on this machine. Paths interleaved in ${size.rounds} rounds. ` +
      `Target (via broker): ≤ ${CANCEL_TARGET_MS} ms.`,
  );
  log("");
  log("| in flight | path | cancels | aborted upstream | p50 | p95 | max | within 100 ms |");
  log("|---|---|---|---|---|---|---|---|");
  const cancelSummary: string[] = [];
  for (const inFlight of CONCURRENCIES) {
    const results: Record<CancelPath, Array<{ record: AbortRecord | null; clientAbortAt: number }>> = { direct: [], broker: [] };
    const perRound = Math.ceil(size.cancels / size.rounds);
    for (let round = 0; round < size.rounds; round++) {
      for (const path of ["direct", "broker"] as const) results[path].push(...(await runMany(perRound, inFlight, () => cancelOnce(path))));
    }
    for (const path of ["direct", "broker"] as const) {
      const list = results[path];
      const delays = list.flatMap(({ record, clientAbortAt }) => (record?.abortedAt === undefined ? [] : [record.abortedAt - clientAbortAt]));
      const notAborted = list.length - delays.length;
      const within = delays.filter((d) => d <= CANCEL_TARGET_MS).length;
      const max = delays.length === 0 ? NaN : Math.max(...delays);
      const [p50, p95] = [percentile(delays, 50), percentile(delays, 95)];
      const label = path === "broker" ? "via broker" : "direct (floor)";
      log(
        `| ${inFlight} | ${label} | ${list.length} | ${delays.length}${notAborted > 0 ? ` (${notAborted} never aborted)` : ""} | ${fmt(p50, 0)} ms | ${fmt(p95, 0)} ms | ${fmt(max, 0)} ms | ` +
          `${within} of ${list.length} |`,
      );
      cancelSummary.push(`- cancel → Bedrock abort, ${inFlight} in flight, ${label}: p50 ${fmt(p50, 0)} ms, p95 ${fmt(p95, 0)} ms, max ${fmt(max, 0)} ms (target ${CANCEL_TARGET_MS} ms)`);
    }
  }

  log("");
  log("Summary:");
  for (const line of summary) log(line);
  for (const line of cancelSummary) log(line);
  log(`- machine load average (1 min) at the start of the routing scenarios ${fmt(loadAtStart, 1)}, at the end ${fmt(loadavg()[0] ?? NaN, 1)} (${cpus().length} cores)`);

  await pool.close();
  await cancelPools.broker.close();
  await cancelPools.direct.close();
  await broker.stop();
  await emulator.close();
}

// Run on its own: prints the tables (and writes them to BENCH_OUT when set).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const lines: string[] = [];
  await runRoutingBench({
    quick: process.argv.includes("--quick"),
    log: (line) => {
      lines.push(line);
      process.stdout.write(`${line}\n`);
    },
  });
  if (process.env.BENCH_OUT) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(process.env.BENCH_OUT, `${lines.join("\n")}\n`);
  }
}
