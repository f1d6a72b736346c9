// Prometheus metrics of one broker (prom-client, on a registry of our own). GenAI metric names
// follow the OpenTelemetry conventions as the collector translates them to Prometheus; the rest
// are tollgate_*. Labels are bounded: model, team, status, code, scope; users only when the
// policy turns `telemetry.metrics.userLabel` on.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ExportObserver, ExporterStatus } from "../telemetry/trace-export.js";
import type { DropReason } from "../telemetry/export-queue.js";
import type { RequestTrace } from "../telemetry/request-trace.js";

/** The conventions' buckets: token counts ×4 from 1 to 67,108,864; durations 0.01 s … 81.92 s. */
const TOKEN_BUCKETS = Array.from({ length: 14 }, (_, i) => 4 ** i);
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

export interface MetricsSources {
  /** Read at each scrape. */
  userLabel(): boolean;
  inFlight(): number;
  deployments(): Array<{ model: string; deployment: string; cooling: boolean }>;
  /** Fleet mode: ledger rows not yet shipped to PostgreSQL. */
  outboxRows?: (() => number) | undefined;
  /** The local ledger: records waiting for their commit, whether it can write, refusals it dropped. */
  ledger?: (() => { queued: number; healthy: boolean; refusalsDropped: number }) | undefined;
  exporters(): ExporterStatus[];
}

export interface RefusalFacts {
  kind: "rate_limit" | "budget";
  /** "user alice", "team platform", "team platform, model x". */
  scopeLabel: string;
  limit: string;
  team: string;
}

export function scopeKindOf(scopeLabel: string): "user" | "team" | "team_model" {
  if (scopeLabel.startsWith("user ")) return "user";
  return scopeLabel.includes(", model ") ? "team_model" : "team";
}

export class BrokerMetrics implements ExportObserver {
  readonly registry = new Registry();
  private readonly requests: Counter<string>;
  private readonly tokens: Counter<string>;
  private readonly cost: Counter<string>;
  private readonly tokenUsage: Histogram<string>;
  private readonly duration: Histogram<string>;
  private readonly timeToFirstToken: Histogram<string>;
  private readonly refusals: Counter<string>;
  private readonly refusalsUnrecorded: Counter;
  private readonly fallbacks: Counter<string>;
  private readonly spansExported: Counter<string>;
  private readonly spansDropped: Counter<string>;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    // Label sets are fixed when a metric is made; the user label is always declared, and empty when off.
    this.requests = new Counter({ name: "tollgate_requests_total", help: "Chat completion requests by model asked for, team, HTTP status and error code (refusals included).", labelNames: ["model", "team", "status", "code", "user"], registers });
    this.tokens = new Counter({ name: "tollgate_tokens_total", help: "Tokens by type as Bedrock reported them (input = uncached input; cache_read; cache_write; output), by served model and team. Sums equal the ledger's.", labelNames: ["model", "team", "type", "user"], registers });
    this.cost = new Counter({ name: "tollgate_cost_usd_total", help: "Cost in USD at the served deployment's price, by served model and team.", labelNames: ["model", "team", "user"], registers });
    this.tokenUsage = new Histogram({ name: "gen_ai_client_token_usage", help: "Tokens per request (OTel gen_ai.client.token.usage): input includes cached tokens.", labelNames: ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_response_model", "gen_ai_token_type"], buckets: TOKEN_BUCKETS, registers });
    this.duration = new Histogram({ name: "gen_ai_client_operation_duration_seconds", help: "Whole request duration (OTel gen_ai.client.operation.duration).", labelNames: ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "error_type"], buckets: DURATION_BUCKETS, registers });
    this.timeToFirstToken = new Histogram({ name: "gen_ai_server_time_to_first_token_seconds", help: "Streamed requests: time to the first token (OTel gen_ai.server.time_to_first_token).", labelNames: ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model"], buckets: DURATION_BUCKETS, registers });
    this.refusals = new Counter({ name: "tollgate_limit_refusals_total", help: "Requests refused by a rate limit (429) or budget (402), by the scope and limit that refused.", labelNames: ["kind", "scope", "limit", "team"], registers });
    this.refusalsUnrecorded = new Counter({ name: "tollgate_refusals_unrecorded_total", help: "Refused chat requests left out of the refusal log by its rate cap (a client hammering the broker); still counted in tollgate_requests_total.", registers });
    this.fallbacks = new Counter({ name: "tollgate_fallbacks_total", help: "Failed attempts that moved a request to another deployment or model, by model asked for.", labelNames: ["model"], registers });
    this.spansExported = new Counter({ name: "tollgate_trace_spans_exported_total", help: "Spans the trace exporter delivered.", labelNames: ["exporter"], registers });
    this.spansDropped = new Counter({ name: "tollgate_trace_spans_dropped_total", help: "Spans dropped: queue_full (backend down for long), rejected (a 4xx), retries_exhausted, shutdown.", labelNames: ["exporter", "reason"], registers });
    new Gauge({ name: "tollgate_requests_in_flight", help: "Chat requests being served now.", registers, collect() { this.set(sources.inFlight()); } });
    new Gauge({
      name: "tollgate_deployment_cooling",
      help: "1 while a deployment is cooling down after throttling or failures (skipped by routing), else 0.",
      labelNames: ["model", "deployment"],
      registers,
      collect() {
        this.reset();
        for (const { model, deployment, cooling } of sources.deployments()) this.set({ model, deployment }, cooling ? 1 : 0);
      },
    });
    if (sources.ledger) {
      const ledger = sources.ledger;
      new Gauge({ name: "tollgate_ledger_queue_records", help: "Usage records waiting for (or in) the ledger's next commit; grows only if the disk cannot keep up.", registers, collect() { this.set(ledger().queued); } });
      new Gauge({ name: "tollgate_ledger_healthy", help: "1 while the local ledger commits; 0 after a failed commit (requests are refused with 503 ledger_unavailable until it writes again).", registers, collect() { this.set(ledger().healthy ? 1 : 0); } });
      let counted = 0;
      new Counter({
        name: "tollgate_ledger_refusals_dropped_total",
        help: "Refused requests the ledger could not record (its queue full, or their commit failed).",
        registers,
        collect() {
          const dropped = ledger().refusalsDropped;
          if (dropped > counted) this.inc(dropped - counted);
          counted = dropped;
        },
      });
    }
    if (sources.outboxRows) {
      const rows = sources.outboxRows;
      new Gauge({ name: "tollgate_outbox_rows", help: "Fleet mode: ledger rows committed locally and not yet shipped to PostgreSQL.", registers, collect() { this.set(rows()); } });
    }
    new Gauge({
      name: "tollgate_trace_export_queue_spans",
      help: "Spans waiting to be exported, per exporter.",
      labelNames: ["exporter"],
      registers,
      collect() {
        this.reset();
        for (const exporter of sources.exporters()) this.set({ exporter: exporter.name }, exporter.queued);
      },
    });
    new Gauge({
      name: "tollgate_trace_exporter_configured",
      help: "1 for an exporter that sends, 0 for one disabled or misconfigured (see the broker's log).",
      labelNames: ["exporter", "type"],
      registers,
      collect() {
        this.reset();
        for (const exporter of sources.exporters()) this.set({ exporter: exporter.name, type: exporter.type }, exporter.enabled && !exporter.error ? 1 : 0);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: "tollgate_process_" });
  }

  private userOf(user: string | undefined): string {
    return this.sources.userLabel() ? (user ?? "") : "";
  }

  /** Every chat request, when its response is done (refusals and errors included). */
  countRequest(facts: { model: string; team: string; user: string | undefined; status: number; code: string | null }): void {
    this.requests.inc({ model: facts.model, team: facts.team, status: String(facts.status), code: facts.code ?? "", user: this.userOf(facts.user) });
  }

  /** A request that reached the ledger: its tokens, cost, latency. */
  recordUsage(trace: RequestTrace): void {
    const user = this.userOf(trace.user);
    const base = { model: trace.servedModel, team: trace.team, user };
    const { usage } = trace;
    this.tokens.inc({ ...base, type: "input" }, usage.inputTokens);
    this.tokens.inc({ ...base, type: "cache_read" }, usage.cacheReadTokens);
    this.tokens.inc({ ...base, type: "cache_write" }, usage.cacheWriteTokens);
    this.tokens.inc({ ...base, type: "output" }, usage.outputTokens);
    this.cost.inc(base, trace.costUsd);
    const genai = { gen_ai_operation_name: "chat", gen_ai_provider_name: "aws.bedrock", gen_ai_request_model: trace.requestedModel };
    if (trace.servedModelId) {
      const response = { ...genai, gen_ai_response_model: trace.servedModelId };
      this.tokenUsage.observe({ ...response, gen_ai_token_type: "input" }, usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens);
      this.tokenUsage.observe({ ...response, gen_ai_token_type: "output" }, usage.outputTokens);
    }
    this.duration.observe({ ...genai, error_type: trace.errorCode ?? "" }, (trace.endedAt - trace.startedAt) / 1000);
    if (trace.timeToFirstTokenMs !== null) this.timeToFirstToken.observe(genai, trace.timeToFirstTokenMs / 1000);
    if (trace.fallbacks > 0) this.fallbacks.inc({ model: trace.requestedModel }, trace.fallbacks);
  }

  countRefusal(facts: RefusalFacts): void {
    this.refusals.inc({ kind: facts.kind, scope: scopeKindOf(facts.scopeLabel), limit: facts.limit, team: facts.team });
  }

  countUnrecordedRefusal(): void {
    this.refusalsUnrecorded.inc();
  }

  exported(exporter: string, spans: number): void {
    this.spansExported.inc({ exporter }, spans);
  }

  dropped(exporter: string, spans: number, reason: DropReason): void {
    this.spansDropped.inc({ exporter, reason }, spans);
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
