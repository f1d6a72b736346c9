// `npm run bench`: what the broker adds on top of Bedrock, measured side by side in one run.
//
// Three processes share the machine, as in production tests of other gateways: the Bedrock
// emulator (fixed 20 ms to first byte), the broker (`tollgate serve`), and this load generator.
// Each scenario runs "direct" (the load generator speaks Bedrock's wire protocol to the emulator,
// unsigned: no SDK) and "via broker" (OpenAI format to the broker, which signs and calls the
// emulator through the AWS SDK). The difference is the broker's cost, SDK included.
import { spawn, type ChildProcess } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { execSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Pool } from "undici";
import { REPO_ROOT, startBrokerProcess, tempDir, writePolicyFile, type BrokerProcess } from "../test/support/broker-process.js";
import { envFor } from "../test/emulator/emulator-env.js";

const FIRST_BYTE_DELAY_MS = 20;
const MODEL_ID = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const quick = process.argv.includes("--quick");
const SEQUENTIAL_REQUESTS = quick ? 200 : 2000;
const LOAD_SECONDS = quick ? 3 : 10;
const WARMUP_REQUESTS = quick ? 100 : 500;
const IN_FLIGHT = 50;

interface Target {
  name: string;
  pool: Pool;
  path(stream: boolean): string;
  body(stream: boolean): string;
}

interface Sample {
  latencyMs: number;
  firstByteMs: number;
}

async function startEmulatorProcess(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "test/emulator/cli.ts"), "--port", "0", "--first-byte-delay-ms", String(FIRST_BYTE_DELAY_MS)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (data: Buffer) => {
      out += data.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`emulator exited ${code}`)));
  });
  return { url, child };
}

async function once(target: Target, stream: boolean): Promise<Sample> {
  const started = performance.now();
  const { statusCode, body } = await target.pool.request({
    path: target.path(stream),
    method: "POST",
    headers: { "content-type": "application/json" },
    body: target.body(stream),
  });
  let firstByteMs = -1;
  for await (const _chunk of body) {
    if (firstByteMs < 0) firstByteMs = performance.now() - started;
  }
  if (statusCode !== 200) throw new Error(`${target.name}: HTTP ${statusCode}`);
  return { latencyMs: performance.now() - started, firstByteMs };
}

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
  const policy = { models: { "claude-sonnet-4": { route: [{ id: "use1", modelId: MODEL_ID, region: "us-east-1" }], promptCaching: { enabled: false } } } };
  const broker: BrokerProcess = await startBrokerProcess({
    policyFile: writePolicyFile(policy),
    env: { ...envFor(process.env, emulator.url), TOLLGATE_LOG_LEVEL: "warn" },
    dataDir: tempDir("tollgate-bench-"),
  });

  const converseBody = JSON.stringify({ messages: [{ role: "user", content: [{ text: "Say hello" }] }], inferenceConfig: { maxTokens: 200 } });
  const encodedModel = encodeURIComponent(MODEL_ID);
  const direct: Target = {
    name: "direct",
    pool: new Pool(emulator.url, { connections: IN_FLIGHT + 8 }),
    path: (stream) => `/model/${encodedModel}/${stream ? "converse-stream" : "converse"}`,
    body: () => converseBody,
  };
  const viaBroker: Target = {
    name: "broker",
    pool: new Pool(broker.url, { connections: IN_FLIGHT + 8 }),
    path: () => "/v1/chat/completions",
    body: (stream) => JSON.stringify({ model: "claude-sonnet-4", max_tokens: 200, stream, messages: [{ role: "user", content: "Say hello" }] }),
  };

  const lines: string[] = [];
  const log = (line: string): void => {
    lines.push(line);
    process.stdout.write(`${line}\n`);
  };

  log(`| scenario | direct to emulator | via broker | broker adds |`);
  log(`|---|---|---|---|`);

  const d1 = await sequential(direct, false);
  const b1 = await sequential(viaBroker, false);
  for (const p of [50, 99]) {
    const d = percentile(d1.map((s) => s.latencyMs), p);
    const b = percentile(b1.map((s) => s.latencyMs), p);
    log(`| non-stream, 1 in flight, p${p} latency | ${fmt(d)} ms | ${fmt(b)} ms | **+${fmt(b - d)} ms** |`);
  }

  const d50 = await load(direct, false);
  const b50 = await load(viaBroker, false);
  log(`| non-stream, ${IN_FLIGHT} in flight, throughput | ${fmt(d50.perSecond, 0)} req/s | ${fmt(b50.perSecond, 0)} req/s | ${fmt((b50.perSecond / d50.perSecond) * 100, 0)}% of direct |`);
  log(`| non-stream, ${IN_FLIGHT} in flight, p50 latency | ${fmt(percentile(d50.samples.map((s) => s.latencyMs), 50))} ms | ${fmt(percentile(b50.samples.map((s) => s.latencyMs), 50))} ms | |`);

  const ds1 = await sequential(direct, true);
  const bs1 = await sequential(viaBroker, true);
  for (const p of [50, 99]) {
    const d = percentile(ds1.map((s) => s.firstByteMs), p);
    const b = percentile(bs1.map((s) => s.firstByteMs), p);
    log(`| stream, 1 in flight, time to first byte p${p} | ${fmt(d)} ms | ${fmt(b)} ms | **+${fmt(b - d)} ms** |`);
  }

  const ds50 = await load(direct, true);
  const bs50 = await load(viaBroker, true);
  log(`| stream, ${IN_FLIGHT} in flight, throughput | ${fmt(ds50.perSecond, 0)} streams/s | ${fmt(bs50.perSecond, 0)} streams/s | ${fmt((bs50.perSecond / ds50.perSecond) * 100, 0)}% of direct |`);
  log(`| stream, ${IN_FLIGHT} in flight, time to first byte p50 | ${fmt(percentile(ds50.samples.map((s) => s.firstByteMs), 50))} ms | ${fmt(percentile(bs50.samples.map((s) => s.firstByteMs), 50))} ms | |`);

  await direct.pool.close();
  await viaBroker.pool.close();
  await broker.stop();
  emulator.child.kill("SIGTERM");

  const commit = execSync("git rev-parse --short HEAD", { cwd: REPO_ROOT }).toString().trim();
  const header = [
    `Run ${new Date().toISOString()} at commit ${commit}${quick ? " (--quick)" : ""}`,
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    `Emulator first byte after ${FIRST_BYTE_DELAY_MS} ms; ${SEQUENTIAL_REQUESTS} sequential requests per 1-in-flight row; ${LOAD_SECONDS} s per ${IN_FLIGHT}-in-flight row.`,
    "",
  ];
  const out = process.env.BENCH_OUT ?? join(REPO_ROOT, "bench/results/latest.md");
  writeFileSync(out, `${header.join("\n")}\n${lines.join("\n")}\n`);
  process.stdout.write(`\nwritten to ${out}\n`);
}

await main();
