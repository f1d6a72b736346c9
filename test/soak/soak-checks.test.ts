// The soak's checks can fail: a consistent run passes, and each kind of loss or leak the soak is
// meant to catch turns its check to FAIL. Synthetic runs, no processes.
import { describe, expect, it } from "vitest";
import type { RecordedCall } from "../emulator/index.js";
import { buildReport, type LedgerRow, type RunData, type SoakConfig } from "./soak-checks.js";
import type { RequestResult } from "./soak-client.js";
import { CallTracker, tagOf } from "./soak-traffic.js";

const CONFIG: SoakConfig = {
  durationSeconds: 100,
  rps: 1,
  warmupSeconds: 20,
  rampSeconds: 0,
  rssWindowSeconds: 10,
  rssGrowthLimit: 0.1,
  maxInFlight: 10,
  seed: 1,
  rssSampleMs: 1000,
  requestTimeoutMs: 1000,
};

function call(seq: number, usage?: { input: number; output: number; read?: number; write?: number }): RecordedCall {
  return {
    id: `call-${seq}`,
    operation: "converse",
    modelId: "us.anthropic.claude-sonnet-4-20250514-v1:0",
    region: "us-west-2",
    accessKeyId: undefined,
    body: { messages: [{ role: "user", content: [{ text: `hello ${tagOf(seq)}` }] }] },
    receivedAt: 0,
    aborted: usage === undefined,
    finished: usage !== undefined,
    ...(usage
      ? { usage: { inputTokens: usage.input, outputTokens: usage.output, totalTokens: usage.input + usage.output, cacheReadInputTokens: usage.read ?? 0, cacheWriteInputTokens: usage.write ?? 0 } }
      : {}),
  };
}

function result(seq: number, overrides: Partial<RequestResult> = {}): RequestResult {
  return {
    seq,
    user: "alice",
    model: "claude-sonnet-4",
    stream: seq % 2 === 0,
    intent: "chat",
    outcome: "ok",
    status: 200,
    code: null,
    requestId: `req-${seq}`,
    startedAtMs: seq * 1000,
    latencyMs: 50,
    ttfbMs: 20,
    answerIntact: true,
    usage: null,
    servedModel: "claude-sonnet-4",
    failedAttempts: 0,
    ...overrides,
  };
}

function row(seq: number, overrides: Partial<LedgerRow> = {}): LedgerRow {
  return {
    id: `req-${seq}`,
    status: "ok",
    http_status: 200,
    error_code: null,
    served_model: "claude-sonnet-4",
    input_tokens: 100,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    output_tokens: 10,
    cost_pico_usd: 1,
    usage_estimated: 0,
    ...overrides,
  };
}

/** Three answered requests, one cancelled stream (estimated), one refused by a limit: all consistent. */
function consistentRun(): RunData {
  const tracker = new CallTracker(1);
  // Calls in us-west-2 for claude-sonnet-4 are never throttled, so handle() only records them.
  const calls = [call(0, { input: 100, output: 10, read: 50 }), call(1, { input: 100, output: 10 }), call(2, { input: 100, output: 10 }), call(3)];
  for (const c of calls) tracker.handle(c);
  tracker.sweep(true);
  return {
    config: CONFIG,
    results: [
      result(0, { usage: { input: 100, cacheRead: 50, cacheWrite: 0, output: 10 } }),
      result(1, { intent: "tool-call", failedAttempts: 1 }),
      result(2, { intent: "agent-turn", servedModel: "claude-haiku-4-5" }),
      result(3, { intent: "cancel", stream: true, outcome: "cancelled", answerIntact: null }),
      result(4, { outcome: "http-error", status: 429, code: "rate_limit_exceeded", answerIntact: null }),
    ],
    scheduled: 5,
    notSent: 0,
    wallSeconds: 100,
    launchLagMs: [1, 2, 3],
    maxInFlightSeen: 2,
    cpu: { brokerSeconds: 1, loadGeneratorAndEmulatorSeconds: 1, machineBusySeconds: 3, machineTotalSeconds: 200, cores: 2, loadAverage: 0 },
    rss: Array.from({ length: 100 }, (_, t) => ({ t, kb: 100_000 })),
    slots: {
      concurrent: [{ user: "alice", scope: "user alice", used: 0, max: 5 }],
      deployments: [{ model: "claude-sonnet-4", deployment: "usw2", inFlight: 0, state: "healthy" }],
      afterMs: 5,
    },
    brokerExitCode: 0,
    ledger: [row(0, { cache_read_tokens: 50 }), row(1), row(2), row(3, { status: "cancelled", http_status: 499, usage_estimated: 1, input_tokens: 90, output_tokens: 3 })],
    tracker: Object.assign(tracker, { throttled: 1 }),
    callsStillRunning: 0,
    emulator: { calls: 4, inputTokens: 300, outputTokens: 30, cacheReadInputTokens: 50, cacheWriteInputTokens: 0 },
  };
}

function failing(run: RunData): string[] {
  return buildReport(run).checks.filter((c) => !c.pass).map((c) => c.name);
}

describe("soak checks", () => {
  it("a consistent run passes every check", () => {
    const report = buildReport(consistentRun());
    expect(report.checks.filter((c) => !c.pass)).toEqual([]);
    expect(report.pass).toBe(true);
    expect(report.text).toContain("SOAK PASSED");
  });

  it("a lost ledger row fails the row count", () => {
    const run = consistentRun();
    run.ledger = run.ledger.filter((r) => r.id !== "req-1");
    expect(failing(run)).toContain("ledger rows = requests answered (every x-request-id exactly once)");
  });

  it("a row for a refused request, or one no client saw, fails the row count", () => {
    const refused = consistentRun();
    refused.ledger.push(row(4, { status: "error", http_status: 429, error_code: "rate_limit_exceeded", input_tokens: 0, output_tokens: 0 }));
    expect(failing(refused)).toContain("ledger rows = requests answered (every x-request-id exactly once)");
    const stranger = consistentRun();
    stranger.ledger.push(row(99, { input_tokens: 0, output_tokens: 0 }));
    expect(failing(stranger)).toContain("ledger rows = requests answered (every x-request-id exactly once)");
  });

  it("a row whose status disagrees with what the client saw fails", () => {
    const run = consistentRun();
    run.ledger[0] = row(0, { status: "error", http_status: 502 });
    expect(failing(run)).toContain("ledger rows = requests answered (every x-request-id exactly once)");
  });

  it("a token the ledger counted differently from the emulator fails the token check", () => {
    const run = consistentRun();
    run.ledger[1] = row(1, { output_tokens: 11 });
    expect(failing(run)).toContain("ledger tokens = what the emulator reported, exactly");
  });

  it("usage the emulator reported but the broker only estimated is subtracted, and named", () => {
    const run = consistentRun();
    // Request 3's stream: Bedrock wrote its usage frame, but the broker recorded its estimate.
    const tracker = new CallTracker(1);
    for (const c of [call(0, { input: 100, output: 10, read: 50 }), call(1, { input: 100, output: 10 }), call(2, { input: 100, output: 10 }), call(3, { input: 100, output: 50 })]) tracker.handle(c);
    tracker.sweep(true);
    run.tracker = Object.assign(tracker, { throttled: 1 });
    run.emulator = { calls: 4, inputTokens: 400, outputTokens: 80, cacheReadInputTokens: 50, cacheWriteInputTokens: 0 };
    const report = buildReport(run);
    const tokens = report.checks.find((c) => c.name.startsWith("ledger tokens"));
    expect(tokens?.pass).toBe(true);
    expect(tokens?.lines.join("\n")).toMatch(/before the broker read it\): 1 requests; input 100, cache read 0, cache write 0, output 50/);
  });

  it("a busy concurrency slot or a deployment still in flight fails the slot check", () => {
    const user = consistentRun();
    user.slots.concurrent[0]!.used = 1;
    expect(failing(user)).toEqual(["no leaked concurrency slots"]);
    const deployment = consistentRun();
    deployment.slots.deployments[0]!.inFlight = 1;
    expect(failing(deployment)).toEqual(["no leaked concurrency slots"]);
  });

  it("RSS growing past the limit after warm-up fails the memory check", () => {
    const run = consistentRun();
    run.rss = run.rss.map((s) => ({ t: s.t, kb: 100_000 + s.t * 200 }));
    expect(failing(run)).toEqual(["broker RSS growth after warm-up < 10%"]);
  });

  it("a request without an answer, or an unexpected error, fails the load check", () => {
    const unanswered = consistentRun();
    unanswered.results.push(result(5, { outcome: "no-response", status: 0, requestId: null, answerIntact: null }));
    expect(failing(unanswered)).toContain("load offered, every request answered as expected");
    const unexpected = consistentRun();
    unexpected.results.push(result(5, { outcome: "http-error", status: 500, code: "internal_error", answerIntact: null }));
    expect(failing(unexpected)).toContain("load offered, every request answered as expected");
  });

  it("a corrupted answer fails the answers check", () => {
    const run = consistentRun();
    run.results[1]!.answerIntact = false;
    expect(failing(run)).toEqual(["answers intact, usage shown to the client = ledger"]);
  });
});
