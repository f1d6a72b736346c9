// What the soak checks once the broker has stopped, and the report it prints. Pure functions of
// what the run collected, so the same logic serves `npm run soak` and the short CI test.
import type { RequestResult } from "./soak-client.js";
import { addUsage, sameUsage, zeroUsage, type CallTracker, type Usage4 } from "./soak-traffic.js";

export interface SoakConfig {
  /** Traffic duration, warm-up included. */
  durationSeconds: number;
  /** Target arrival rate (requests started per second, Poisson arrivals). */
  rps: number;
  /** RSS before this is not judged (heap growth, JIT, caches and windows filling). */
  warmupSeconds: number;
  /** The arrival rate grows linearly to the target over this long (within the warm-up); 0: none. */
  rampSeconds: number;
  /** Length of the two RSS windows compared: the first after warm-up and the last of the run. */
  rssWindowSeconds: number;
  /** Largest accepted growth of the median RSS from the first to the last window (0.1 = 10%). */
  rssGrowthLimit: number;
  /** Requests in flight at most; an arrival beyond it is not sent (and counted). */
  maxInFlight: number;
  seed: number;
  rssSampleMs: number;
  /** A request without a complete answer after this long is aborted and counted as unanswered. */
  requestTimeoutMs: number;
}

export interface RssSample {
  /** Seconds since traffic started. */
  t: number;
  kb: number;
  /** Cumulative CPU seconds at the sample: the broker, this process (load generator + emulator), the whole machine. */
  cpu?: { broker: number; self: number; machine: number };
  /** The load generator's requests in flight at the sample. */
  inFlight?: number;
}

export interface LedgerRow {
  id: string;
  status: string;
  http_status: number;
  error_code: string | null;
  served_model: string;
  input_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
  cost_pico_usd: number;
  usage_estimated: number;
}

export interface SlotSnapshot {
  /** Every `concurrent` limit /v1/me shows, for every user (user, team and team × model scopes). */
  concurrent: Array<{ user: string; scope: string; used: number; max: number }>;
  deployments: Array<{ model: string; deployment: string; inFlight: number; state: string }>;
  /** How long after the last answer the snapshot was taken (polled until all were 0, or gave up). */
  afterMs: number;
}

export interface EmulatorTotalsLike {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
}

export interface RunData {
  config: SoakConfig;
  /** Which broker was measured (commit, uncommitted changes). */
  build?: string;
  results: RequestResult[];
  /** Arrivals the Poisson schedule produced. */
  scheduled: number;
  /** Arrivals not sent because maxInFlight requests were already in flight. */
  notSent: number;
  /** Seconds from the first arrival to the last answer. */
  wallSeconds: number;
  /** How late arrivals were started versus their schedule (the load generator's own lag). */
  launchLagMs: number[];
  maxInFlightSeen: number;
  /** CPU time used while traffic ran, and the machine's 1-minute load average when it ended. */
  cpu: {
    brokerSeconds: number;
    loadGeneratorAndEmulatorSeconds: number;
    /** All cores together, everything on the machine (other work included), from /proc/stat. */
    machineBusySeconds: number;
    machineTotalSeconds: number;
    cores: number;
    loadAverage: number;
  };
  rss: RssSample[];
  slots: SlotSnapshot;
  brokerExitCode: number | null;
  ledger: LedgerRow[];
  tracker: CallTracker;
  /** Calls still running when the broker had exited (should be none). */
  callsStillRunning: number;
  emulator: EmulatorTotalsLike;
}

export interface Check {
  name: string;
  pass: boolean;
  lines: string[];
}

export interface SoakFigures {
  sent: number;
  answered: number;
  byOutcome: Record<string, number>;
  byStatus: Record<string, number>;
  offeredRps: number;
  achievedRps: number;
  latencyMs: { nonStream: Percentiles; streamTotal: Percentiles; streamFirstByte: Percentiles };
  rss: { firstWindowMedianKb: number; lastWindowMedianKb: number; growth: number; minKb: number; maxKb: number };
  ledgerRows: number;
  emulatorTotals: Usage4 & { calls: number };
}

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface SoakReport {
  pass: boolean;
  checks: Check[];
  figures: SoakFigures;
  text: string;
}

/** Refused by the limits before admission: no Bedrock call, no ledger row. */
const REFUSED_CODES = new Set(["rate_limit_exceeded", "budget_exceeded"]);
/** Errors the broker answers after admitting a request, i.e. with a ledger row (README, "Errors"). */
const ADMITTED_ERROR_CODES = new Set([
  "upstream_throttled",
  "upstream_model_not_ready",
  "upstream_unavailable",
  "upstream_error",
  "upstream_timeout",
  "upstream_validation_error",
  "upstream_access_denied",
  "upstream_model_not_found",
  "context_length_exceeded",
  "aws_credentials_unavailable",
]);
/** Answers this soak can legitimately produce after admission (it injects throttling only). */
const EXPECTED_ADMITTED_ERROR_CODES = new Set(["upstream_throttled"]);

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] as number };
}

export function median(values: number[]): number {
  return percentiles(values).p50;
}

const usageOfRow = (row: LedgerRow): Usage4 => ({
  input: row.input_tokens,
  cacheRead: row.cache_read_tokens,
  cacheWrite: row.cache_write_tokens,
  output: row.output_tokens,
});

const fmtUsage = (u: Usage4): string =>
  `input ${u.input.toLocaleString("en-US")}, cache read ${u.cacheRead.toLocaleString("en-US")}, cache write ${u.cacheWrite.toLocaleString("en-US")}, output ${u.output.toLocaleString("en-US")}`;

const minus = (a: Usage4, b: Usage4): Usage4 => ({ input: a.input - b.input, cacheRead: a.cacheRead - b.cacheRead, cacheWrite: a.cacheWrite - b.cacheWrite, output: a.output - b.output });

/** Whether the broker admitted the request, i.e. owes it a ledger row. */
export function admitted(result: RequestResult): boolean {
  if (result.outcome === "no-response") return false;
  // Anything else (a limit, a 4xx before admission, Node's 408 for a request that arrived too slowly)
  // has no row; whether it was expected at all is the load check's business.
  if (result.outcome === "http-error") return result.code !== null && ADMITTED_ERROR_CODES.has(result.code);
  return true;
}

function count<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

export function buildReport(run: RunData): SoakReport {
  const { config, results, ledger, tracker } = run;
  const checks: Check[] = [];
  const rowsById = new Map<string, LedgerRow[]>();
  for (const row of ledger) rowsById.set(row.id, [...(rowsById.get(row.id) ?? []), row]);

  // 0. The load was offered and every request answered.
  {
    const lines: string[] = [];
    const unanswered = results.filter((r) => r.outcome === "no-response" || r.outcome === "truncated");
    const unexpected = results.filter(
      (r) => r.outcome === "stream-error" || (r.outcome === "http-error" && (r.code === null || (!REFUSED_CODES.has(r.code) && !EXPECTED_ADMITTED_ERROR_CODES.has(r.code)))),
    );
    lines.push(`${run.scheduled} arrivals scheduled at ${config.rps}/s over ${config.durationSeconds} s${config.rampSeconds > 0 ? ` (ramping up over the first ${config.rampSeconds} s)` : ""}; ${results.length} sent, ${run.notSent} not sent (in-flight cap ${config.maxInFlight} reached)`);
    const reasons = Object.entries(count(unanswered, (r) => `${r.outcome}: ${(r.detail ?? "").replace(/\d+/g, "N")}`)).sort((a, b) => b[1] - a[1]);
    lines.push(`unanswered (no response, client timeout or cut stream): ${unanswered.length}${reasons.length > 0 ? ` (${reasons.slice(0, 3).map(([why, n]) => `${n}× ${why}`).join("; ")})` : ""}`);
    lines.push(`unexpected answers (anything but 200, a limit's 429/402, or 429 upstream_throttled): ${unexpected.length}${unexpected.length > 0 ? ` e.g. #${unexpected[0]?.seq}: ${unexpected[0]?.status} ${unexpected[0]?.code ?? unexpected[0]?.detail ?? ""}` : ""}`);
    checks.push({ name: "load offered, every request answered as expected", pass: run.notSent === 0 && unanswered.length === 0 && unexpected.length === 0, lines });
  }

  // 1. Memory.
  const warm = run.rss.filter((s) => s.t >= config.warmupSeconds);
  const firstWindow = warm.filter((s) => s.t < config.warmupSeconds + config.rssWindowSeconds).map((s) => s.kb);
  const lastStart = config.durationSeconds - config.rssWindowSeconds;
  const lastWindow = run.rss.filter((s) => s.t >= lastStart && s.t <= config.durationSeconds).map((s) => s.kb);
  const firstMedian = median(firstWindow);
  const lastMedian = median(lastWindow);
  const growth = firstMedian > 0 ? lastMedian / firstMedian - 1 : Number.NaN;
  {
    const enough = firstWindow.length >= 3 && lastWindow.length >= 3 && lastStart >= config.warmupSeconds;
    checks.push({
      name: `broker RSS growth after warm-up < ${(config.rssGrowthLimit * 100).toFixed(0)}%`,
      pass: enough && growth < config.rssGrowthLimit,
      lines: [
        `method: resident memory of the broker process (VmRSS in /proc/<pid>/status; ps where there is no /proc) every ${config.rssSampleMs} ms; the first ${config.warmupSeconds} s are warm-up;`,
        `median of the first ${config.rssWindowSeconds} s after warm-up (${firstWindow.length} samples, t=${config.warmupSeconds}–${config.warmupSeconds + config.rssWindowSeconds} s) vs median of the last ${config.rssWindowSeconds} s (${lastWindow.length} samples, t=${lastStart}–${config.durationSeconds} s)`,
        `${(firstMedian / 1024).toFixed(1)} MiB → ${(lastMedian / 1024).toFixed(1)} MiB: ${(growth * 100).toFixed(2)}%${enough ? "" : " (not enough samples to judge)"}`,
      ],
    });
  }

  // 2. Concurrency slots.
  {
    const busy = run.slots.concurrent.filter((s) => s.used !== 0);
    const inFlight = run.slots.deployments.filter((d) => d.inFlight !== 0);
    checks.push({
      name: "no leaked concurrency slots",
      pass: busy.length === 0 && inFlight.length === 0 && run.slots.concurrent.length > 0 && run.slots.deployments.length > 0,
      lines: [
        `GET /v1/me for all ${new Set(run.slots.concurrent.map((s) => s.user)).size} users, ${run.slots.afterMs} ms after the last answer: ${run.slots.concurrent.length} concurrent limits (user, team, team × model), ${busy.length} with used ≠ 0${busy.length > 0 ? `: ${busy.map((s) => `${s.scope} used ${s.used}`).join(", ")}` : ""}`,
        `GET /admin/deployments: ${run.slots.deployments.length} deployments, ${inFlight.length} with inFlight ≠ 0${inFlight.length > 0 ? `: ${inFlight.map((d) => `${d.model}/${d.deployment} ${d.inFlight}`).join(", ")}` : ""}`,
      ],
    });
  }

  // 3. Ledger rows = requests the broker admitted and answered.
  const admittedResults = results.filter(admitted);
  const refusedResults = results.filter((r) => r.outcome === "http-error" && !admitted(r));
  const unanswered = results.filter((r) => r.outcome === "no-response").length;
  {
    const lines: string[] = [];
    const seenIds = new Map<string, number>();
    for (const r of results) if (r.requestId) seenIds.set(r.requestId, (seenIds.get(r.requestId) ?? 0) + 1);
    const duplicateIds = [...seenIds.values()].filter((n) => n > 1).length;
    // Node answers a few errors itself (408 for a request that arrived too slowly) before the app
    // gives the request an id; no ledger row is owed for those.
    const missingId = results.filter((r) => r.status !== 0 && !r.requestId && admitted(r)).length;
    const notOnce = admittedResults.filter((r) => (rowsById.get(r.requestId ?? "")?.length ?? 0) !== 1);
    const refusedButRecorded = refusedResults.filter((r) => rowsById.has(r.requestId ?? ""));
    const strangers = ledger.filter((row) => !seenIds.has(row.id));
    let statusMismatch = 0;
    let cancelRecordedOk = 0;
    let mismatchExample = "";
    for (const r of admittedResults) {
      const row = rowsById.get(r.requestId ?? "")?.[0];
      if (!row) continue;
      let ok: boolean;
      if (r.outcome === "ok") ok = row.status === "ok" && row.http_status === 200;
      else if (r.outcome === "cancelled") {
        ok = (row.status === "cancelled" && row.http_status === 499) || (row.status === "ok" && row.http_status === 200);
        if (row.status === "ok") cancelRecordedOk += 1;
      } else if (r.outcome === "http-error") ok = row.status === "error" && row.http_status === r.status && row.error_code === r.code;
      else ok = row.status === "error";
      if (!ok) {
        statusMismatch += 1;
        mismatchExample ||= `#${r.seq} client saw ${r.outcome} ${r.status} ${r.code ?? ""}, ledger has ${row.status} ${row.http_status} ${row.error_code ?? ""}`;
      }
    }
    const admittedKinds = count(admittedResults, (r) => (r.outcome === "http-error" ? `${r.status} ${r.code}` : r.outcome === "ok" ? "200" : r.outcome === "cancelled" ? "cancelled mid-stream" : r.outcome));
    lines.push(`answers the broker admitted: ${admittedResults.length} (${Object.entries(admittedKinds).map(([k, v]) => `${k}: ${v}`).join(", ")}); refused by limits before admission: ${refusedResults.length}`);
    lines.push(`ledger rows: ${ledger.length}; admitted answers whose x-request-id is not in the ledger exactly once: ${notOnce.length}${notOnce.length > 0 ? ` (e.g. #${notOnce[0]?.seq} ${notOnce[0]?.requestId})` : ""}`);
    lines.push(
      `refused answers with a ledger row: ${refusedButRecorded.length}; rows whose id no client saw: ${strangers.length}${strangers.length > 0 ? ` (requests without an answer: ${unanswered}; the broker admitted some the client gave up on)` : ""}; duplicate x-request-ids: ${duplicateIds}; admitted answers without x-request-id: ${missingId}`,
    );
    lines.push(`row status matches what the client saw: ${admittedResults.length - statusMismatch - notOnce.length} of ${admittedResults.length}${mismatchExample ? ` (e.g. ${mismatchExample})` : ""}; cancels the broker finished before it noticed (recorded ok): ${cancelRecordedOk}`);
    checks.push({
      name: "ledger rows = requests answered (every x-request-id exactly once)",
      pass: ledger.length === admittedResults.length && notOnce.length === 0 && refusedButRecorded.length === 0 && strangers.length === 0 && duplicateIds === 0 && missingId === 0 && statusMismatch === 0,
      lines,
    });
  }

  // 4. Tokens: ledger (Bedrock-reported rows) = emulator, exactly.
  const emulatorTotals: Usage4 = {
    input: run.emulator.inputTokens,
    cacheRead: run.emulator.cacheReadInputTokens,
    cacheWrite: run.emulator.cacheWriteInputTokens,
    output: run.emulator.outputTokens,
  };
  const ledgerExact = zeroUsage();
  const ledgerEstimated = zeroUsage();
  let estimatedRows = 0;
  const seqById = new Map<string, number>();
  for (const r of results) if (r.requestId) seqById.set(r.requestId, r.seq);
  // Usage the emulator reported for requests whose row carries the broker's estimate instead:
  // a stream cut after Bedrock wrote its usage frame but before the broker read it.
  const reportedOnEstimatedRows = zeroUsage();
  let estimatedRowsWithReport = 0;
  let perRowMismatch = 0;
  let perRowExample = "";
  let exactRows = 0;
  for (const row of ledger) {
    const seq = seqById.get(row.id);
    const emulated = seq === undefined ? undefined : tracker.usageOf(seq);
    if (row.usage_estimated === 1) {
      estimatedRows += 1;
      addUsage(ledgerEstimated, usageOfRow(row));
      if (emulated && (emulated.input || emulated.cacheRead || emulated.cacheWrite || emulated.output)) {
        estimatedRowsWithReport += 1;
        addUsage(reportedOnEstimatedRows, emulated);
      }
      continue;
    }
    exactRows += 1;
    addUsage(ledgerExact, usageOfRow(row));
    if (!emulated || !sameUsage(emulated, usageOfRow(row))) {
      perRowMismatch += 1;
      perRowExample ||= `row ${row.id} (#${seq ?? "?"}): ledger ${fmtUsage(usageOfRow(row))}; emulator ${emulated ? fmtUsage(emulated) : "unknown request"}`;
    }
  }
  const expectedExact = minus(emulatorTotals, reportedOnEstimatedRows);
  const trackerComplete =
    tracker.calls === run.emulator.calls && sameUsage(tracker.totals, emulatorTotals) && tracker.untagged === 0 && run.callsStillRunning === 0;
  {
    checks.push({
      name: "ledger tokens = what the emulator reported, exactly",
      pass: sameUsage(ledgerExact, expectedExact) && perRowMismatch === 0 && trackerComplete,
      lines: [
        `emulator.totals(): ${run.emulator.calls} Bedrock calls; ${fmtUsage(emulatorTotals)}`,
        `ledger, ${exactRows} rows with usage_estimated = 0: ${fmtUsage(ledgerExact)}`,
        `usage the emulator reported for requests whose row is an estimate (stream cut after Bedrock's usage frame was written, before the broker read it): ${estimatedRowsWithReport} requests; ${fmtUsage(reportedOnEstimatedRows)}`,
        `equality: ledger(usage_estimated = 0) = emulator.totals() − that = ${fmtUsage(expectedExact)} → ${sameUsage(ledgerExact, expectedExact) ? "equal" : "NOT EQUAL"}`,
        `per row: ${exactRows - perRowMismatch} of ${exactRows} rows equal the usage the emulator reported for that request's Bedrock call(s)${perRowExample ? ` (e.g. ${perRowExample})` : ""}`,
        `excluded, ${estimatedRows} rows with usage_estimated = 1 (cancelled streams, Bedrock sent no usage; the broker's estimate): ${fmtUsage(ledgerEstimated)}`,
        `attribution: every Bedrock call mapped to its request by the tag in its prompt: ${trackerComplete ? "yes" : `NO (tracked ${tracker.calls} calls, ${tracker.untagged} untagged, ${run.callsStillRunning} still running; tracked usage ${fmtUsage(tracker.totals)})`}`,
      ],
    });
  }

  // 5. Answers: what the client received is what the emulator produced, and the usage it was told is the ledger's.
  {
    const ok = results.filter((r) => r.outcome === "ok");
    const broken = ok.filter((r) => r.answerIntact !== true);
    const withUsage = results.filter((r) => r.usage !== null && r.requestId);
    const usageMismatch = withUsage.filter((r) => {
      const row = rowsById.get(r.requestId ?? "")?.[0];
      return !row || !sameUsage(r.usage as Usage4, usageOfRow(row));
    });
    checks.push({
      name: "answers intact, usage shown to the client = ledger",
      pass: broken.length === 0 && usageMismatch.length === 0,
      lines: [
        `completed answers whose text / tool call is exactly what the emulator sent for that request: ${ok.length - broken.length} of ${ok.length}${broken.length > 0 ? ` (e.g. #${broken[0]?.seq})` : ""}`,
        `answers that reported usage (non-streamed, and streams with include_usage) equal to their ledger row: ${withUsage.length - usageMismatch.length} of ${withUsage.length}`,
      ],
    });
  }

  // 6. The mix really ran.
  {
    const ok = results.filter((r) => r.outcome === "ok");
    const exercised: Array<[string, number]> = [
      ["streamed answers", ok.filter((r) => r.stream).length],
      ["non-streamed answers", ok.filter((r) => !r.stream).length],
      ["tool calls answered", ok.filter((r) => r.intent === "tool-call").length],
      ["agent turns (tool results in history)", ok.filter((r) => r.intent === "agent-turn").length],
      ["streams cancelled mid-way", results.filter((r) => r.outcome === "cancelled").length],
      ["Bedrock calls throttled", tracker.throttled],
      ["answers after a failed attempt (fail-over)", ok.filter((r) => r.failedAttempts > 0).length],
      ["answers by a fallback model", ok.filter((r) => r.servedModel !== null && r.servedModel !== r.model).length],
      ["429 rate_limit_exceeded", results.filter((r) => r.code === "rate_limit_exceeded").length],
      ["ledger rows with cache reads", ledger.filter((row) => row.cache_read_tokens > 0).length],
    ];
    const informational: Array<[string, number]> = [
      ["402 budget_exceeded", results.filter((r) => r.code === "budget_exceeded").length],
      ["429 upstream_throttled (every deployment cooling down)", results.filter((r) => r.code === "upstream_throttled").length],
    ];
    const missing = exercised.filter(([, n]) => n === 0);
    checks.push({
      name: "the traffic mix was exercised",
      pass: missing.length === 0,
      lines: [
        [...exercised, ...informational].map(([name, n]) => `${name}: ${n}`).join("; "),
        ...(missing.length > 0 ? [`never happened: ${missing.map(([name]) => name).join(", ")}`] : []),
      ],
    });
  }

  // 7. Clean shutdown.
  checks.push({
    name: "broker stopped cleanly on SIGTERM",
    pass: run.brokerExitCode === 0,
    lines: [`exit code ${run.brokerExitCode}`],
  });

  const figures: SoakFigures = {
    sent: results.length,
    answered: results.filter((r) => r.outcome !== "no-response").length,
    byOutcome: count(results, (r) => r.outcome),
    byStatus: count(results.filter((r) => r.status !== 0), (r) => (r.status === 200 ? "200" : `${r.status} ${r.code ?? ""}`.trim())),
    offeredRps: run.scheduled / config.durationSeconds,
    achievedRps: results.length / config.durationSeconds,
    latencyMs: {
      nonStream: percentiles(results.filter((r) => !r.stream && r.outcome === "ok").map((r) => r.latencyMs)),
      streamTotal: percentiles(results.filter((r) => r.stream && r.outcome === "ok").map((r) => r.latencyMs)),
      streamFirstByte: percentiles(results.filter((r) => r.stream && r.outcome === "ok" && r.ttfbMs !== null).map((r) => r.ttfbMs as number)),
    },
    rss: {
      firstWindowMedianKb: firstMedian,
      lastWindowMedianKb: lastMedian,
      growth,
      minKb: Math.min(...run.rss.map((s) => s.kb)),
      maxKb: Math.max(...run.rss.map((s) => s.kb)),
    },
    ledgerRows: ledger.length,
    emulatorTotals: { ...emulatorTotals, calls: run.emulator.calls },
  };
  const pass = checks.every((c) => c.pass);
  return { pass, checks, figures, text: formatReport(run, checks, figures, pass) };
}

function fmtP(p: Percentiles): string {
  return `p50 ${p.p50.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms, max ${p.max.toFixed(1)} ms (n=${p.count})`;
}

function timeSeries(run: RunData): string[] {
  // One line per bucket (10 s up to 3 min, else 60 s): the broker's RSS (median of the samples in
  // it), and the requests started in it with their latency to the whole answer.
  const bucket = run.config.durationSeconds <= 180 ? 10 : 60;
  const lines: string[] = [];
  for (let start = 0; start < run.config.durationSeconds; start += bucket) {
    const kb = run.rss.filter((s) => s.t >= start && s.t < start + bucket).map((s) => s.kb);
    const started = run.results.filter((r) => r.startedAtMs >= start * 1000 && r.startedAtMs < (start + bucket) * 1000);
    const latency = percentiles(started.filter((r) => r.outcome === "ok").map((r) => r.latencyMs));
    const label = start < run.config.warmupSeconds ? " (warm-up)" : "";
    // CPU in the bucket, in % of one core: broker / load generator + emulator / everything else on the machine.
    const inBucket = run.rss.filter((s) => s.t >= start && s.t < start + bucket && s.cpu);
    const first = inBucket[0];
    const last = inBucket[inBucket.length - 1];
    let cpu = "";
    if (first?.cpu && last?.cpu && last.t > first.t) {
      const pct = (a: number, b: number): number => ((b - a) / (last.t - first.t)) * 100;
      const broker = pct(first.cpu.broker, last.cpu.broker);
      const self = pct(first.cpu.self, last.cpu.self);
      const others = Math.max(0, pct(first.cpu.machine, last.cpu.machine) - broker - self);
      cpu = `; CPU broker ${broker.toFixed(0)}%, generator ${self.toFixed(0)}%, others ${others.toFixed(0)}%`;
    }
    const inFlightMax = Math.max(0, ...run.rss.filter((s) => s.t >= start && s.t < start + bucket).map((s) => s.inFlight ?? 0));
    const memory = kb.length === 0 ? "no RSS samples" : `RSS median ${(median(kb) / 1024).toFixed(1)} MiB (min ${(Math.min(...kb) / 1024).toFixed(1)}, max ${(Math.max(...kb) / 1024).toFixed(1)})`;
    lines.push(
      `    t=${String(start).padStart(4)}–${String(start + bucket).padEnd(4)} s: ${memory}; ${started.length} requests, ${(started.length / bucket).toFixed(1)}/s, ≤${inFlightMax} in flight, latency p50 ${latency.p50.toFixed(0)} ms p99 ${latency.p99.toFixed(0)} ms${cpu}${label}`,
    );
  }
  return lines;
}

function formatReport(run: RunData, checks: Check[], f: SoakFigures, pass: boolean): string {
  const c = run.config;
  const lag = percentiles(run.launchLagMs);
  const out: string[] = [];
  out.push(`Tollgate soak: ${c.durationSeconds} s at ${c.rps} requests/s (seed ${c.seed}, ramp ${c.rampSeconds} s, warm-up ${c.warmupSeconds} s, in-flight cap ${c.maxInFlight})${run.build ? `; broker ${run.build}` : ""}`);
  out.push("");
  out.push("Figures");
  out.push(`  requests: ${f.sent} sent (${run.notSent} not sent at the cap), ${f.answered} answered; offered ${f.offeredRps.toFixed(1)}/s, sent ${f.achievedRps.toFixed(1)}/s; wall ${run.wallSeconds.toFixed(1)} s; most in flight ${run.maxInFlightSeen}`);
  const others = run.cpu.machineBusySeconds - run.cpu.brokerSeconds - run.cpu.loadGeneratorAndEmulatorSeconds;
  const share = (seconds: number): string => `${((seconds / run.wallSeconds) * 100).toFixed(0)}% of a core`;
  out.push(
    `  CPU while traffic ran: broker ${run.cpu.brokerSeconds.toFixed(1)} s (${share(run.cpu.brokerSeconds)}, ${((run.cpu.brokerSeconds / Math.max(1, f.sent)) * 1000).toFixed(2)} ms per request), load generator + emulator ${run.cpu.loadGeneratorAndEmulatorSeconds.toFixed(1)} s (${share(run.cpu.loadGeneratorAndEmulatorSeconds)}), other processes on the machine ${Number.isFinite(others) ? `${Math.max(0, others).toFixed(1)} s (${share(Math.max(0, others))})` : "unknown"}; machine ${Number.isFinite(run.cpu.machineTotalSeconds) ? `${((run.cpu.machineBusySeconds / run.cpu.machineTotalSeconds) * 100).toFixed(0)}% busy` : "busy unknown"} over ${run.cpu.cores} cores, load average ${run.cpu.loadAverage.toFixed(1)} at the end`,
  );
  out.push(`  load generator lag behind schedule: p50 ${lag.p50.toFixed(1)} ms, p99 ${lag.p99.toFixed(1)} ms, max ${lag.max.toFixed(1)} ms`);
  out.push(`  by outcome: ${Object.entries(f.byOutcome).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  out.push(`  by status: ${Object.entries(f.byStatus).sort().map(([k, v]) => `${k}: ${v}`).join(", ")}`);
  out.push(`  latency, non-streamed (whole answer): ${fmtP(f.latencyMs.nonStream)}`);
  out.push(`  latency, streamed (whole stream):     ${fmtP(f.latencyMs.streamTotal)}`);
  out.push(`  latency, streamed (first byte):       ${fmtP(f.latencyMs.streamFirstByte)}`);
  const answered = run.results.filter((r) => r.outcome === "ok");
  const byModel = [...new Set(answered.map((r) => r.model))].sort().map((model) => {
    const mine = answered.filter((r) => r.model === model);
    const fallback = mine.filter((r) => r.servedModel !== null && r.servedModel !== model).length;
    const failedOver = mine.filter((r) => r.failedAttempts > 0).length;
    return `${model} ${fallback} of ${mine.length} by a fallback model, ${failedOver} after a failed attempt`;
  });
  out.push(`  routing (completed answers): ${byModel.join("; ")}`);
  out.push(`  emulator: ${f.emulatorTotals.calls} Bedrock calls, ${run.tracker.throttled} throttled, ${run.tracker.aborted} aborted; tokens ${fmtUsage(f.emulatorTotals)}`);
  out.push(`  ledger: ${f.ledgerRows} rows, cost $${(run.ledger.reduce((s, r) => s + r.cost_pico_usd, 0) / 1e12).toFixed(2)}`);
  out.push(`  broker RSS: ${run.rss.length} samples, min ${(f.rss.minKb / 1024).toFixed(1)} MiB, max ${(f.rss.maxKb / 1024).toFixed(1)} MiB; over time:`);
  out.push(...timeSeries(run));
  out.push("");
  out.push("Checks");
  for (const check of checks) {
    out.push(`  ${check.pass ? "PASS" : "FAIL"}  ${check.name}`);
    for (const line of check.lines) out.push(`        ${line}`);
  }
  out.push("");
  out.push(pass ? "SOAK PASSED" : `SOAK FAILED: ${checks.filter((c) => !c.pass).map((c) => c.name).join("; ")}`);
  return out.join("\n");
}
