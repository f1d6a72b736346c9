// Prometheus /metrics scraped as Prometheus would and parsed with a Prometheus text parser: counters
// equal the ledger; refusals (401, 429) counted by scope; behind the admin token by default.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyHashEntry } from "@tollgate/shared";
import { REPO_ROOT } from "../support/broker-process.js";
import { startHarness, TEST_ADMIN_TOKEN, TEST_KEY, TEST_POLICY, type Harness } from "../support/harness.js";

const LIMITED_KEY = "tg_limited-key-for-metrics-tests-000001";

interface LedgerRow {
  user: string;
  team: string;
  servedModel: string;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  costUsd: number;
  httpStatus: number;
}

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    policy: {
      ...TEST_POLICY,
      teams: { eng: { models: ["*"] }, ops: { models: ["*"] } },
      users: { ...TEST_POLICY.users, lim: { team: "ops", keys: [keyHashEntry(LIMITED_KEY)], limits: { rpm: 1 } } },
    },
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

let lastScrape = "";

async function scrape(): Promise<ReturnType<typeof parsePrometheusTextFormat>> {
  const response = await h.call("/metrics", { token: TEST_ADMIN_TOKEN });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  lastScrape = await response.text();
  return parsePrometheusTextFormat(lastScrape);
}

/**
 * A histogram's `_count` or `_sum` lines with their labels. (The parser flattens labelled histograms
 * into one unlabelled sample, so these few lines are read as Prometheus writes them.)
 */
function histogramLines(text: string, name: string, suffix: "count" | "sum"): Array<{ labels: Record<string, string>; value: number }> {
  return [...text.matchAll(new RegExp(`^${name}_${suffix}\\{([^}]*)\\} (\\S+)$`, "gm"))].map((match) => ({
    labels: Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((label) => [label[1]!, label[2]!])),
    value: Number(match[2]),
  }));
}

function samples(families: ReturnType<typeof parsePrometheusTextFormat>, name: string) {
  return families.find((family) => family.name === name)?.metrics ?? [];
}

function sum(families: ReturnType<typeof parsePrometheusTextFormat>, name: string, labels: Record<string, string>): number {
  return samples(families, name)
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value))
    .reduce((total, sample) => total + Number(sample.value), 0);
}

describe("/metrics", () => {
  it("needs the admin token by default; a user key is refused", async () => {
    expect((await fetch(`${h.broker.url}/metrics`)).status).toBe(401);
    expect((await h.call("/metrics", { token: TEST_KEY })).status).toBe(401);
  });

  it("counts tokens, cost, requests and refusals exactly as the ledger records them", async () => {
    await h.client.chat.completions.create({ model: "claude-sonnet-4", messages: [{ role: "user", content: "one" }] });
    const stream = await h.client.chat.completions.create({ model: "llama3-3-70b", stream: true, messages: [{ role: "user", content: "two, streamed" }] });
    for await (const _chunk of stream) void _chunk;
    const limited = h.clientFor(LIMITED_KEY);
    await limited.chat.completions.create({ model: "claude-sonnet-4", messages: [{ role: "user", content: "three" }] });
    await expect(limited.chat.completions.create({ model: "claude-sonnet-4", messages: [{ role: "user", content: "four" }] })).rejects.toMatchObject({ status: 429 });
    await expect(h.clientFor("tg_nobody-has-this-key-0000000000000").chat.completions.create({ model: "claude-sonnet-4", messages: [{ role: "user", content: "x" }] })).rejects.toMatchObject({ status: 401 });

    const { data: rows } = (await (await h.call("/admin/requests?refused=exclude&limit=100", { token: TEST_ADMIN_TOKEN })).json()) as { data: LedgerRow[] };
    expect(rows).toHaveLength(3);
    const families = await scrape();

    for (const [type, field] of [["input", "inputTokens"], ["cache_read", "cacheReadTokens"], ["cache_write", "cacheWriteTokens"], ["output", "outputTokens"]] as const) {
      for (const model of ["claude-sonnet-4", "llama3-3-70b"]) {
        const ledger = rows.filter((row) => row.servedModel === model).reduce((total, row) => total + row[field], 0);
        expect(sum(families, "tollgate_tokens_total", { type, model }), `${type} ${model}`).toBe(ledger);
      }
    }
    expect(sum(families, "tollgate_tokens_total", { type: "output" })).toBeGreaterThan(0);
    for (const team of ["eng", "ops"]) {
      const ledger = rows.filter((row) => row.team === team).reduce((total, row) => total + row.costUsd, 0);
      expect(sum(families, "tollgate_cost_usd_total", { team })).toBeCloseTo(ledger, 10);
    }
    // No user label unless the policy asks for one.
    expect(samples(families, "tollgate_cost_usd_total").every((sample) => sample.labels?.user === "")).toBe(true);

    expect(sum(families, "tollgate_requests_total", { status: "200" })).toBe(3);
    expect(sum(families, "tollgate_requests_total", { status: "429", team: "ops", model: "claude-sonnet-4", code: "rate_limit_exceeded" })).toBe(1);
    expect(sum(families, "tollgate_requests_total", { status: "401", code: "invalid_api_key" })).toBe(1);
    expect(sum(families, "tollgate_limit_refusals_total", { kind: "rate_limit", scope: "user", limit: "rpm", team: "ops" })).toBe(1);

    expect(families.find((family) => family.name === "gen_ai_client_operation_duration_seconds")?.type).toBe("HISTOGRAM");
    const duration = histogramLines(lastScrape, "gen_ai_client_operation_duration_seconds", "count");
    expect(duration.reduce((total, line) => total + line.value, 0)).toBe(3);
    const ttft = histogramLines(lastScrape, "gen_ai_server_time_to_first_token_seconds", "count");
    expect(ttft.map((line) => [line.labels.gen_ai_request_model, line.value])).toEqual([["llama3-3-70b", 1]]);
    const outputTokens = histogramLines(lastScrape, "gen_ai_client_token_usage", "sum").filter((line) => line.labels.gen_ai_token_type === "output");
    expect(outputTokens.reduce((total, line) => total + line.value, 0)).toBe(rows.reduce((total, row) => total + row.outputTokens, 0));

    expect(samples(families, "tollgate_requests_in_flight")[0]?.value).toBe("0");
    expect(samples(families, "tollgate_ledger_queue_records")[0]?.value).toBe("0");
    expect(samples(families, "tollgate_ledger_healthy")[0]?.value).toBe("1");
    expect(samples(families, "tollgate_ledger_refusals_dropped_total")[0]?.value).toBe("0");
    expect(samples(families, "tollgate_deployment_cooling").map((sample) => sample.labels?.deployment).sort()).toEqual(["use1", "use1", "usw2"]);
  });

  it("the Grafana dashboard in deploy/ queries only metrics the broker exposes", async () => {
    const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, "deploy/grafana-dashboard.json"), "utf8")) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
    expect(exprs.length).toBeGreaterThan(10);
    const used = new Set(exprs.flatMap((expr) => [...expr.matchAll(/\b((?:tollgate|gen_ai)_[a-z_]+)/g)].map((match) => match[1]!.replace(/_(bucket|count|sum)$/, ""))));
    const exposed = new Set((await scrape()).map((family) => family.name));
    // Fleet mode's outbox gauge only exists on a fleet broker.
    exposed.add("tollgate_outbox_rows");
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
  });

  it("labels by user once the policy turns it on, and --metrics open serves it without a token", async () => {
    const open = await startHarness({ policy: { ...TEST_POLICY, telemetry: { metrics: { userLabel: true } } }, brokerArgs: ["--metrics", "open"] });
    try {
      await open.client.chat.completions.create({ model: "claude-sonnet-4", messages: [{ role: "user", content: "hi" }] });
      const response = await fetch(`${open.broker.url}/metrics`);
      expect(response.status).toBe(200);
      const families = parsePrometheusTextFormat(await response.text());
      expect(sum(families, "tollgate_requests_total", { user: "tester", status: "200" })).toBe(1);
    } finally {
      await open.close();
    }
  });
});
