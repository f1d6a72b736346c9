// `npm run bench`: what the broker adds on top of Bedrock, measured side by side in one run.
//
// Three processes share the machine, as in production tests of other gateways: the Bedrock
// emulator (fixed 20 ms to first byte), the broker (`tollgate serve`), and this load generator.
// Each scenario runs three ways: "direct" (the load generator speaks Bedrock's wire protocol to the
// emulator, unsigned: no SDK), "AWS SDK alone" (this process calls the emulator through the SDK,
// configured exactly as the broker configures it), and "via broker" (OpenAI format to the broker,
// which calls the emulator through the SDK). broker − direct is what a client sees added;
// broker − SDK is what the broker's own code adds on top of the SDK it must use.
// Then the routing scenarios of bench/routing-bench.ts (fail-over, cool-downs, client cancel).
import { spawn, type ChildProcess } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { execSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConverseCommand, ConverseStreamCommand } from "@aws-sdk/client-bedrock-runtime";
import { Pool } from "undici";
import { listeningUrl } from "./listening-url.js";
import { keyHashEntry } from "@tollgate/shared";
import { BedrockClientPool, DEFAULT_BEDROCK_CLIENT_OPTIONS } from "../broker/src/bedrock/client-pool.js";
import { REPO_ROOT, startBrokerProcess, tempDir, writePolicyFile, type BrokerProcess } from "../test/support/broker-process.js";
import { applyEnvTo, envFor } from "../test/emulator/emulator-env.js";
import { runRoutingBench } from "./routing-bench.js";
import { runFleetBench } from "./fleet-bench.js";
import { runTelemetryBench } from "./telemetry-bench.js";

const FIRST_BYTE_DELAY_MS = 20;
const BENCH_KEY = "tg_benchmark-user-key-00000000000000000";
const MODEL_ID = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const quick = process.argv.includes("--quick");
// `--only core|fleet|telemetry|routing` runs one part (for iterating on it); recorded results run them all.
const only = /^--only=?(\w+)?$/.test(process.argv.find((arg) => arg.startsWith("--only")) ?? "")
  ? (process.argv.find((arg) => arg.startsWith("--only="))?.slice(7) ?? process.argv[process.argv.indexOf("--only") + 1])
  : undefined;
const runs = (part: "core" | "fleet" | "telemetry" | "routing"): boolean => only === undefined || only === part;
const SEQUENTIAL_REQUESTS = quick ? 200 : 2000;
const LOAD_SECONDS = quick ? 3 : 10;
const WARMUP_REQUESTS = quick ? 100 : 500;
const IN_FLIGHT = 50;

interface Target {
  name: string;
  once(stream: boolean): Promise<Sample>;
  close(): Promise<void>;
}

interface Sample {
  latencyMs: number;
  firstByteMs: number;
  /** From the broker's server-timing header (non-stream): limits admission and the ledger commit. */
  admitMs?: number;
  ledgerMs?: number;
}

function serverTiming(header: string | string[] | undefined, name: string): number | undefined {
  const text = Array.isArray(header) ? header.join(",") : header;
  const match = text ? new RegExp(`${name};dur=([\\d.]+)`).exec(text) : null;
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

async function startEmulatorProcess(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "test/emulator/cli.ts"), "--port", "0", "--first-byte-delay-ms", String(FIRST_BYTE_DELAY_MS)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await listeningUrl(child, "emulator");
  return { url, child };
}

/** A target spoken to over plain HTTP (undici): first byte is the first body byte. */
function httpTarget(name: string, url: string, path: (stream: boolean) => string, body: (stream: boolean) => string, headers: Record<string, string> = {}): Target {
  const pool = new Pool(url, { connections: IN_FLIGHT + 8 });
  return {
    name,
    async once(stream) {
      const started = performance.now();
      const response = await pool.request({ path: path(stream), method: "POST", headers: { "content-type": "application/json", ...headers }, body: body(stream) });
      let firstByteMs = -1;
      for await (const _chunk of response.body) {
        if (firstByteMs < 0) firstByteMs = performance.now() - started;
      }
      if (response.statusCode !== 200) throw new Error(`${name}: HTTP ${response.statusCode}`);
      const timing = response.headers["server-timing"];
      const admitMs = serverTiming(timing, "admit");
      const ledgerMs = serverTiming(timing, "ledger");
      return { latencyMs: performance.now() - started, firstByteMs, ...(admitMs !== undefined ? { admitMs } : {}), ...(ledgerMs !== undefined ? { ledgerMs } : {}) };
    },
    close: () => pool.close(),
  };
}

/** The AWS SDK in this process, configured as the broker configures it: what the SDK alone costs. */
function sdkTarget(url: string): Target {
  // The SDK reads its endpoint and IMDS variables from the environment, as in the broker.
  applyEnvTo(process.env, url);
  const pool = new BedrockClientPool({ ...DEFAULT_BEDROCK_CLIENT_OPTIONS });
  const client = pool.forRegion("us-east-1");
  const input = { modelId: MODEL_ID, messages: [{ role: "user" as const, content: [{ text: "Say hello" }] }], inferenceConfig: { maxTokens: 200 } };
  return {
    name: "sdk",
    async once(stream) {
      const started = performance.now();
      let firstByteMs = -1;
      if (stream) {
        const response = await client.send(new ConverseStreamCommand(input));
        for await (const _event of response.stream ?? []) {
          if (firstByteMs < 0) firstByteMs = performance.now() - started;
        }
      } else {
        await client.send(new ConverseCommand(input));
        firstByteMs = performance.now() - started;
      }
      return { latencyMs: performance.now() - started, firstByteMs };
    },
    close: async () => pool.destroy(),
  };
}

const once = (target: Target, stream: boolean): Promise<Sample> => target.once(stream);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function sequential(target: Target, stream: boolean): Promise<Sample[]> {
  for (let i = 0; i < WARMUP_REQUESTS / 5; i++) await once(target, stream);
  const samples: Sample[] = [];
  for (let i = 0; i < SEQUENTIAL_REQUESTS; i++) samples.push(await once(target, stream));
  return samples;
}

async function load(target: Target, stream: boolean): Promise<{ perSecond: number; samples: Sample[] }> {
  const warmEnd = performance.now() + 1000;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (performance.now() < warmEnd) await once(target, stream);
  }));
  const samples: Sample[] = [];
  const started = performance.now();
  const end = started + LOAD_SECONDS * 1000;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (performance.now() < end) samples.push(await once(target, stream));
  }));
  return { perSecond: samples.length / ((performance.now() - started) / 1000), samples };
}

const fmt = (value: number, digits = 2): string => value.toFixed(digits);

async function main(): Promise<void> {
  const emulator = await startEmulatorProcess();
  // A user with limits on every dimension (high enough never to refuse), so every request pays for
  // admission, settlement and its durable ledger row, as in production.
  const policy = {
    models: { "claude-sonnet-4": { route: [{ id: "use1", modelId: MODEL_ID, region: "us-east-1" }], promptCaching: { enabled: false } } },
    teams: { bench: { models: ["*"], limits: { rpm: 10_000_000, tpm: 1_000_000_000, concurrent: 10_000, dailyUsd: 1_000_000, monthlyUsd: 10_000_000 } } },
    users: { bench: { team: "bench", keys: [keyHashEntry(BENCH_KEY)], limits: { rpm: 10_000_000, tpm: 1_000_000_000, concurrent: 10_000, dailyUsd: 1_000_000 } } },
  };
  const lines: string[] = [];
  const log = (line: string): void => {
    lines.push(line);
    process.stdout.write(`${line}\n`);
  };

  if (runs("core")) {
    const broker: BrokerProcess = await startBrokerProcess({
      policyFile: writePolicyFile(policy),
      env: { ...envFor(process.env, emulator.url), TOLLGATE_LOG_LEVEL: "warn" },
      dataDir: tempDir("tollgate-bench-"),
    });

    const converseBody = JSON.stringify({ messages: [{ role: "user", content: [{ text: "Say hello" }] }], inferenceConfig: { maxTokens: 200 } });
    const encodedModel = encodeURIComponent(MODEL_ID);
    const direct = httpTarget("direct", emulator.url, (stream) => `/model/${encodedModel}/${stream ? "converse-stream" : "converse"}`, () => converseBody);
    const sdk = sdkTarget(emulator.url);
    const viaBroker = httpTarget("broker", broker.url, () => "/v1/chat/completions", (stream) =>
      JSON.stringify({ model: "claude-sonnet-4", max_tokens: 200, stream, messages: [{ role: "user", content: "Say hello" }] }),
      { authorization: `Bearer ${BENCH_KEY}` },
    );


    log(`| scenario | direct to emulator (raw HTTP) | AWS SDK alone | via broker | broker adds vs raw | broker adds vs SDK |`);
    log(`|---|---|---|---|---|---|`);
    const ms = (value: number): string => `${fmt(value)} ms`;
    const accounting: Sample[] = [];
    const row = (label: string, d: number, k: number, b: number, unit: (v: number) => string, added: (x: number, y: number) => string): void =>
      log(`| ${label} | ${unit(d)} | ${unit(k)} | ${unit(b)} | ${added(b, d)} | ${added(b, k)} |`);
    const plus = (b: number, base: number): string => `+${fmt(b - base)} ms`;
    const share = (b: number, base: number): string => `${fmt((b / base) * 100, 0)}%`;

    for (const stream of [false, true]) {
      const kind = stream ? "stream" : "non-stream";
      const pick = (sample: Sample): number => (stream ? sample.firstByteMs : sample.latencyMs);
      const what = stream ? "time to first byte" : "latency";
      const [d1, k1, b1] = [await sequential(direct, stream), await sequential(sdk, stream), await sequential(viaBroker, stream)];
      for (const p of [50, 99]) {
        row(`${kind}, 1 in flight, ${what} p${p}`, percentile(d1.map(pick), p), percentile(k1.map(pick), p), percentile(b1.map(pick), p), ms, plus);
      }
      if (!stream) accounting.push(...b1);
      const [d50, k50, b50] = [await load(direct, stream), await load(sdk, stream), await load(viaBroker, stream)];
      const unit = (v: number): string => `${fmt(v, 0)} ${stream ? "streams" : "req"}/s`;
      row(`${kind}, ${IN_FLIGHT} in flight, throughput`, d50.perSecond, k50.perSecond, b50.perSecond, unit, share);
      row(`${kind}, ${IN_FLIGHT} in flight, ${what} p50`, percentile(d50.samples.map(pick), 50), percentile(k50.samples.map(pick), 50), percentile(b50.samples.map(pick), 50), ms, plus);
    }

    // Limits and ledger, measured inside the broker on each of the sequential non-stream requests.
    const admit = accounting.flatMap((sample) => (sample.admitMs === undefined ? [] : [sample.admitMs]));
    const ledger = accounting.flatMap((sample) => (sample.ledgerMs === undefined ? [] : [sample.ledgerMs]));
    const both = accounting.flatMap((sample) => (sample.admitMs === undefined || sample.ledgerMs === undefined ? [] : [sample.admitMs + sample.ledgerMs]));
    log("");
    log(`| limits and ledger inside the broker (non-stream, 1 in flight, ${both.length} requests) | p50 | p99 |`);
    log(`|---|---|---|`);
    log(`| admission against limits (user, team, team × model) | ${fmt(percentile(admit, 50), 3)} ms | ${fmt(percentile(admit, 99), 3)} ms |`);
    log(`| settle + durable ledger commit (group commit) | ${fmt(percentile(ledger, 50), 3)} ms | ${fmt(percentile(ledger, 99), 3)} ms |`);
    log(`| **limits + ledger** | **${fmt(percentile(both, 50), 3)} ms** | ${fmt(percentile(both, 99), 3)} ms |`);

    await direct.close();
    await sdk.close();
    await viaBroker.close();
    await broker.stop();

  }

  // Fleet mode against embedded mode, two more brokers on the same emulator: bench/fleet-bench.ts.
  const brokerBench = {
    emulatorUrl: emulator.url,
    policy,
    target: (url: string) => httpTarget("broker", url, () => "/v1/chat/completions", (stream: boolean) =>
      JSON.stringify({ model: "claude-sonnet-4", max_tokens: 200, stream, messages: [{ role: "user", content: "Say hello" }] }),
      { authorization: `Bearer ${BENCH_KEY}` },
    ),
    sequential,
    load,
    percentile,
    log,
  };
  if (runs("fleet")) await runFleetBench(brokerBench);
  // Trace export off / to healthy backends / to broken ones: bench/telemetry-bench.ts.
  if (runs("telemetry")) await runTelemetryBench(brokerBench);
  emulator.child.kill("SIGTERM");

  // Routing and resilience (fail-over from a throttled deployment, cool-downs, client cancel), with
  // its own emulator and broker: bench/routing-bench.ts.
  if (runs("routing")) await runRoutingBench({ quick, log });

  const commit = execSync("git rev-parse --short HEAD", { cwd: REPO_ROOT }).toString().trim();
  const header = [
    `Run ${new Date().toISOString()} at commit ${commit}${quick ? " (--quick)" : ""}${only ? ` (--only ${only})` : ""}`,
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    `Emulator first byte after ${FIRST_BYTE_DELAY_MS} ms; ${SEQUENTIAL_REQUESTS} sequential requests per 1-in-flight row; ${LOAD_SECONDS} s per ${IN_FLIGHT}-in-flight row.`,
    "",
  ];
  const out = process.env.BENCH_OUT ?? join(REPO_ROOT, "bench/results/latest.md");
  writeFileSync(out, `${header.join("\n")}\n${lines.join("\n")}\n`);
  process.stdout.write(`\nwritten to ${out}\n`);
}

await main();
