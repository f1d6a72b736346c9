// npm run soak [-- --minutes 10 --rps 200 ...]: the load and soak run (docs/reliability.md).
// Flags win over the environment (SOAK_MINUTES, SOAK_RPS, ...); the defaults are the recorded run.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_CONFIG, runSoak, type SoakConfig } from "./run-soak.js";

const HELP = `npm run soak -- [options]

  --minutes N          traffic duration, warm-up included (default 10; SOAK_MINUTES)
  --seconds N          the same in seconds (SOAK_SECONDS)
  --rps N              target arrival rate, requests/s, Poisson arrivals (default 200; SOAK_RPS)
  --warmup-seconds N   RSS before this is not judged (default: 20% of the duration, 30–120 s; SOAK_WARMUP_SECONDS)
  --ramp-seconds N     the rate grows linearly to --rps over this long, within the warm-up (default: a quarter of it; SOAK_RAMP_SECONDS)
  --window-seconds N   length of the first and last RSS windows compared (default: 60, or 10% of a shorter run; SOAK_WINDOW_SECONDS)
  --rss-growth PCT     largest accepted RSS growth, percent (default 10; SOAK_RSS_GROWTH)
  --max-in-flight N    in-flight cap of the load generator (default 500; SOAK_MAX_IN_FLIGHT)
  --seed N             traffic mix seed (default 1; SOAK_SEED)
  --json FILE          also write the report (checks and figures) as JSON
  --keep-data          keep the broker's data dir (the ledger) and print where it is
`;

function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: "string" },
      seconds: { type: "string" },
      rps: { type: "string" },
      "warmup-seconds": { type: "string" },
      "ramp-seconds": { type: "string" },
      "window-seconds": { type: "string" },
      "rss-growth": { type: "string" },
      "max-in-flight": { type: "string" },
      seed: { type: "string" },
      json: { type: "string" },
      "keep-data": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return Promise.resolve();
  }
  const number = (flag: string | undefined, env: string, fallback: number, zero: "zero allowed" | "positive" = "positive"): number => {
    const raw = flag ?? process.env[env];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0 || (value === 0 && zero === "positive")) throw new Error(`${env}: not a ${zero === "positive" ? "positive" : "non-negative"} number: ${raw}`);
    return value;
  };
  const seconds =
    values.seconds !== undefined || process.env.SOAK_SECONDS
      ? number(values.seconds, "SOAK_SECONDS", 600)
      : number(values.minutes, "SOAK_MINUTES", DEFAULT_CONFIG.durationSeconds / 60) * 60;
  const durationSeconds = Math.round(seconds);
  const warmupSeconds = number(values["warmup-seconds"], "SOAK_WARMUP_SECONDS", Math.min(120, Math.max(30, Math.round(durationSeconds * 0.2))));
  const rssWindowSeconds = number(values["window-seconds"], "SOAK_WINDOW_SECONDS", Math.min(60, Math.max(10, Math.round(durationSeconds * 0.1))));
  if (warmupSeconds + rssWindowSeconds > durationSeconds - rssWindowSeconds) {
    throw new Error(`a ${durationSeconds} s run cannot hold a ${warmupSeconds} s warm-up and two ${rssWindowSeconds} s RSS windows`);
  }
  const config: SoakConfig = {
    ...DEFAULT_CONFIG,
    durationSeconds,
    rps: number(values.rps, "SOAK_RPS", DEFAULT_CONFIG.rps),
    warmupSeconds,
    rampSeconds: number(values["ramp-seconds"], "SOAK_RAMP_SECONDS", Math.round(warmupSeconds / 4), "zero allowed"),
    rssWindowSeconds,
    rssGrowthLimit: number(values["rss-growth"], "SOAK_RSS_GROWTH", DEFAULT_CONFIG.rssGrowthLimit * 100) / 100,
    maxInFlight: number(values["max-in-flight"], "SOAK_MAX_IN_FLIGHT", DEFAULT_CONFIG.maxInFlight),
    seed: number(values.seed, "SOAK_SEED", DEFAULT_CONFIG.seed),
  };
  const log = (line: string): void => {
    process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  };
  if (config.rampSeconds > config.warmupSeconds) throw new Error(`the ramp (${config.rampSeconds} s) must end within the warm-up (${config.warmupSeconds} s)`);
  log(`${config.durationSeconds} s at ${config.rps} requests/s; ramp ${config.rampSeconds} s, warm-up ${config.warmupSeconds} s, RSS windows ${config.rssWindowSeconds} s, growth limit ${config.rssGrowthLimit * 100}%`);
  return runSoak(config, { log, keepData: values["keep-data"] === true }).then((report) => {
    process.stdout.write(`${report.text}\n`);
    if (values.json) writeFileSync(values.json, `${JSON.stringify({ config, pass: report.pass, checks: report.checks, figures: report.figures }, null, 2)}\n`);
    process.exitCode = report.pass ? 0 : 1;
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 2;
});
