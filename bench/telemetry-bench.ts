// Trace export off, to healthy backends, and to broken ones (one that never answers, one that
// answers 500), side by side in one run: export must cost the request path nothing measurable,
// whatever the backends do. Receivers are the tests' OTLP receiver, in a process of their own
// (otlp-receivers-process.ts), so their work is charged neither to the broker nor to the load generator.
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { startBrokerProcess, tempDir, writePolicyFile, type BrokerProcess } from "../test/support/broker-process.js";
import { envFor } from "../test/emulator/emulator-env.js";
import type { FleetBenchOptions, FleetBenchTarget } from "./fleet-bench.js";

interface Receivers {
  urls: { healthy: string; hanging: string; failing: string };
  report(): Promise<{ healthyExports: number; brokenHits: number }>;
  close(): void;
}

async function startReceivers(): Promise<Receivers> {
  const child: ChildProcess = fork(fileURLToPath(new URL("./otlp-receivers-process.ts", import.meta.url)), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const [listening] = (await once(child, "message")) as [{ urls: Receivers["urls"] }];
  return {
    urls: listening.urls,
    async report() {
      child.send("report");
      const [report] = (await once(child, "message")) as [{ healthyExports: number; brokenHits: number }];
      return report;
    },
    close: () => child.disconnect(),
  };
}

export async function runTelemetryBench(options: FleetBenchOptions): Promise<void> {
  const env = { ...envFor(process.env, options.emulatorUrl), TOLLGATE_LOG_LEVEL: "warn", BENCH_LANGFUSE_SECRET: "sk-lf-bench" };
  const brokers: BrokerProcess[] = [];
  const receivers = await startReceivers();
  try {
    const { healthy, hanging, failing } = receivers.urls;
    const policy = options.policy as Record<string, unknown>;
    const withExporters = (exporters: Record<string, unknown>) => writePolicyFile({ ...policy, telemetry: { exporters } });
    const exporters = (url: string) => ({
      langfuse: { type: "langfuse", host: url, publicKey: "pk-lf-bench", secretKey: { env: "BENCH_LANGFUSE_SECRET" } },
      mlflow: { type: "mlflow", host: url, experimentId: "1" },
    });
    const start = async (policyFile: string, name: string): Promise<BrokerProcess> => {
      const broker = await startBrokerProcess({ policyFile, env, dataDir: tempDir(`tollgate-bench-${name}-`) });
      brokers.push(broker);
      return broker;
    };
    const off = await start(writePolicyFile(policy), "traces-off");
    const toHealthy = await start(withExporters(exporters(healthy)), "traces-healthy");
    const toBroken = await start(withExporters({ hanging: { type: "otlp", endpoint: `${hanging}/v1/traces` }, failing: { type: "otlp", endpoint: `${failing}/v1/traces` } }), "traces-broken");
    const targets: Record<"off" | "healthy" | "broken", FleetBenchTarget> = { off: options.target(off.url), healthy: options.target(toHealthy.url), broken: options.target(toBroken.url) };
    const fmt = (value: number, digits = 2): string => value.toFixed(digits);
    const { log, percentile } = options;
    log("");
    log("| trace export (same run) | off | Langfuse + MLflow (healthy) | broken backends (one hangs, one answers 500) |");
    log("|---|---|---|---|");
    for (const stream of [false, true]) {
      const kind = stream ? "stream, time to first byte" : "non-stream, latency";
      const pick = (s: { latencyMs: number; firstByteMs: number }): number => (stream ? s.firstByteMs : s.latencyMs);
      const samples: Record<keyof typeof targets, number[]> = { off: [], healthy: [], broken: [] };
      // Interleaved halves, so drift in machine load falls on all three alike.
      for (let half = 0; half < 2; half++) {
        for (const name of ["off", "healthy", "broken"] as const) samples[name].push(...(await options.sequential(targets[name], stream)).map(pick));
      }
      for (const p of [50, 99]) {
        const base = percentile(samples.off, p);
        const cell = (name: "healthy" | "broken"): string => `${fmt(percentile(samples[name], p))} ms (${percentile(samples[name], p) >= base ? "+" : ""}${fmt(percentile(samples[name], p) - base)})`;
        log(`| ${kind}, 1 in flight, p${p} | ${fmt(base)} ms | ${cell("healthy")} | ${cell("broken")} |`);
      }
      // Interleaved too (two rounds, averaged): a 10 s row run after another sees a different machine.
      const throughput: Record<string, number> = { off: 0, healthy: 0, broken: 0 };
      for (let round = 0; round < 2; round++) {
        for (const name of ["off", "healthy", "broken"] as const) throughput[name]! += (await options.load(targets[name], stream)).perSecond / 2;
      }
      log(`| ${stream ? "stream" : "non-stream"}, 50 in flight, throughput | ${fmt(throughput.off!, 0)}/s | ${fmt(throughput.healthy!, 0)}/s | ${fmt(throughput.broken!, 0)}/s |`);
    }
    const report = await receivers.report();
    log(`| exports received by the healthy backend / tried on the broken ones | — | ${report.healthyExports} | ${report.brokenHits} |`);
    for (const target of Object.values(targets)) await target.close();
  } finally {
    await Promise.all(brokers.map((broker) => broker.stop()));
    receivers.close();
  }
}
